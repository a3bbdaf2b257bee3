package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/swarmboot/swarmboot/internal/testutil"
)

func compileSchema(t *testing.T, schema []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// schemaCheck validates a description (YAML text or a Go value) against
// the schema.
func schemaCheck(t *testing.T, s *jsonschema.Schema, desc any) error {
	t.Helper()
	if text, ok := desc.([]byte); ok {
		desc = nil
		if err := yaml.Unmarshal(text, &desc); err != nil {
			t.Fatal(err)
		}
	}
	j, err := json.Marshal(desc) // YAML's map[string]any is JSON's object
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(inst)
}

// TestSchemaFile: the committed schema.json, which editors fetch and
// `swarmboot schema` prints, is what the settings tables generate.
func TestSchemaFile(t *testing.T) {
	gen := GenerateSchema()
	compileSchema(t, gen)
	if !bytes.Equal(GenerateSchema(), gen) {
		t.Fatal("GenerateSchema is not deterministic")
	}
	if *testutil.Update {
		if err := os.WriteFile("schema.json", gen, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	file, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(file), string(gen)); diff != "" {
		t.Errorf("cluster/schema.json is stale; regenerate it with\n  go test ./cluster -run TestSchemaFile -update   (or: make golden)\n(-committed +generated):\n%s", diff)
	}
	if !bytes.Equal(Schema, file) {
		t.Error("cluster.Schema is not schema.json")
	}
}

// TestSchemaAcceptsEveryDescription: the examples and golden descriptions,
// which Load accepts, pass the schema too.
func TestSchemaAcceptsEveryDescription(t *testing.T) {
	s := compileSchema(t, GenerateSchema())
	files, _ := filepath.Glob("../examples/*.yaml")
	golden, _ := filepath.Glob("../golden/*/cluster.yaml")
	if len(files) == 0 || len(golden) == 0 {
		t.Fatal("no examples or golden descriptions found")
	}
	for _, f := range append(files, golden...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := schemaCheck(t, s, data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

const minimal = "version: 1\ncluster: t\nnodes: [{name: a, ip: 10.0.0.1, roles: [etcd, docker, manager]}]\n"

// TestSchemaRejectsBadInput: known-bad descriptions fail the schema, and
// Load, at the key they break.
func TestSchemaRejectsBadInput(t *testing.T) {
	s := compileSchema(t, GenerateSchema())
	if err := schemaCheck(t, s, []byte(minimal)); err != nil {
		t.Fatalf("the minimal description must pass: %v", err)
	}
	cases := []struct {
		name, yaml, path string
		kind             error
	}{
		{"unknown key", "nodez: []\n", "$.nodez", ErrUnknownKey},
		{"unknown nested key", "swarm: {manager: {prot: 1}}\n", "$.swarm.manager.prot", ErrUnknownKey},
		{"unknown snippet format", "snippets: {ignition: [a.ign]}\n", "$.snippets.ignition", ErrUnknownKey},
		{"wrong type", "docker: {port: \"2375\"}\n", "$.docker.port", ErrType},
		{"wrong list type", "ssh_authorized_keys: ssh-ed25519 AAAA\n", "$.ssh_authorized_keys", ErrType},
		{"bad enum", "docker: {bind: everywhere}\n", "$.docker.bind", ErrUnknownValue},
		{"bad version", "version: 2\n", "$.version", ErrVersion},
		{"out of range", "etcd: {peer_port: 70000}\n", "$.etcd.peer_port", ErrOutOfRange},
		{"bad pattern", "cluster: Demo\n", "$.cluster", ErrInvalidValue},
		{"bad duration", "swarm: {ttl: 3 minutes}\n", "$.swarm.ttl", ErrInvalidValue},
		{"missing required", "network: {gateway: 10.0.0.254}\n", "$.network", ErrRequired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			desc := merge(t, minimal, tc.yaml)
			if err := schemaCheck(t, s, []byte(desc)); err == nil {
				t.Errorf("the schema accepts:\n%s", desc)
			}
			_, rep := Load("t.yaml", []byte(desc))
			if !hasEntry(rep, tc.path, tc.kind) {
				t.Errorf("Load does not report %q at %s:\n%s", tc.kind, tc.path, rep)
			}
		})
	}
}

// merge overlays top-level keys of over onto base.
func merge(t *testing.T, base, over string) string {
	t.Helper()
	var b, o map[string]any
	if err := yaml.Unmarshal([]byte(base), &b); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(over), &o); err != nil {
		t.Fatal(err)
	}
	for k, v := range o {
		b[k] = v
	}
	out, err := yaml.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func hasEntry(rep *Report, path string, kind error) bool {
	for _, e := range rep.Entries {
		if e.Path == path && errors.Is(e.Kind, kind) {
			return true
		}
	}
	return false
}

// visit calls fn for every setting of the tables with a concrete path
// ("nodes[0].snippets.butane"), shared tables spelled out at every use.
func visit(fn func(path string, s setting)) {
	var walk func(prefix string, settings []setting)
	walk = func(prefix string, settings []setting) {
		for _, s := range settings {
			p := prefix + s.name
			fn(p, s)
			v := s.v
			if v.json == "array" && v.items.json == "object" {
				p, v = p+"[0]", *v.items
			}
			if v.json == "object" {
				walk(p+".", v.fields)
			}
		}
	}
	walk("", (&decoder{}).clusterSettings(new(Cluster)))
}

// essentials is the smallest description Load accepts with a static network:
// every required setting and nothing else but network.
func essentials() map[string]any {
	return map[string]any{
		"version": 1, "cluster": "t",
		"network": map[string]any{"prefix": 24},
		"nodes":   []any{map[string]any{"name": "a", "ip": "10.0.0.1", "roles": []any{"etcd", "docker", "manager"}}},
	}
}

var pathStep = regexp.MustCompile(`^([a-z_-]+)(?:\[(\d+)\])?$`)

// set writes v at path ("nodes[0].mac") into desc, or deletes the key
// when v is nil. Missing mappings on the way are created.
func set(t *testing.T, desc map[string]any, path string, v any) {
	t.Helper()
	steps := strings.Split(path, ".")
	m := desc
	for i, step := range steps {
		sm := pathStep.FindStringSubmatch(step)
		if sm == nil {
			t.Fatalf("bad path step %q", step)
		}
		if i == len(steps)-1 {
			if v == nil {
				delete(m, sm[1])
			} else {
				m[sm[1]] = v
			}
			return
		}
		next, _ := m[sm[1]].(map[string]any)
		if sm[2] != "" {
			j, _ := strconv.Atoi(sm[2])
			next = m[sm[1]].([]any)[j].(map[string]any)
		} else if next == nil {
			next = map[string]any{}
			m[sm[1]] = next
		}
		m = next
	}
}

func load(t *testing.T, desc map[string]any) (*Cluster, *Report) {
	t.Helper()
	text, err := yaml.Marshal(desc)
	if err != nil {
		t.Fatal(err)
	}
	return Load("t.yaml", text)
}

func errorCount(rep *Report) int {
	n := 0
	for _, e := range rep.Entries {
		if e.Severity == Error {
			n++
		}
	}
	return n
}

// TestSettingTypes: at every key the decoder reads the JSON type the
// schema gives: a value of another type is ErrType there, and the schema
// rejects it too.
func TestSettingTypes(t *testing.T) {
	s := compileSchema(t, GenerateSchema())
	if _, rep := load(t, essentials()); errorCount(rep) > 0 {
		t.Fatalf("base description: %s", rep)
	}
	if err := schemaCheck(t, s, essentials()); err != nil {
		t.Fatalf("base description: %v", err)
	}
	wrong := map[string]any{"string": 12, "integer": "x", "boolean": "x", "array": "x", "object": []any{1}}
	n := 0
	visit(func(path string, st setting) {
		n++
		desc := essentials()
		set(t, desc, path, wrong[st.v.json])
		if _, rep := load(t, desc); !hasEntry(rep, "$."+path, ErrType) {
			t.Errorf("%s (%s): Load does not report a wrong type:\n%s", path, st.v.json, rep)
		}
		if schemaCheck(t, s, desc) == nil {
			t.Errorf("%s (%s): the schema accepts %v", path, st.v.json, wrong[st.v.json])
		}
	})
	if n < 40 {
		t.Errorf("visited only %d settings", n)
	}
}

// TestRequiredSettings: Load requires exactly the settings the tables
// mark required: leaving out one of essentials() is an error just when
// it is marked (the others are not in essentials(), so may be left out).
func TestRequiredSettings(t *testing.T) {
	s := compileSchema(t, GenerateSchema())
	visit(func(path string, st setting) {
		desc := essentials()
		set(t, desc, path, nil)
		_, rep := load(t, desc)
		missed := false
		for _, e := range rep.Entries {
			missed = missed || errors.Is(e.Kind, ErrRequired)
		}
		if missed != st.required {
			t.Errorf("%s: required %v in the table, but Load misses it: %v\n%s", path, st.required, missed, rep)
		}
		if schemaMissed := schemaCheck(t, s, desc) != nil; schemaMissed != st.required {
			t.Errorf("%s: required %v in the table, but the schema misses it: %v", path, st.required, schemaMissed)
		}
	})
}

// TestSettingDefaults: each default the tables give is the one Load
// applies.
func TestSettingDefaults(t *testing.T) {
	c, rep := load(t, essentials())
	if errorCount(rep) > 0 {
		t.Fatal(rep)
	}
	var walk func(prefix string, settings []setting)
	walk = func(prefix string, settings []setting) {
		for _, s := range settings {
			if s.v.json == "object" {
				walk(prefix+s.name+".", s.v.fields)
			}
			if s.def == nil {
				continue
			}
			got := reflect.ValueOf(s.v.dst).Elem().Interface()
			if got != s.def {
				t.Errorf("%s%s: the table's default is %v, Load applies %v", prefix, s.name, s.def, got)
			}
		}
	}
	// Built over the loaded cluster, the tables point into it.
	walk("", (&decoder{}).clusterSettings(c))
}

// TestSettingEnums: validation accepts every value a table lists, and
// rejects one it does not.
func TestSettingEnums(t *testing.T) {
	s := compileSchema(t, GenerateSchema())
	valueErrors := []error{ErrUnknownValue, ErrInvalidValue, ErrVersion, ErrType}
	reported := func(rep *Report, path string) bool {
		for _, k := range valueErrors {
			if hasEntry(rep, path, k) {
				return true
			}
		}
		return false
	}
	visit(func(path string, st setting) {
		if st.enum == nil {
			return
		}
		at, list := "$."+path, st.v.json == "array"
		if list {
			at += "[0]"
		}
		in := func(v any) any {
			if list {
				return []any{v}
			}
			return v
		}
		enum := reflect.ValueOf(st.enum)
		for i := range enum.Len() {
			v := enum.Index(i).Interface()
			desc := essentials()
			set(t, desc, path, in(v))
			if _, rep := load(t, desc); reported(rep, at) {
				t.Errorf("%s: %v is in the table, but Load rejects it:\n%s", path, v, rep)
			}
			if err := schemaCheck(t, s, desc); err != nil {
				t.Errorf("%s: %v is in the table, but the schema rejects it: %v", path, v, err)
			}
		}
		bogus := any("zz-bogus")
		if enum.Index(0).Kind() == reflect.Int {
			bogus = 99
		}
		desc := essentials()
		set(t, desc, path, in(bogus))
		if _, rep := load(t, desc); !reported(rep, at) {
			t.Errorf("%s: Load accepts %v, which the table does not list:\n%s", path, bogus, rep)
		}
		if schemaCheck(t, s, desc) == nil {
			t.Errorf("%s: the schema accepts %v", path, bogus)
		}
	})
}

// TestSettingRanges: validation's ranges are the tables'.
func TestSettingRanges(t *testing.T) {
	visit(func(path string, st setting) {
		if st.rng == nil {
			return
		}
		for v, ok := range map[int]bool{st.rng.min - 1: false, st.rng.min: true, st.rng.max: true, st.rng.max + 1: false} {
			desc := essentials()
			if path == "network.prefix" && v > 32 {
				set(t, desc, "nodes[0].ip", "fd00::1") // over 32 is for IPv6
			}
			set(t, desc, path, v)
			_, rep := load(t, desc)
			if got := hasEntry(rep, "$."+path, ErrOutOfRange); got == ok {
				t.Errorf("%s: %d in range %v, Load reports it out of range: %v\n%s", path, v, ok, got, rep)
			}
		}
	})
}

// commentedKey is a key the starter documents in a comment, "# key: ..."
// with the '#' where the key's indentation begins.
var commentedKey = regexp.MustCompile(`(?m)^([ \t]*)# ( *(?:- )?[a-z][a-z0-9_-]*:(?: .*)?)$`)

// TestStarterHasEverySetting: `swarmboot init`'s starter names every key
// of the tables, as a setting or a commented-out one, and no other; and
// it loads without a finding.
func TestStarterHasEverySetting(t *testing.T) {
	text, err := os.ReadFile("../examples/starter.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Its one finding is the missing SSH key, which init fills in from
	// the user's ~/.ssh.
	if _, rep := Load("starter.yaml", text); len(rep.Entries) != 1 || rep.Entries[0].Kind != WarnNoLogin {
		t.Fatalf("the starter must load with only the no-login warning:\n%s", rep)
	}
	uncommented := commentedKey.ReplaceAll(text, []byte("$1$2"))
	var doc yaml.Node
	if err := yaml.Unmarshal(uncommented, &doc); err != nil {
		t.Fatalf("the starter with its commented-out keys uncommented is not YAML: %v\n%s", err, uncommented)
	}
	paths := settingPaths()
	shared := map[string]string{} // table -> the path where paths spell it out
	for _, p := range paths {
		if r := p.v.ref; r != "" && shared[r] == "" {
			shared[r] = p.path
		}
	}
	got := map[string]bool{}
	var walk func(n *yaml.Node, prefix string, settings []setting)
	walk = func(n *yaml.Node, prefix string, settings []setting) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			s := findField(settings, k)
			if s == nil {
				t.Errorf("starter.yaml:%d: %s%s is no setting", n.Content[i].Line, prefix, k)
				continue
			}
			p := prefix + k
			got[p] = true
			switch {
			case s.v.json == "array" && s.v.items.json == "object" && v.Kind == yaml.SequenceNode:
				for _, item := range v.Content {
					walk(item, p+"[].", s.v.items.fields)
				}
			case s.v.json == "object" && s.v.ref != "":
				walk(v, shared[s.v.ref]+".", s.v.fields)
			case s.v.json == "object":
				walk(v, p+".", s.v.fields)
			}
		}
	}
	walk(doc.Content[0], "", (&decoder{}).clusterSettings(new(Cluster)))
	for _, p := range paths {
		if !got[p.path] {
			t.Errorf("the starter does not document %s (write it, or a commented-out `# %s: ...` line, into examples/starter.yaml)", p.path, p.name)
		}
	}
}

// TestREADMEKeyTable: the README's key table under "## The description"
// lists every key of the tables that holds a value (one row each, as
// `etcd.client_port` or `nodes[].name`), no key the tables do not have,
// each default the tables give, and "required" exactly for required keys.
func TestREADMEKeyTable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i := strings.Index(text, "\n## The description\n")
	j := strings.Index(text[i:], "\n| key | default | meaning |\n")
	if i < 0 || j < 0 {
		t.Fatal(`README has no "## The description" section with a "| key | default | meaning |" table`)
	}
	rows := map[string][]string{} // key -> cells
	var order []string
	for _, line := range strings.Split(text[i+j+1:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		key := strings.TrimSpace(cells[0])
		if len(cells) != 3 || !strings.HasPrefix(key, "`") || strings.Count(key, "`") != 2 || !strings.HasSuffix(key, "`") {
			t.Errorf("README key table row %q: want | `one.key` | default | meaning |", line)
			continue
		}
		key = strings.Trim(key, "`")
		rows[key] = cells
		order = append(order, key)
	}
	paths := settingPaths()
	known := map[string]pathSetting{}
	for _, p := range paths {
		known[p.path] = p
	}
	for _, k := range order {
		if _, ok := known[k]; !ok {
			t.Errorf("README key table: `%s` is no setting", k)
		}
	}
	for _, p := range paths {
		cells, ok := rows[p.path]
		switch {
		case !ok && p.leaf(paths):
			t.Errorf("README key table: no row for `%s` (%s)", p.path, p.doc)
		case !ok:
		case p.required != strings.Contains(cells[1], "required"):
			t.Errorf("README key table: `%s` is required: %v, but its default reads %q", p.path, p.required, cells[1])
		case p.def != nil && !strings.Contains(cells[1], fmt.Sprint(defaultText(p.def))):
			t.Errorf("README key table: `%s` defaults to %v, but its default reads %q", p.path, p.def, cells[1])
		}
	}
}
