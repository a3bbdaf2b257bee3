package testutil

import (
	"strings"
	"testing"
)

// UnitWords splits a unit line's value into words as systemd does for the
// values swarmboot writes: double quotes group, '\' escapes, and
// specifiers resolve ("%%" is '%'; any other specifier fails the test, as
// it would change the value).
func UnitWords(t testing.TB, v string) []string {
	t.Helper()
	var words []string
	var b strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && i+1 < len(v):
			i++
			b.WriteByte(v[i])
			inWord = true
		case c == '"':
			quoted, inWord = !quoted, true
		case c == ' ' && !quoted:
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		case c == '%':
			if i+1 >= len(v) || v[i+1] != '%' {
				t.Fatalf("unit value %q has the specifier %q", v, v[i:min(i+2, len(v))])
			}
			i++
			b.WriteByte('%')
			inWord = true
		default:
			b.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, b.String())
	}
	return words
}
