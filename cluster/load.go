package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"unicode/utf8"

	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"
	"gopkg.in/yaml.v3"
)

// MaxInputSize bounds a description; a 10,000-node cluster is about 1 MiB.
const MaxInputSize = 16 << 20

// LoadFile reads and loads a description file.
func LoadFile(path string) (*Cluster, *Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return LoadReader(path, f)
}

// LoadReader reads a description from r; name is used in messages.
// Reading stops just past MaxInputSize, which Load then reports.
func LoadReader(name string, r io.Reader) (*Cluster, *Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputSize+1))
	if err != nil {
		return nil, nil, err
	}
	c, rep := Load(name, data)
	return c, rep, nil
}

// Load decodes, defaults and validates one description. The report holds
// every finding; the cluster is complete only when the report has no error.
func Load(file string, data []byte) (c *Cluster, rep *Report) {
	rep = &Report{File: file}
	c = &Cluster{File: file, pos: map[string]Pos{"$": {1, 1}}}
	defer rep.sort()
	root, ok := parse(data, rep)
	if !ok {
		return c, rep
	}
	d := &decoder{rep: rep, pos: c.pos, failed: map[string]bool{}, dir: baseDir(file), file: file}
	table := d.clusterSettings(c)
	d.mapping(root, "$", table) // and each key's own rules
	if d.abort || rep.full() {
		return c, rep
	}
	// Validate even after decoding errors, so one run reports every
	// problem; rules about a value that failed to decode stay silent.
	c.failed, c.rejected = d.failed, d.rejected
	c.applyDefaults(table)
	c.validate(rep)
	return c, rep
}

// parse returns the root node of the only document in data. yaml.v3 is
// mature, but no input may crash the tool: a panic in the YAML parsers
// (and only there; our own code's panics are bugs that tests must see) is
// reported as a syntax error.
func parse(data []byte, rep *Report) (root *yaml.Node, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			rep.add(Error, "", Pos{1, 1}, ErrSyntax, "the YAML parser failed on this input (%v); check the file's syntax", r)
			root, ok = nil, false
		}
	}()
	return parseDocument(data, rep)
}

func parseDocument(data []byte, rep *Report) (*yaml.Node, bool) {
	if len(data) > MaxInputSize {
		rep.add(Error, "", Pos{1, 1}, ErrTooLarge, "the file is larger than %d MiB; a description this large is a mistake (split the file or remove generated content)", MaxInputSize>>20)
		return nil, false
	}
	if !utf8.Valid(data) {
		line, col := invalidUTF8(data)
		rep.add(Error, "", Pos{line, col}, ErrSyntax, "this byte is not UTF-8; save the file as UTF-8 (a description is YAML, which is UTF-8 text)")
		return nil, false
	}
	if len(bytes.TrimSpace(data)) == 0 {
		rep.add(Error, "", Pos{1, 1}, ErrEmpty, "the file is empty; start from `swarmboot init`")
		return nil, false
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			rep.add(Error, "", Pos{1, 1}, ErrEmpty, "the file holds only comments; start from `swarmboot init`")
		} else {
			syntaxError(data, err, rep)
		}
		return nil, false
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		rep.add(Error, "", Pos{next.Line, next.Column}, ErrMultiDoc,
			"a second YAML document starts here; a description is one document: remove the '---' and what follows, or put it in its own file")
		return nil, false
	case !errors.Is(err, io.EOF):
		syntaxError(data, err, rep)
		return nil, false
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if isNull(root) {
		rep.add(Error, "", Pos{1, 1}, ErrEmpty, "the document is empty; start from `swarmboot init`")
		return nil, false
	}
	return root, true
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError reports a yaml.v3 error. yaml.v3 gives no column and, for
// parser errors, the line where the enclosing construct began; goccy's
// parser pinpoints the offending token, so it locates the error when it
// also rejects the input. Otherwise the line is yaml.v3's and the column
// that of the line's first non-blank character.
func syntaxError(data []byte, err error, rep *Report) {
	var se *goccy.SyntaxError
	if !goccyAffordable(data) {
		// goccy's cost grows much faster than the input with nesting
		// (40,000 '[' took 11 s and 2.5 GB); yaml.v3 has already rejected
		// the file, so its own line is used.
	} else if _, perr := goccyparser.ParseBytes(data, 0); errors.As(perr, &se) && se.Token != nil && se.Token.Position != nil {
		p := se.Token.Position
		rep.add(Error, "", Pos{max(p.Line, 1), max(p.Column, 1)}, ErrSyntax,
			"%s (YAML syntax; check indentation, colons, brackets and quotes here)", se.Message)
		return
	}
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	rep.add(Error, "", Pos{line, firstColumn(data, line)}, ErrSyntax,
		"%s (YAML syntax; check indentation, colons and quotes around this line)", trimYAMLPrefix(msg))
}

func trimYAMLPrefix(s string) string {
	if len(s) > 6 && s[:6] == "yaml: " {
		return s[6:]
	}
	return s
}

func firstColumn(data []byte, line int) int {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return 1
	}
	l := lines[line-1]
	return len(l) - len(bytes.TrimLeft(l, " \t")) + 1
}

// String renders a Pos as line:col.
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// invalidUTF8 is the line and column (in characters) of the first byte
// that is not UTF-8.
func invalidUTF8(data []byte) (line, col int) {
	line, col = 1, 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return line, col
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		data = data[size:]
	}
	return line, col
}

// Bounds on what goccy's parser is asked to locate: nesting and size.
const (
	goccyMaxDepth = 64
	goccyMaxSize  = 1 << 20
)

// goccyAffordable reports whether data is small and shallow enough for
// goccy's parser: flow brackets and block indentation both count as depth.
func goccyAffordable(data []byte) bool {
	if len(data) > goccyMaxSize {
		return false
	}
	depth, indent, lineStart := 0, 0, true
	for _, c := range data {
		switch {
		case c == '\n':
			indent, lineStart = 0, true
			continue
		case lineStart && c == ' ':
			if indent++; indent > 2*goccyMaxDepth {
				return false
			}
			continue
		case c == '[' || c == '{':
			if depth++; depth > goccyMaxDepth {
				return false
			}
		case c == ']' || c == '}':
			depth--
		}
		lineStart = false
	}
	return true
}
