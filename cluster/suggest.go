package cluster

import (
	"fmt"
	"strings"
)

// suggest returns `; did you mean "x"?` for the closest known word, or a
// list of the known words when none is close.
func suggest(got string, known []string) string {
	if best, ok := closest(got, known); ok {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return fmt.Sprintf("; use one of: %s", strings.Join(known, ", "))
}

// closest is the known word nearest to got, if one is near enough to be
// what was meant.
func closest(got string, known []string) (string, bool) {
	best, bestDist := "", len(got)/2+2
	for _, k := range known {
		if d := editDistance(strings.ToLower(got), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best, best != ""
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
