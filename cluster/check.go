package cluster

import (
	"fmt"
	"slices"
	"strings"
)

// A key's own rules run as the decoder walks the tables, right after the
// key's value is decoded, so each finding stands at the path and position
// of the walk. They check what the description wrote: a default is valid
// by construction (TestDefaultsKeepTheirRules), and a computed one
// derives from keys whose rules already ran.

// problem is what is wrong with one value; the walk adds where it stands.
type problem struct {
	kind error
	msg  string
}

// invalid is the problem of a value its key's grammar does not accept.
func invalid(format string, args ...any) *problem {
	return &problem{ErrInvalidValue, fmt.Sprintf(format, args...)}
}

// checkKey runs the rules of the key s at path, which the description
// wrote: the ones its row declares, then its value's own.
func (d *decoder) checkKey(s *setting, path string) {
	if d.failed[path] || (s.unset(true) && !s.nonEmpty) {
		return
	}
	switch v := s.v.dst.(type) {
	case *string:
		d.reject(path, s.checkWord(*v))
	case *int:
		if s.rng != nil && (*v < s.rng.min || *v > s.rng.max) {
			d.reject(path, &problem{ErrOutOfRange, fmt.Sprintf(s.rng.msg, *v)})
		}
	case *[]string:
		d.checkItems(s, path, *v)
	}
	if s.v.check != nil {
		d.reject(path, s.v.check())
	}
}

// checkWord checks a string, or one item of a list of strings, against
// the row's enum and syntax.
func (s *setting) checkWord(w string) *problem {
	if words, ok := s.enum.([]string); ok && !slices.Contains(words, w) {
		noun := s.noun
		if noun == "" {
			noun = s.name
		}
		return &problem{ErrUnknownValue, fmt.Sprintf("unknown %s %q%s", noun, w, suggest(w, words))}
	}
	if s.syntax != nil {
		return s.syntax.check(w)
	}
	return nil
}

// longList is where scanning back for a repeated item gets slower than a
// set: a node's roles stay below it, a hostile list of names does not.
const longList = 16

// checkItems checks each item of a list of strings, and that none
// repeats when the row says so (an unknown item is not also a repeat).
func (d *decoder) checkItems(s *setting, path string, items []string) {
	var seen map[string]bool
	if s.unique && len(items) > longList {
		seen = make(map[string]bool, len(items))
	}
	for i, item := range items {
		p := s.checkWord(item)
		if s.unique {
			var repeated bool
			if seen != nil {
				repeated = seen[item]
				seen[item] = true
			} else {
				repeated = slices.Contains(items[:i], item)
			}
			if p == nil && repeated {
				p = &problem{ErrDuplicate, fmt.Sprintf("%s %q is listed twice", s.noun, item)}
			}
		}
		if p != nil {
			d.reject(fmt.Sprintf("%s[%d]", path, i), p)
		}
	}
}

// checkRequired reports each required key of a mapping that is unset,
// at the mapping: its message says what to add there.
func (d *decoder) checkRequired(fields []setting, path string, written map[string]bool) {
	for i := range fields {
		if s := &fields[i]; s.required && s.unset(written[s.name]) {
			d.report(path, &problem{ErrRequired, s.missing})
		}
	}
}

// reject reports the problem of the value at path and remembers that it
// broke its own rules.
func (d *decoder) reject(path string, p *problem) {
	if p == nil {
		return
	}
	if d.rejected == nil {
		d.rejected = map[string]bool{}
	}
	d.rejected[path] = true
	d.report(path, p)
}

// report adds a finding at path, unless the value there (or one inside
// it) failed to decode: that was reported, and more would repeat it.
func (d *decoder) report(path string, p *problem) {
	if !failedAt(d.failed, path) {
		d.rep.add(Error, path, d.pos[path], p.kind, "%s", p.msg)
	}
}

// failedAt reports whether the value at path, or one inside it, failed to
// decode. The whole description ("$") counts only itself, so rules about
// the file as a whole still speak.
func failedAt(failed map[string]bool, path string) bool {
	if path == "$" {
		return failed[path]
	}
	for p := range failed {
		if p == path || strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"[") {
			return true
		}
	}
	return false
}
