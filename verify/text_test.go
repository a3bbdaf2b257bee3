package verify

import (
	"strings"
	"testing"
	"unicode"
)

// TestPrintable: the last guard escapes whatever a terminal would act on
// or hide, cuts floods, and leaves its own output alone.
func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain ✓ text, \"quoted\" and \\x1b": "plain ✓ text, \"quoted\" and \\x1b",
		"line\nforged\r\tcell":               `line\nforged\r\tcell`,
		"\x1b[2Kgone\x07":                    `\x1b[2Kgone\a`,
		"abc\u202edef\u2066\u200b":           `abc\u202edef\u2066\u200b`,
		"bad \xff\xfe utf-8":                 `bad \xff\xfe utf-8`,
		"line\u2028separator\u0085":          `line\u2028separator\u0085`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
	flood := strings.Repeat("\x1bx", 5000)
	once := printable(flood)
	if n := len([]rune(once)); n > maxDetail+1 || !strings.HasSuffix(once, "…") {
		t.Errorf("a flood comes out as %d runes ending %q", n, once[len(once)-8:])
	}
	if printable(once) != once {
		t.Error("printable is not idempotent on a cut flood")
	}
	if strings.IndexFunc(once, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		t.Error("unprintable rune left")
	}
}

// TestQuote: one network string, quoted and cut at maxQuoted runes.
func TestQuote(t *testing.T) {
	if got := quote("a\nb\u202e"); got != `"a\nb\u202e"` {
		t.Errorf("quote: %s", got)
	}
	long := strings.Repeat("é", 300)
	if got := quote(long); got != `"`+strings.Repeat("é", maxQuoted)+`"… (600 bytes)` {
		t.Errorf("quote of 300 runes: %s", got)
	}
	if got := word("Pending"); got != "Pending" {
		t.Errorf("word: %s", got)
	}
	if got := word("Pending\x1b[0m"); got != `"Pending\x1b[0m"` {
		t.Errorf("word: %s", got)
	}
}
