package boottest

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

var (
	ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\r`)
	// systemd's words for a unit that failed, in the journal.
	failedUnit = regexp.MustCompile(`systemd\[1\]: (?:Failed to start ([\w@.\\-]+)|([\w@.\\-]+\.(?:service|socket|mount)): (?:Failed with result|Main process exited, code=exited, status=[1-9]))`)
)

// readLines returns the file's lines without terminal escapes.
func readLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return []string{fmt.Sprintf("(%v)", err)}
	}
	return strings.Split(strings.TrimRight(ansi.ReplaceAllString(string(b), ""), "\n"), "\n")
}

func lastN(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

// FailedUnits lists the units the journal says failed, in first-seen order.
func FailedUnits(journal []string) []string {
	var units []string
	for _, l := range journal {
		m := failedUnit.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		u := m[1] + m[2]
		if !slices.Contains(units, u) {
			units = append(units, u)
		}
	}
	return units
}

// Diagnose describes a VM for a failure report: the tail of its serial
// console, the units that failed with their journal lines (systemd's and
// the unit's own processes'), and the tail of its journal.
func Diagnose(v *VM) string {
	var b strings.Builder
	fmt.Fprintf(&b, "===== %s: serial console (last 30 lines of %s)\n", v.Name, v.Console())
	for _, l := range lastN(readLines(v.Console()), 30) {
		fmt.Fprintln(&b, "  ", l)
	}
	journal := readLines(v.Journal())
	failed := FailedUnits(journal)
	fmt.Fprintf(&b, "===== %s: failed units: %v\n", v.Name, failed)
	for _, u := range failed {
		base := strings.TrimSuffix(strings.TrimSuffix(u, ".service"), ".socket")
		var hits []string
		for _, l := range journal {
			if strings.Contains(l, u) || strings.Contains(l, "] "+base+"[") {
				hits = append(hits, l)
			}
		}
		fmt.Fprintf(&b, "----- %s: journal of %s (last 25 lines)\n", v.Name, u)
		for _, l := range lastN(hits, 25) {
			fmt.Fprintln(&b, "  ", l)
		}
	}
	fmt.Fprintf(&b, "===== %s: journal (last 40 lines of %s)\n", v.Name, v.Journal())
	for _, l := range lastN(journal, 40) {
		fmt.Fprintln(&b, "  ", l)
	}
	return b.String()
}
