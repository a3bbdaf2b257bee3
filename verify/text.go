package verify

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text that came from the network is never printed as it came: a server
// could otherwise forge table lines and a "healthy" summary with newlines,
// move the cursor with ANSI sequences, or reorder what a terminal shows
// with bidi overrides.

// maxQuoted is how much of one network string a report shows, in runes.
const maxQuoted = 100

// quote shows a string from the network: Go-quoted, so control
// characters, format characters (bidi overrides, zero-width) and invalid
// UTF-8 are escaped, and cut at maxQuoted runes.
func quote(s string) string {
	cut := cutRunes(s, maxQuoted)
	if len(cut) == len(s) {
		return strconv.Quote(s)
	}
	return strconv.Quote(cut) + fmt.Sprintf("… (%d bytes)", len(s))
}

// word shows a short plain word from the network (a status, a role) as it
// is, and anything else quoted.
func word(s string) string {
	if s != "" && len(s) <= 32 && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" .:_-+~", r))
	}) < 0 {
		return s
	}
	return quote(s)
}

// cutRunes is s cut to at most n runes, at a rune boundary (invalid bytes
// count as one rune each).
func cutRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// maxDetail bounds one check's detail, in runes.
const maxDetail = 2000

// printable is the last guard before a check leaves verify: every rune a
// terminal would not print as one visible character (control and format
// characters, invalid UTF-8) is escaped, and the text is cut at maxDetail
// runes. Printable text comes back unchanged, so applying it twice is
// applying it once.
func printable(s string) string {
	var b strings.Builder
	n := 0 // runes written
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		out := s[i : i+size]
		switch {
		case r == utf8.RuneError && size == 1:
			out = fmt.Sprintf(`\x%02x`, s[i])
		case !unicode.IsPrint(r):
			q := strconv.QuoteRune(r) // '\n', '\x1b', '\u202e'
			out = q[1 : len(q)-1]
		}
		if w := utf8.RuneCountInString(out); n+w <= maxDetail {
			b.WriteString(out)
			n += w
		} else {
			b.WriteString("…")
			break
		}
		i += size
	}
	return b.String()
}
