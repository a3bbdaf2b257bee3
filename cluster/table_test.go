package cluster

import (
	"reflect"
	"strings"
	"testing"
)

// rows calls fn for every row of the tables bound to c, with its path
// below "$" ("nodes[].name"); node rows are bound to a scratch Node.
func rows(c *Cluster, fn func(path string, s *setting)) {
	var walk func(prefix string, fields []setting)
	walk = func(prefix string, fields []setting) {
		for i := range fields {
			s := &fields[i]
			p := prefix + s.name
			fn(p, s)
			switch {
			case s.v.fields != nil:
				walk(p+".", s.v.fields)
			case s.v.items != nil && s.v.items.fields != nil:
				walk(p+"[].", s.v.items.fields)
			}
		}
	}
	walk("", (&decoder{}).clusterSettings(c))
}

// TestRowsDeclareWhatTheirValueChecks: a row declares only rules and
// defaults its value's kind acts on, so no declaration is silently
// ignored by Load while the schema states it.
func TestRowsDeclareWhatTheirValueChecks(t *testing.T) {
	n := 0
	rows(new(Cluster), func(path string, s *setting) {
		n++
		_, text := s.v.dst.(*string)
		_, words := s.v.dst.(*[]string)
		_, number := s.v.dst.(*int)
		switch {
		case s.rng != nil && !number:
			t.Errorf("%s: a range on a %T", path, s.v.dst)
		case s.syntax != nil && !text && !words:
			t.Errorf("%s: a syntax on a %T", path, s.v.dst)
		case s.unique && !words:
			t.Errorf("%s: unique on a %T", path, s.v.dst)
		case s.required && s.missing == "":
			t.Errorf("%s: required, with no message saying what to add", path)
		case s.def != nil && reflect.TypeOf(s.def) != reflect.TypeOf(s.v.dst).Elem():
			t.Errorf("%s: default %T for a %T", path, s.def, s.v.dst)
		case words && (s.enum != nil || s.unique) && s.noun == "":
			t.Errorf("%s: no noun for one item in messages", path)
		}
		switch s.enum.(type) {
		case nil:
		case []string:
			if !text && !words {
				t.Errorf("%s: words for a %T", path, s.v.dst)
			}
		case []int:
			if !number || s.v.check == nil {
				t.Errorf("%s: numbers for a %T without a rule of its own to speak for them", path, s.v.dst)
			}
		default:
			t.Errorf("%s: enum of %T", path, s.enum)
		}
	})
	if n < 40 {
		t.Errorf("visited only %d rows", n)
	}
}

// TestDefaultsKeepTheirRules: Load checks what the description wrote and
// trusts defaults, so every default, constant or computed, must pass its
// own row's rules.
func TestDefaultsKeepTheirRules(t *testing.T) {
	check := func(c *Cluster, what string) {
		t.Helper()
		rows(c, func(path string, s *setting) {
			if !s.hasDefault() {
				return
			}
			rep := &Report{}
			d := &decoder{rep: rep, pos: map[string]Pos{}, failed: map[string]bool{}}
			d.checkKey(s, "$."+path)
			if len(rep.Entries) > 0 {
				t.Errorf("%s: the default of %s breaks its rules:\n%s", what, path, rep)
			}
		})
	}
	// Constant defaults, stored into a fresh table.
	c := new(Cluster)
	rows(c, func(path string, s *setting) {
		if s.def != nil {
			reflect.ValueOf(s.v.dst).Elem().Set(reflect.ValueOf(s.def))
		}
	})
	check(c, "constant")
	// Computed defaults, as Load derives them for each way they go.
	for _, edit := range []struct{ old, new string }{
		{"", ""},
		{"docker: {port: 2375}", "docker: {tls: false}"},
		{"etcd: {discovery: static}", "etcd: {discovery: srv, srv: example.com}"},
		{"etcd: {discovery: static}", "etcd: {discovery: url, url: \"https://d.example/x\"}"},
		{"profile: ubuntu", "profile: flatcar"},
	} {
		desc := strings.Replace(base, edit.old, edit.new, 1)
		c, rep := Load("d.yaml", []byte(desc))
		if rep.IsFatal(false) {
			t.Fatalf("%q: %s", edit.new, rep)
		}
		check(c, edit.new)
	}
}

// TestPathsComeFromTheTable: a rule spanning keys names each key by its
// field, and gets the path the decoder walked, in a node too.
func TestPathsComeFromTheTable(t *testing.T) {
	desc := strings.Replace(base, "profile: ubuntu\n", "profile: ubuntu\nsnippets: {}\n", 1)
	c, rep := Load("p.yaml", []byte(desc))
	if rep.IsFatal(false) {
		t.Fatal(rep)
	}
	n := 0
	rows(c, func(path string, s *setting) {
		if strings.Contains(path, "[]") {
			return
		}
		n++
		if got := c.pathOf(s.v.dst); got != "$."+path {
			t.Errorf("%T of %s: path %s", s.v.dst, path, got)
		}
	})
	// A node's table, bound to the second node.
	var node func(prefix string, fields []setting)
	node = func(prefix string, fields []setting) {
		for _, s := range fields {
			n++
			if got, want := c.pathOf(s.v.dst), prefix+"."+s.name; got != want {
				t.Errorf("%T: path %s, want %s", s.v.dst, got, want)
			}
			node(prefix+"."+s.name, s.v.fields)
		}
	}
	node("$.nodes[1]", (&decoder{}).nodeSettings(&c.Nodes[1], c))
	for field, want := range map[any]string{c: "$", &c.Etcd: "$.etcd", &c.Etcd.Discovery: "$.etcd.discovery",
		c.Network: "$.network", &c.Nodes: "$.nodes", &c.Nodes[2]: "$.nodes[2]", &c.Nodes[2].Name: "$.nodes[2].name"} {
		if got := c.pathOf(field); got != want {
			t.Errorf("%T: path %s, want %s", field, got, want)
		}
	}
	if n < 40 {
		t.Errorf("checked only %d paths", n)
	}
	for _, field := range []any{&c.Nodes[0].System, &c.File, new(string)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("a %T no key decodes into has a path", field)
				}
			}()
			c.pathOf(field)
		}()
	}
}

// TestOwnRulesOfLists: a list's items are checked one by one at their
// own path, repeats where the row says unique, in long lists too.
func TestOwnRulesOfLists(t *testing.T) {
	long := "" // 20 names, more than a scan back is used for
	for i := range 20 {
		long += "n" + strings.Repeat("x", i) + ".example.com, "
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"repeated role", "roles: [etcd, docker]}\n  - {name: c", "roles: [etcd, docker, etcd]}\n  - {name: c",
			`c.yaml:10:51: error at $.nodes[1].roles[2]: role "etcd" is listed twice`},
		{"repeated name", "swarm: {manager: {port: 8333}}\n", "swarm: {manager: {port: 8333}}\ntls: {sans: [a.example.com, b.example.com, a.example.com]}\n",
			`c.yaml:8:44: error at $.tls.sans[2]: name "a.example.com" is listed twice`},
		{"repeated in a long list", "swarm: {manager: {port: 8333}}\n", "swarm: {manager: {port: 8333}}\ntls: {sans: [" + long + "nxx.example.com]}\n",
			`error at $.tls.sans[20]: name "nxx.example.com" is listed twice`},
		{"null address", "ip: 10.0.0.2", "ip: ~",
			"c.yaml:10:5: error at $.nodes[1]: node has no ip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rep := Load("c.yaml", []byte(edit(t, tc.old, tc.new)))
			if !strings.Contains(rep.String(), tc.want) || errorCount(rep) != 1 {
				t.Errorf("want only %q:\n%s", tc.want, rep)
			}
		})
	}
}

// TestRulesSpanningKeysSkipBrokenValues: a key that broke its own rule is
// reported once, not again by a rule comparing it with other keys.
func TestRulesSpanningKeysSkipBrokenValues(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edits []string // old, new, old, new...
		want  string
	}{
		{"malformed etcd image on packages", []string{"etcd: {discovery: static}", "etcd: {image: \"etcd\"}"},
			`error at $.etcd.image: "etcd" does not pin a version`},
		{"two invalid names alike", []string{"name: a,", "name: a_1,", "name: b,", "name: a_1,"},
			`error at $.nodes[1].name: "a_1" is not a valid host name`},
		{"two loopback addresses", []string{"ip: 10.0.0.2", "ip: 127.0.0.1", "ip: 10.0.0.3", "ip: 127.0.0.1"},
			"error at $.nodes[2].ip: 127.0.0.1 cannot be a node address"},
		{"an unknown address to bind", []string{"docker: {port: 2375}", "docker: {port: 2375, tls: false, bind: 10.0.0.1}"},
			`error at $.docker.bind: unknown bind "10.0.0.1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			desc := base
			for i := 0; i < len(tc.edits); i += 2 {
				if !strings.Contains(desc, tc.edits[i]) {
					t.Fatalf("%q not in the description", tc.edits[i])
				}
				desc = strings.Replace(desc, tc.edits[i], tc.edits[i+1], 1)
			}
			_, rep := Load("c.yaml", []byte(desc))
			if !strings.Contains(rep.String(), tc.want) {
				t.Errorf("want %q:\n%s", tc.want, rep)
			}
			for _, e := range rep.Entries {
				if e.Kind == ErrNotApplicable || e.Kind == ErrDuplicate || e.Kind == WarnInsecureBind {
					t.Errorf("a rule spanning keys speaks of a broken value: %s", rep.format(e))
				}
			}
		})
	}
}
