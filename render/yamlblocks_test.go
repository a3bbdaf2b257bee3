package render

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// blockStrings are multi-line strings with every shape a literal block
// treats apart: leading spaces and breaks (indentation indicator), no
// trailing break ("|-"), several ("|+", never kept), empty lines, trailing
// spaces and tabs (no literal at all), comment and document markers, long
// lines, CRLF, non-ASCII and invalid UTF-8.
func blockStrings(r *rand.Rand, n int) []string {
	pieces := []string{"[Unit]", "Description=x y", "ExecStart=/bin/sh -c 'echo \"$1\"'", "", " leading", "  two",
		"trailing ", "\ttab", "# comment", "---", "...", "- item", "key: value", "MIIB" + strings.Repeat("Qk", 40),
		"ümlaut ☃", "\r", "a\rb", "|", ">", "\x00", "\xff\xfe", "%YAML", strings.Repeat("long ", 40)}
	out := []string{strings.Repeat("Environment=A=1\n", 8)}
	for len(out) < n {
		var b strings.Builder
		lines := 2 + r.IntN(8)
		long := r.IntN(lines) // a long line somewhere: strings under 64 bytes are never kept
		for i := range lines {
			if i == long {
				b.WriteString(strings.Repeat("0123456789", 7))
			}
			b.WriteString(pieces[r.IntN(len(pieces))])
			if i < lines-1 || r.IntN(3) > 0 {
				b.WriteString("\n")
			}
		}
		if r.IntN(5) == 0 {
			b.WriteString("\n")
		}
		out = append(out, b.String())
	}
	return out
}

// withBlocks runs f with m as the memo (newBlockMemo(0): plain yaml.v3).
func withBlocks(t *testing.T, m *blockMemo, f func()) {
	t.Helper()
	saved := yamlBlocks
	yamlBlocks = m
	defer func() { yamlBlocks = saved }()
	f()
}

// The bytes with kept blocks are the bytes yaml.v3 writes for the whole
// document, wherever a string stands: a mapping value at any depth, a
// sequence item, a mapping inside a sequence, an emitter's struct field,
// a merged tree's scalar (also beside flow collections, comments and
// explicit styles, which keep their own bytes).
func TestYAMLBlocksSameBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	strs := blockStrings(r, 300)
	docs := func() []any {
		var out []any
		for i := 0; i+3 < len(strs); i += 4 {
			a, b, c, d := strs[i], strs[i+1], strs[i+2], strs[i+3]
			out = append(out,
				butaneConfig{Variant: "flatcar", Version: "1.0.0", Storage: &butaneStorage{Files: []butaneFile{
					{Path: "/a", Mode: 0o644, Contents: butaneContents{text(a)}}}},
					Systemd: &butaneSystemd{Units: []butaneUnit{{Name: "u", Contents: text(b), Dropins: []butaneDropin{{"d", text(c)}}}}}},
				cloudConfig{Hostname: "h", WriteFiles: []cloudFile{{Path: "/b", Permissions: "0644", Content: text(d)}}},
				coreOSConfig{CoreOS: coreOS{Units: []coreOSUnit{{Name: "u", Content: text(a), DropIns: []coreOSDropin{{"d", text(b)}}}}}},
				map[string]any{"top": text(c), "list": []any{text(d), map[string]any{"k": text(a), "deeper": []any{text(b)}}}},
			)
		}
		return out
	}
	trees := func() []*yaml.Node {
		var out []*yaml.Node
		for i := 0; i+1 < len(strs); i += 2 {
			src := "a:\n  b: |\n    literal\n  c: [x, y]\n  d: \"q\"\n"
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(src), &n); err != nil {
				t.Fatal(err)
			}
			m := n.Content[0].Content[1]
			m.Content = append(m.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Value: "plain"}, &yaml.Node{Kind: yaml.ScalarNode, Value: strs[i]},
				&yaml.Node{Kind: yaml.ScalarNode, Value: "commented"}, &yaml.Node{Kind: yaml.ScalarNode, Value: strs[i+1], LineComment: "# why"},
				&yaml.Node{Kind: yaml.ScalarNode, Value: "tagged"}, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: strings.ToValidUTF8(strs[i+1], "?")},
				&yaml.Node{Kind: yaml.ScalarNode, Value: "seq"}, &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{
					{Kind: yaml.ScalarNode, Value: strs[i]}, {Kind: yaml.MappingNode, Content: []*yaml.Node{
						{Kind: yaml.ScalarNode, Value: "k"}, {Kind: yaml.ScalarNode, Value: strs[i+1]}}}}},
				&yaml.Node{Kind: yaml.ScalarNode, Value: "flow"}, &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle, Content: []*yaml.Node{
					{Kind: yaml.ScalarNode, Value: strs[i]}}},
			)
			out = append(out, &n)
		}
		return out
	}

	var want, got [][]byte
	withBlocks(t, newBlockMemo(0), func() {
		for _, d := range docs() {
			want = append(want, mustMarshal(t, d))
		}
		for _, n := range trees() {
			want = append(want, mustMarshal(t, n))
		}
	})
	m := newBlockMemo(4096)
	withBlocks(t, m, func() {
		for round := range 2 { // the first round sees, the second keeps
			got = got[:0]
			for _, d := range docs() {
				got = append(got, mustMarshal(t, d))
			}
			for _, n := range trees() {
				got = append(got, mustMarshal(t, n))
			}
			_ = round
		}
	})
	if len(m.kept) < 50 {
		t.Fatalf("only %d blocks kept: the test does not exercise the memo", len(m.kept))
	}
	placeheld := 0
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("document %d differs with kept blocks:\n--- yaml.v3\n%s\n--- with blocks\n%s", i, want[i], got[i])
		}
		if bytes.Contains(got[i], []byte(m.tag)) {
			t.Fatalf("document %d still holds a placeholder:\n%s", i, got[i])
		}
		placeheld++
	}
	t.Logf("%d documents, %d blocks kept, the same bytes", placeheld, len(m.kept))
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := marshalYAML("# head\n", v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A string is kept the second time it is met, never beyond the bound, and
// a tree to merge snippets into gets its strings back.
func TestYAMLBlocksKeep(t *testing.T) {
	m := newBlockMemo(2)
	unit := strings.Repeat("[Service]\nExecStart=/bin/true\n", 4)
	if _, ok := m.placeholder(unit); ok {
		t.Fatal("a string met once has a placeholder")
	}
	ph, ok := m.placeholder(unit)
	if !ok || !strings.HasPrefix(ph.Value, m.tag) {
		t.Fatalf("a string met twice has no placeholder: %v", ph)
	}
	for i := range 5 {
		s := strings.Repeat("other\n", 20+i)
		m.placeholder(s)
		m.placeholder(s)
	}
	if len(m.ids) != 2 {
		t.Errorf("the memo holds %d strings, want its bound 2", len(m.ids))
	}
	// A filled document is sized exactly: documents are held until written.
	withBlocks(t, m, func() {
		doc := mustMarshal(t, map[string]any{"a": map[string]any{"b": []any{text(unit), text(unit)}}})
		if !strings.Contains(string(doc), "    - |\n      [Service]\n") || cap(doc) != len(doc) {
			t.Errorf("filled document (len %d, cap %d):\n%s", len(doc), cap(doc), doc)
		}
	})
	tree := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "k"}, ph}}
	m.restore(tree)
	if v := tree.Content[1]; v.Value != unit || v.Style != 0 {
		t.Errorf("restored %q (style %v), want the string", v.Value, v.Style)
	}
}
