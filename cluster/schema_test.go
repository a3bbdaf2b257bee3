package cluster

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/swarmboot/swarmboot/profiles"
)

func compileSchema(t *testing.T) (*jsonschema.Schema, map[string]any) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
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
	return s, doc.(map[string]any)
}

// TestSchemaAcceptsEveryDescription: the examples and golden descriptions,
// which Load accepts, pass the schema too.
func TestSchemaAcceptsEveryDescription(t *testing.T) {
	s, _ := compileSchema(t)
	files, _ := filepath.Glob("../examples/*.yaml")
	golden, _ := filepath.Glob("../golden/*/cluster.yaml")
	for _, f := range append(files, golden...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := yaml.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal(v) // YAML's map[string]any is JSON's object
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err := s.Validate(inst); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestSchemaKeysMatchDecoder: at every level the schema lists exactly the
// keys the decoder knows (read from its "use one of" message).
func TestSchemaKeysMatchDecoder(t *testing.T) {
	_, doc := compileSchema(t)
	props := func(path ...string) []string {
		var node any = doc
		for _, p := range path {
			node = node.(map[string]any)[p]
			if ref, ok := node.(map[string]any)["$ref"].(string); ok {
				node = doc["$defs"].(map[string]any)[strings.TrimPrefix(ref, "#/$defs/")]
			}
		}
		var keys []string
		for k := range node.(map[string]any)["properties"].(map[string]any) {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	}
	cases := []struct {
		schemaPath []string
		yaml       string // with an unknown key zzzzzzzzzz at that level
	}{
		{nil, "zzzzzzzzzz: 1\n"},
		{[]string{"properties", "network"}, "network: {zzzzzzzzzz: 1}\n"},
		{[]string{"properties", "etcd"}, "etcd: {zzzzzzzzzz: 1}\n"},
		{[]string{"properties", "docker"}, "docker: {zzzzzzzzzz: 1}\n"},
		{[]string{"properties", "swarm"}, "swarm: {zzzzzzzzzz: 1}\n"},
		{[]string{"properties", "swarm", "properties", "manager"}, "swarm: {manager: {zzzzzzzzzz: 1}}\n"},
		{[]string{"properties", "snippets"}, "snippets: {zzzzzzzzzz: 1}\n"},
		{[]string{"properties", "nodes", "items"}, "nodes: [{zzzzzzzzzz: 1}]\n"},
	}
	for _, tc := range cases {
		_, rep := Load("s.yaml", []byte("version: 1\n"+tc.yaml))
		var known []string
		for _, e := range rep.Entries {
			if i := strings.Index(e.Message, "use one of: "); e.Kind == ErrUnknownKey && i >= 0 {
				known = strings.Split(e.Message[i+len("use one of: "):], ", ")
			}
		}
		sort.Strings(known)
		if diff := cmp.Diff(props(tc.schemaPath...), known); diff != "" {
			t.Errorf("%q: schema keys differ from the decoder's (-schema +decoder):\n%s", tc.yaml, diff)
		}
	}
	enum := doc["$defs"].(map[string]any)["profile"].(map[string]any)["enum"].([]any)
	var names []string
	for _, e := range enum {
		names = append(names, e.(string))
	}
	if diff := cmp.Diff(profiles.Names(), names); diff != "" {
		t.Errorf("schema profiles differ from the built-in ones:\n%s", diff)
	}
}
