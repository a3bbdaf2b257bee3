package cluster

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"gopkg.in/yaml.v3"

	"github.com/swarmboot/swarmboot/profiles"
)

// Snippets are operators' own config fragments, in a node's native format,
// merged into what swarmboot generates (see render's merge rules). Each
// list is applied in order, the cluster's before a node's own.
type Snippets struct {
	CloudConfig       []*Snippet // for cloud-config nodes (ubuntu, debian)
	CoreOSCloudConfig []*Snippet // for coreos-cloudconfig output
	Butane            []*Snippet // for Butane and Ignition output (flatcar, fcos)
}

// Of returns the snippets of one kind, named by the format they are
// written in.
func (s Snippets) Of(kind profiles.Format) []*Snippet {
	if l := s.list(kind); l != nil {
		return *l
	}
	return nil
}

// list is where the snippets of one kind are kept (nil: no such kind).
func (s *Snippets) list(kind profiles.Format) *[]*Snippet {
	switch kind {
	case profiles.CloudConfig:
		return &s.CloudConfig
	case profiles.CoreOSCloudConfig:
		return &s.CoreOSCloudConfig
	case profiles.Butane:
		return &s.Butane
	}
	return nil
}

// Snippet is one parsed fragment file.
type Snippet struct {
	File string     // as named in the description, resolved against its folder
	Data []byte     // the file as read, for checks that report its positions
	Root *yaml.Node // the fragment's top-level mapping; never modified
}

// maxSnippetSize bounds one fragment; user-data limits are far smaller.
const maxSnippetSize = 1 << 20

func baseDir(file string) string {
	if file == "" || file == "<stdin>" || file == "-" {
		return "."
	}
	return filepath.Dir(file)
}

// snippetKey is one key of a snippets table: a format, and its list.
type snippetKey struct {
	key string
	dst *[]*Snippet
}

func snippetKeys(s *Snippets) []snippetKey {
	return []snippetKey{
		{"cloud-config", &s.CloudConfig},
		{"coreos-cloudconfig", &s.CoreOSCloudConfig},
		{"butane", &s.Butane},
	}
}

// snippetList reads and parses each named file now, so a missing file or
// a YAML error in a fragment is reported with the rest of the description.
func (d *decoder) snippetList(dst *[]*Snippet) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		d.list(n, path, func(e *yaml.Node, sub string) {
			var name string
			d.str(&name)(e, sub)
			if name == "" {
				return
			}
			file := name
			if !filepath.IsAbs(file) {
				file = filepath.Join(d.dir, file)
			}
			data, err := readSnippet(file)
			if err != nil {
				where := "the description's folder"
				if d.file == "<stdin>" || d.file == "-" {
					where = "the current directory, as the description comes from standard input"
				}
				d.errorf(e, sub, ErrSnippet, "cannot read snippet %s: %v (paths are relative to %s)", file, err, where)
				return
			}
			rep := &Report{File: file}
			root, ok := parse(data, rep)
			switch {
			case !ok:
			case root.Kind != yaml.MappingNode:
				rep.add(Error, "$", posOf(root), ErrSnippet, "a snippet is a mapping of top-level keys, as in the format's own files")
				ok = false
			case hasAlias(root, rep):
				ok = false
			}
			d.rep.merge(rep)
			if !ok {
				d.failed[sub] = true
				return
			}
			*dst = append(*dst, &Snippet{File: file, Data: data, Root: root})
		})
	}
}

// hasAlias rejects anchors and aliases in snippets: merged output must not
// depend on how a fragment shares text, and no fragment may expand.
func hasAlias(n *yaml.Node, rep *Report) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		rep.add(Error, "", posOf(n), ErrSnippet, "anchors and aliases are not supported in snippets; write the values out")
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c, rep) {
			return true
		}
	}
	return false
}

// readSnippet reads a regular file of at most maxSnippetSize bytes. A
// description names its snippets, so a path to a FIFO or a device must not
// hang the tool or fill its memory: the file is opened without blocking,
// checked to be regular, and read no further than the limit (a device
// reports size 0, so its size says nothing).
func readSnippet(file string) ([]byte, error) {
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s); a snippet is a file of config", info.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSnippetSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxSnippetSize {
		return nil, fmt.Errorf("larger than %d KiB; user-data limits are far smaller", maxSnippetSize>>10)
	}
	return data, nil
}
