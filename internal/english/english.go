// Package english says counts the way people write them: "1 file",
// "3 files", "2 entries". Every message that counts uses it, so none says
// "1 file(s)" or "1 entries".
package english

import (
	"fmt"
	"strings"
)

// Count is n and the noun, singular for one: "1 node", "3 nodes".
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %s", n, Plural(noun))
}

// Plural is the noun's plural: a consonant and y takes -ies (entry), a
// sibilant -es (address), the rest -s.
func Plural(noun string) string {
	switch {
	case strings.HasSuffix(noun, "y") && len(noun) > 1 && !strings.ContainsRune("aeiou", rune(noun[len(noun)-2])):
		return noun[:len(noun)-1] + "ies"
	case strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "x"), strings.HasSuffix(noun, "sh"), strings.HasSuffix(noun, "ch"):
		return noun + "es"
	}
	return noun + "s"
}

// List names the first max items and counts the rest: "a, b and 3 more".
func List(items []string, max int) string {
	if len(items) <= max {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:max], ", ") + fmt.Sprintf(" and %d more", len(items)-max)
}

// Verb agrees a present-tense verb with a count: "holds" for one, "hold"
// for more (singular given).
func Verb(n int, singular string) string {
	if n == 1 {
		return singular
	}
	return strings.TrimSuffix(singular, "s")
}
