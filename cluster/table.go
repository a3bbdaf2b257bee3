package cluster

import (
	"reflect"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// The settings tables (settings.go) are the one list of the description's
// keys, and everything about a key that needs only the key itself is in
// its row:
//   - decoding: decode.go walks the YAML by the rows, types and all;
//   - its own rules: check.go runs those the row declares (enum, syntax,
//     range, unique, required) and those its value carries, at the path
//     and position of the walk;
//   - its default: defaults.go fills an unset key from its row;
//   - its documentation: GenerateSchema writes the JSON Schema from the
//     rows, and tests hold the starter and the README's key table to them.
// Rules that compare several keys are validate.go's; they name a key by
// the field it decodes into (paths.go), never by a typed path.

// setting is one key of a mapping.
type setting struct {
	name string
	v    value
	doc  string // one line, the schema's description

	// Absence. A key is unset when the description does not write it or,
	// for a kind whose zero value is no value (an empty name, list or
	// duration), writes it empty; 0 and false are values.
	required bool       // an unset key is an error, reported at the mapping
	missing  string     // that error's message: what to write
	def      any        // the default of an unset key; the schema and README show it
	derive   func() any // a default computed from keys above this one, which are final by then; def, if given, is its usual value

	// Rules on the written value. Unset keys have nothing to check, unless
	// nonEmpty: then writing the key empty is itself the mistake.
	enum     any      // the values accepted (a list's items'): []string; an []int (version) is the schema's, and the value's own rule speaks for it
	noun     string   // names one value in messages ("unknown role"); default the key's name
	syntax   *grammar // what a string (a list's items) must look like
	rng      *bounds  // an integer's range
	unique   bool     // a list's items may not repeat
	nonEmpty bool
}

// value is how the decoder reads one value, and its JSON shape.
type value struct {
	decode  func(n *yaml.Node, path string)
	dst     any    // what decode fills: a pointer to the field (to the struct, for an object)
	json    string // string, integer, boolean, array or object
	pattern string // what the decoder itself insists on (MAC, duration)
	items   *value
	fields  []setting // an object's keys
	ref     string    // an object table shared by several keys: a $defs entry

	zeroIsValue bool                    // 0 and false are values: only absence leaves the key unset
	check       func() *problem         // the value's own rule, beyond what its row declares
	each        func(visit func(i int)) // a list of objects: binds items' table to each element in turn
}

// bounds is an inclusive range of whole numbers, and what Load says of a
// number outside it (%d: the number).
type bounds struct {
	min, max int
	msg      string
}

// grammar is what a string must look like: the pattern the schema states
// (nil: none), and the check Load runs, which may be stricter than a
// pattern can say (a clean path, a key that decodes).
type grammar struct {
	pattern *regexp.Regexp
	check   func(s string) *problem
}

// matching is the grammar that is exactly its pattern; msg says what is
// wrong with a value that does not match (%q: the value).
func matching(re *regexp.Regexp, msg string) *grammar {
	return &grammar{pattern: re, check: func(s string) *problem {
		if re.MatchString(s) {
			return nil
		}
		return invalid(msg, s)
	}}
}

// unset reports whether the key holds no value (see setting); written
// says whether the description wrote it.
func (s *setting) unset(written bool) bool {
	if s.v.zeroIsValue {
		return !written
	}
	return reflect.ValueOf(s.v.dst).Elem().IsZero() // a list written empty stays nil
}

// hasDefault reports whether the row fills its key when unset.
func (s *setting) hasDefault() bool { return s.def != nil || s.derive != nil }

// applyDefault stores the value an unset key takes.
func (s *setting) applyDefault() {
	def := s.def
	if s.derive != nil {
		def = s.derive()
	}
	reflect.ValueOf(s.v.dst).Elem().Set(reflect.ValueOf(def))
}

// firstBroken runs rules on *dst in order and returns what the first
// broken one says; nil rules make no check.
func firstBroken[T any](dst *T, rules []func(T) *problem) func() *problem {
	if len(rules) == 0 {
		return nil
	}
	return func() *problem {
		for _, r := range rules {
			if p := r(*dst); p != nil {
				return p
			}
		}
		return nil
	}
}

// settingPaths lists every key path of the tables in table order, as the
// starter and the README name them: "etcd.client_port", "nodes[].name".
// A shared table (snippets) is spelled out where it first appears; later
// keys that use it are listed as themselves ("nodes[].snippets").
func settingPaths() []pathSetting {
	var out []pathSetting
	seen := map[string]bool{}
	var walk func(prefix string, settings []setting)
	walk = func(prefix string, settings []setting) {
		for _, s := range settings {
			p := prefix + s.name
			out = append(out, pathSetting{p, s})
			v := s.v
			if v.json == "array" && v.items != nil && v.items.json == "object" {
				p += "[]"
				v = *v.items
			}
			if v.json != "object" || (v.ref != "" && seen[v.ref]) {
				continue
			}
			seen[v.ref] = v.ref != ""
			walk(p+".", v.fields)
		}
	}
	walk("", (&decoder{}).clusterSettings(new(Cluster)))
	return out
}

type pathSetting struct {
	path string
	setting
}

// leaf reports whether the setting holds no table the paths spell out.
func (p pathSetting) leaf(paths []pathSetting) bool {
	for _, q := range paths {
		if strings.HasPrefix(q.path, p.path+".") || strings.HasPrefix(q.path, p.path+"[].") {
			return false
		}
	}
	return true
}
