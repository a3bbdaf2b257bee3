package cluster

import (
	"fmt"
	"sort"
	"strings"
)

// Severity tells an error from a warning.
type Severity int

const (
	Error Severity = iota
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Pos is a 1-based line and column in the description.
type Pos struct{ Line, Col int }

// Entry is one finding: where, what kind, and a message that says what to do.
type Entry struct {
	Severity Severity
	Path     string // JSONPath-like, e.g. $.nodes[3].ip
	Pos      Pos
	Kind     error // one of the sentinel errors
	Message  string
	File     string // set when the finding is in another file (a snippet)
	// Repeats counts further warnings of this kind at this path (one per
	// node, say), folded into this entry instead of flooding the report.
	Repeats int
}

// Report collects the findings of loading and validating one description.
type Report struct {
	File    string
	Entries []Entry
	warned  map[string]int // kind and path of a warning -> its entry
}

// maxEntries bounds a report: past it, more findings only hide the first.
const maxEntries = 100

func (r *Report) add(sev Severity, path string, pos Pos, kind error, format string, args ...any) {
	key := kind.Error() + "\x00" + path
	if i, ok := r.warned[key]; ok && sev == Warning {
		r.Entries[i].Repeats++
		return
	}
	switch {
	case len(r.Entries) == maxEntries:
		r.Entries = append(r.Entries, Entry{Severity: Error, Pos: pos, Kind: ErrTooMany,
			Message: fmt.Sprintf("more than %d problems; fix these first, the rest are not shown", maxEntries)})
		return
	case len(r.Entries) > maxEntries:
		return
	}
	if sev == Warning {
		if r.warned == nil {
			r.warned = map[string]int{}
		}
		r.warned[key] = len(r.Entries)
	}
	r.Entries = append(r.Entries, Entry{
		Severity: sev, Path: path, Pos: pos, Kind: kind,
		Message: fmt.Sprintf(format, args...),
	})
}

// IsFatal reports whether the report holds an error, or, when strict, any
// finding at all.
func (r *Report) IsFatal(strict bool) bool {
	for _, e := range r.Entries {
		if e.Severity == Error || strict {
			return true
		}
	}
	return false
}

// merge adds the entries of a report on another file.
func (r *Report) merge(other *Report) {
	for _, e := range other.Entries {
		if e.File == "" {
			e.File = other.File
		}
		r.Entries = append(r.Entries, e)
	}
}

// full reports whether the report has stopped taking entries.
func (r *Report) full() bool { return len(r.Entries) > maxEntries }

// sort orders entries by position, so output follows the file; the
// "too many" note stays last.
func (r *Report) sort() {
	sort.SliceStable(r.Entries, func(i, j int) bool {
		if r.Entries[i].Kind == ErrTooMany || r.Entries[j].Kind == ErrTooMany {
			return r.Entries[j].Kind == ErrTooMany && r.Entries[i].Kind != ErrTooMany
		}
		a, b := r.Entries[i].Pos, r.Entries[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// String formats one entry as "file:line:col: error at $.path: message".
func (r *Report) format(e Entry) string {
	var b strings.Builder
	file := r.File
	if e.File != "" {
		file = e.File
	}
	fmt.Fprintf(&b, "%s:%d:%d: %s", file, e.Pos.Line, e.Pos.Col, e.Severity)
	if e.Path != "" {
		fmt.Fprintf(&b, " at %s", e.Path)
	}
	fmt.Fprintf(&b, ": %s", e.Message)
	if e.Repeats > 0 {
		fmt.Fprintf(&b, " (and %d more like it)", e.Repeats)
	}
	return b.String()
}

// String formats every entry, one a line.
func (r *Report) String() string {
	var b strings.Builder
	for _, e := range r.Entries {
		b.WriteString(r.format(e))
		b.WriteByte('\n')
	}
	return b.String()
}

// Err returns the report as an error when it is fatal, else nil.
func (r *Report) Err(strict bool) error {
	if !r.IsFatal(strict) {
		return nil
	}
	return &InvalidError{Report: r}
}

// InvalidError is returned when a description fails to load or validate.
type InvalidError struct{ Report *Report }

func (e *InvalidError) Error() string { return strings.TrimRight(e.Report.String(), "\n") }

// Unwrap lets errors.Is find the kinds of the entries.
func (e *InvalidError) Unwrap() []error {
	kinds := make([]error, 0, len(e.Report.Entries))
	for _, en := range e.Report.Entries {
		kinds = append(kinds, en.Kind)
	}
	return kinds
}
