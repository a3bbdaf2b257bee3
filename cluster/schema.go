package cluster

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"strings"
	"time"
)

// Schema is the description's JSON Schema, for editors (yaml-language-server
// reads a `# yaml-language-server: $schema=...` comment). Validation proper
// is Load's: the schema cannot say "no etcd member" or "port conflict".
//
// schema.json is committed, so editors can fetch it by URL; it is
// GenerateSchema's output, and a test fails when it is stale. Rewrite it
// with: go test ./cluster -run TestSchemaFile -update (or make golden).
//
//go:embed schema.json
var Schema []byte

// GenerateSchema writes the JSON Schema from the settings tables
// (settings.go), the ones the decoder reads: indented, keys in table order.
func GenerateSchema() []byte {
	defs := obj{}
	root := obj{
		{"$schema", "https://json-schema.org/draft/2020-12/schema"},
		{"$id", "https://github.com/swarmboot/swarmboot/cluster/schema.json"},
		{"title", "swarmboot cluster description, version 1"},
		{"description", "One etcd-backed classic Docker Swarm cluster. `swarmboot validate` checks everything this schema does and more (topology, port conflicts), with file:line:col. Generated from swarmboot's settings tables."},
	}
	root = append(root, objectSchema((&decoder{}).clusterSettings(new(Cluster)), &defs)...)
	if len(defs) > 0 {
		root = append(root, kv{"$defs", defs})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "<cluster>-etcd" reads better than "\u003ccluster\u003e-etcd"
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		panic(err) // only strings, numbers and slices of them: cannot fail
	}
	return b.Bytes()
}

func objectSchema(settings []setting, defs *obj) obj {
	props := obj{}
	var required []string
	for _, s := range settings {
		props = append(props, kv{s.name, settingSchema(s, defs)})
		if s.required {
			required = append(required, s.name)
		}
	}
	o := obj{{"type", "object"}, {"additionalProperties", false}}
	if required != nil {
		o = append(o, kv{"required", required})
	}
	return append(o, kv{"properties", props})
}

func settingSchema(s setting, defs *obj) obj {
	o := obj{{"description", s.doc}}
	var restrict obj // the value's, or a list's items'
	if s.enum != nil {
		restrict = append(restrict, kv{"enum", s.enum})
	}
	if s.syntax != nil && s.syntax.pattern != nil {
		restrict = append(restrict, kv{"pattern", s.syntax.pattern.String()})
	}
	if s.v.json == "array" {
		items := append(valueSchema(*s.v.items, defs), restrict...)
		o = append(o, kv{"type", "array"}, kv{"items", items})
	} else {
		o = append(append(o, valueSchema(s.v, defs)...), restrict...)
	}
	if s.rng != nil {
		o = append(o, kv{"minimum", s.rng.min}, kv{"maximum", s.rng.max})
	}
	if s.required && s.v.json == "array" { // Load: an empty list is no list
		o = append(o, kv{"minItems", 1})
	}
	if s.unique {
		o = append(o, kv{"uniqueItems", true})
	}
	if s.def != nil {
		o = append(o, kv{"default", defaultText(s.def)})
	}
	return o
}

// defaultText is a default as a description writes it: a duration as
// "8760h", not in nanoseconds.
func defaultText(def any) any {
	d, ok := def.(time.Duration)
	if !ok {
		return def
	}
	text := d.String()
	for _, zero := range []string{"0s", "0m"} {
		if strings.HasSuffix(text, zero) && len(text) > len(zero) {
			text = strings.TrimSuffix(text, zero)
		}
	}
	return text
}

// valueSchema is a value's JSON type; a shared table goes to $defs once.
func valueSchema(v value, defs *obj) obj {
	switch v.json {
	case "object":
		if v.ref == "" {
			return objectSchema(v.fields, defs)
		}
		if !defs.has(v.ref) {
			*defs = append(*defs, kv{v.ref, nil}) // placeholder keeps the order
			def := objectSchema(v.fields, defs)
			for i := range *defs {
				if (*defs)[i].k == v.ref {
					(*defs)[i].v = def
				}
			}
		}
		return obj{{"$ref", "#/$defs/" + v.ref}}
	case "array":
		return obj{{"type", "array"}, {"items", valueSchema(*v.items, defs)}}
	}
	o := obj{{"type", v.json}}
	if v.pattern != "" {
		o = append(o, kv{"pattern", v.pattern})
	}
	return o
}

// obj is a JSON object that keeps its keys in the order given, so the
// schema reads in the tables' order.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) has(k string) bool {
	for _, e := range o {
		if e.k == k {
			return true
		}
	}
	return false
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := enc.Encode(e.k); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1) // Encode's newline
		b.WriteByte(':')
		if err := enc.Encode(e.v); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
