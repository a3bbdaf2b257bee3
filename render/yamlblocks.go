package render

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Multi-line strings (units, scripts, certificates) are most of a YAML
// output's bytes and mostly the same on every node, and yaml.v3 looks at
// each of their characters every time it emits one: a third of a
// 10,000-node render. So a string met a second time is emitted once more
// by yaml.v3, alone, and that literal block is kept; a document then
// carries a one-line placeholder block in its place, and marshalYAML puts
// the kept block back, at the placeholder's indentation. Literal block
// lines do not depend on where the block stands, so the bytes are those
// yaml.v3 writes for the whole document (TestYAMLBlocksSameBytes).

// text is a string field of an emitted document that may span lines.
type text string

// MarshalYAML gives the placeholder of a kept block, else the string.
func (t text) MarshalYAML() (any, error) {
	if ph, ok := yamlBlocks.placeholder(string(t)); ok {
		return ph, nil
	}
	return string(t), nil
}

type keptBlock struct {
	s     string
	block string // yaml.v3's "|...\n" block of s, its lines indented by 2
	lines int    // of its lines, those that are not empty
}

// blockMemo keeps the literal blocks of strings seen more than once.
// Blocks that keep trailing line breaks ("|+") are not kept: yaml.v3 ends
// a document holding one differently.
type blockMemo struct {
	mu   sync.RWMutex
	ids  map[string]int // string -> index in kept; -1: not kept
	kept []keptBlock
	seen map[uint64]struct{}
	seed maphash.Seed
	tag  string // placeholders are tag + id; random, so no input holds one
	max  int    // strings kept at most; then only what is kept is answered
}

func newBlockMemo(max int) *blockMemo {
	return &blockMemo{ids: map[string]int{}, seen: map[uint64]struct{}{}, seed: maphash.MakeSeed(),
		tag: "swarmboot-block-" + rand.Text() + "-", max: max}
}

var yamlBlocks = newBlockMemo(4096)

// placeholder returns the node standing for s, if s has a kept block.
func (m *blockMemo) placeholder(s string) (*yaml.Node, bool) {
	if len(s) < 64 || !strings.Contains(s, "\n") {
		return nil, false
	}
	m.mu.RLock()
	id, ok := m.ids[s]
	m.mu.RUnlock()
	if !ok {
		id, ok = m.keep(s)
	}
	if !ok || id < 0 {
		return nil, false
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Style: yaml.LiteralStyle, Value: m.tag + strconv.Itoa(id) + "\n"}, true
}

// keep keeps s's block the second time s is met (most strings met once are
// a node's own: its certificate, its key), while there is room.
func (m *blockMemo) keep(s string) (int, bool) {
	h := maphash.String(m.seed, s)
	m.mu.Lock()
	defer m.mu.Unlock()
	if id, ok := m.ids[s]; ok {
		return id, true
	}
	if _, again := m.seen[h]; !again || len(m.ids) >= m.max {
		if len(m.seen) < 64*m.max {
			m.seen[h] = struct{}{}
		}
		return 0, false
	}
	id := -1
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if enc.Encode(struct {
		K string `yaml:"k"`
	}{s}) == nil && enc.Close() == nil && bytes.HasPrefix(b.Bytes(), []byte("k: |")) {
		block := b.String()[len("k: "):]
		if !strings.Contains(block[:strings.IndexByte(block, '\n')], "+") {
			id = len(m.kept)
			lines := 0
			for line := range strings.SplitAfterSeq(block[strings.IndexByte(block, '\n')+1:], "\n") {
				if line != "" && line != "\n" {
					lines++
				}
			}
			m.kept = append(m.kept, keptBlock{s, block, lines})
		}
	}
	m.ids[s] = id
	return id, true
}

// fill replaces every placeholder block in out ("|\n", its indentation,
// the placeholder, "\n") by the kept block, indented the same, into a
// slice of the exact size (documents are kept until they are written).
func (m *blockMemo) fill(out []byte) ([]byte, error) {
	tag := []byte(m.tag)
	if !bytes.Contains(out, tag) {
		return out, nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	type spot struct {
		start, end int // out[start:end] is the placeholder block
		indent     []byte
		kept       *keptBlock
	}
	var spots []spot
	size := len(out)
	for from := 0; ; {
		at := bytes.Index(out[from:], tag)
		if at < 0 {
			break
		}
		at += from
		lineStart := bytes.LastIndexByte(out[:at], '\n') + 1
		end := at + bytes.IndexByte(out[at:], '\n')
		id, err := strconv.Atoi(string(out[at+len(tag) : end]))
		if err != nil || id < 0 || id >= len(m.kept) || lineStart < 2 || string(out[lineStart-2:lineStart]) != "|\n" ||
			len(bytes.Trim(out[lineStart:at], " ")) != 0 {
			return nil, fmt.Errorf("internal error: yaml.v3 did not write placeholder %q as a literal block", out[at:end])
		}
		sp := spot{lineStart - 2, end + 1, out[lineStart:at], &m.kept[id]}
		size += len(sp.kept.block) + sp.kept.lines*(len(sp.indent)-2) - (sp.end - sp.start)
		spots = append(spots, sp)
		from = end + 1
	}
	b := make([]byte, 0, size)
	prev := 0
	for _, sp := range spots {
		b = append(b, out[prev:sp.start]...)
		block := sp.kept.block
		nl := strings.IndexByte(block, '\n')
		b = append(b, block[:nl+1]...)
		for line := range strings.SplitAfterSeq(block[nl+1:], "\n") {
			if line == "" {
				continue
			}
			if line != "\n" { // empty lines carry no indentation
				b = append(b, sp.indent...)
				line = line[2:]
			}
			b = append(b, line...)
		}
		prev = sp.end
	}
	return append(b, out[prev:]...), nil
}

// placehold replaces, in a tree about to be emitted, the multi-line
// strings that have kept blocks by their placeholders; restore undoes it
// (a tree to merge snippets into must hold the strings themselves). Only
// plain block-context values qualify: flow collections, keys, comments,
// anchors and explicit styles or tags other than !!str emit differently.
func (m *blockMemo) placehold(n *yaml.Node) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		if n.Style&yaml.FlowStyle != 0 {
			return
		}
		for _, c := range n.Content {
			m.placeholdValue(c, nil)
		}
	case yaml.MappingNode:
		if n.Style&yaml.FlowStyle != 0 {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m.placeholdValue(n.Content[i+1], n.Content[i])
		}
	}
}

func (m *blockMemo) placeholdValue(v, key *yaml.Node) {
	if v.Kind != yaml.ScalarNode {
		m.placehold(v)
		return
	}
	plain := v.Style == 0 && (v.Tag == "" || v.Tag == "!!str") && v.Anchor == "" &&
		v.HeadComment == "" && v.LineComment == "" && v.FootComment == ""
	if !plain || key != nil && key.FootComment != "" {
		return
	}
	if ph, ok := m.placeholder(v.Value); ok {
		*v = *ph
	}
}

func (m *blockMemo) restore(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Style == yaml.LiteralStyle && strings.HasPrefix(n.Value, m.tag) {
		id, err := strconv.Atoi(strings.TrimSuffix(n.Value[len(m.tag):], "\n"))
		m.mu.RLock()
		if err == nil && id >= 0 && id < len(m.kept) {
			n.Value, n.Style, n.Tag = m.kept[id].s, 0, "!!str"
		}
		m.mu.RUnlock()
		return
	}
	for _, c := range n.Content {
		m.restore(c)
	}
}
