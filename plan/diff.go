package plan

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/vincent-petithory/dataurl"

	"github.com/swarmboot/swarmboot/gz"
)

// context is the unchanged lines a hunk shows around a change.
const context = 3

// maxDiffLines bounds the lines a file is compared by: past it the plan
// says the file changed without a diff.
const maxDiffLines = 20000

// unifiedDiff is a unified diff of a file's two versions as people read
// them: JSON indented, data URLs decoded, and every certificate and key
// replaced by a line naming it and its digest, so a plan shows which key
// changed and never the key.
func unifiedDiff(path string, old, new []byte) string {
	if binary(old) || binary(new) {
		return fmt.Sprintf("binary file: %d bytes (%s) -> %d bytes (%s)", len(old), digest(old), len(new), digest(new))
	}
	a, b := readable(old), readable(new)
	if len(a) > maxDiffLines || len(b) > maxDiffLines {
		return fmt.Sprintf("too long to show: %d -> %d lines", len(a), len(b))
	}
	hunks := diffHunks(a, b)
	if hunks == "" {
		// Equal once keys are digests: the bytes differ in what the
		// digests stand for (a key issued anew with the same digest is
		// not possible), or in formatting alone.
		return ""
	}
	return "--- " + path + " (now)\n+++ " + path + " (this render)\n" + hunks
}

func binary(b []byte) bool { return !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 }

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:6])
}

// readable is a file's lines with JSON indented, data URLs decoded to
// what they hold and PEM blocks replaced by digests.
func readable(data []byte) []string {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		var out bytes.Buffer
		if json.Indent(&out, data, "", "  ") == nil {
			data = dataURLs.ReplaceAllFunc(out.Bytes(), describeDataURL)
		}
	}
	return redactPEM(strings.Split(strings.TrimSuffix(string(data), "\n"), "\n"))
}

var dataURLs = regexp.MustCompile(`"data:[^"]*"`)

// describeDataURL turns an Ignition data URL (as a JSON string) into
// what it holds: a digest line for key material, the text otherwise.
func describeDataURL(quoted []byte) []byte {
	var s string
	if json.Unmarshal(quoted, &s) != nil {
		return quoted
	}
	u, err := dataurl.DecodeString(s)
	if err != nil {
		return quoted
	}
	body := u.Data
	if gz.Is(body) {
		if r, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
			if b, err := io.ReadAll(io.LimitReader(r, 1<<20)); err == nil {
				body = b
			}
		}
	}
	if kind := pemKind(string(body)); kind != "" || binary(body) {
		if kind == "" {
			kind = "binary"
		}
		return []byte(fmt.Sprintf("%q", "["+kind+" "+digest(body)+"]"))
	}
	text, _ := json.Marshal(string(body))
	return text
}

// pemKind names what a text holding PEM carries: "private key" when any
// block is a key, "certificate" when all are certificates, else "".
func pemKind(s string) string {
	switch {
	case strings.Contains(s, "PRIVATE KEY-----"):
		return "private key"
	case strings.Contains(s, "-----BEGIN CERTIFICATE-----"):
		return "certificate"
	}
	return ""
}

// redactPEM replaces every PEM block, however indented (YAML block
// scalars indent them), by one line: "[certificate sha256:...]" or
// "[private key sha256:...]".
func redactPEM(lines []string) []string {
	out := make([]string, 0, len(lines))
	for i := 0; i < len(lines); i++ {
		begin := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(begin, "-----BEGIN ") {
			out = append(out, lines[i])
			continue
		}
		end := strings.Replace(begin, "BEGIN", "END", 1)
		j := i
		for j < len(lines) && strings.TrimSpace(lines[j]) != end {
			j++
		}
		if j == len(lines) { // not closed: keep nothing of it either
			j--
		}
		block := strings.Join(lines[i:j+1], "\n")
		indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " \t"))]
		out = append(out, indent+"["+pemKind(block)+" "+digest([]byte(block))+"]")
		i = j
	}
	return out
}

// diffHunks is the unified diff of two line lists ("" when equal), from
// their longest common subsequence.
func diffHunks(a, b []string) string {
	ops := lcsOps(a, b)
	var out strings.Builder
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-context, 0)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run-end > 2*context || run == len(ops) {
				end = min(end+context, len(ops))
				break
			}
			end = run
		}
		fmt.Fprintf(&out, "@@ -%d,%d +%d,%d @@\n", ops[start].a+1, count(ops[start:end], '+'), ops[start].b+1, count(ops[start:end], '-'))
		for _, op := range ops[start:end] {
			out.WriteString(string(op.kind) + op.line + "\n")
		}
		i = end
	}
	return out.String()
}

// count is the lines of a hunk one side has: all but the other side's.
func count(ops []op, other byte) int {
	n := 0
	for _, o := range ops {
		if o.kind != other {
			n++
		}
	}
	return n
}

type op struct {
	kind byte // ' ', '-', '+'
	line string
	a, b int // the line's index on each side (where it would be)
}

// lcsOps lists the lines of a and b as kept, removed or added.
func lcsOps(a, b []string) []op {
	// Common head and tail need no table.
	h := 0
	for h < len(a) && h < len(b) && a[h] == b[h] {
		h++
	}
	t := 0
	for t < len(a)-h && t < len(b)-h && a[len(a)-1-t] == b[len(b)-1-t] {
		t++
	}
	ma, mb := a[h:len(a)-t], b[h:len(b)-t]
	l := make([][]int32, len(ma)+1)
	for i := range l {
		l[i] = make([]int32, len(mb)+1)
	}
	for i := len(ma) - 1; i >= 0; i-- {
		for j := len(mb) - 1; j >= 0; j-- {
			if ma[i] == mb[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var ops []op
	for k := 0; k < h; k++ {
		ops = append(ops, op{' ', a[k], k, k})
	}
	i, j := 0, 0
	for i < len(ma) || j < len(mb) {
		switch {
		case i < len(ma) && j < len(mb) && ma[i] == mb[j]:
			ops = append(ops, op{' ', ma[i], h + i, h + j})
			i, j = i+1, j+1
		case i < len(ma) && (j == len(mb) || l[i+1][j] >= l[i][j+1]):
			ops = append(ops, op{'-', ma[i], h + i, h + j})
			i++
		default:
			ops = append(ops, op{'+', mb[j], h + i, h + j})
			j++
		}
	}
	for k := 0; k < t; k++ {
		ops = append(ops, op{' ', a[len(a)-t+k], len(a) - t + k, len(b) - t + k})
	}
	return ops
}
