package cluster

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxNodeVisits bounds the YAML nodes one description may expand to once
// aliases are followed, so an alias bomb fails fast instead of eating memory.
// A 10,000-node cluster needs about 100,000.
const maxNodeVisits = 2_000_000

// decoder walks a yaml.v3 node tree into plain structs by the settings
// tables, checking each key's own rules as it goes (check.go). Walking
// nodes by hand (instead of yaml.Unmarshal) keeps the line and column of
// every value, catches unknown and duplicate keys, and bounds alias
// expansion.
type decoder struct {
	rep    *Report
	pos    map[string]Pos
	failed map[string]bool // paths whose value could not be decoded
	// rejected: paths whose value broke its key's own rules, so rules
	// spanning several keys can leave it alone (validate.go).
	rejected map[string]bool
	dir      string // snippet paths are relative to it
	file     string // the description, for messages
	visits   int
	abort    bool // budget exhausted: stop walking
}

func posOf(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

func (d *decoder) errorf(n *yaml.Node, path string, kind error, format string, args ...any) {
	d.rep.add(Error, path, posOf(n), kind, format, args...)
	if kind != ErrUnknownKey && kind != ErrDuplicateKey {
		d.failed[path] = true
	}
}

// resolve follows aliases and charges the visit budget.
func (d *decoder) resolve(n *yaml.Node, path string) *yaml.Node {
	if d.abort || d.rep.full() {
		return nil
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	d.visits++
	if d.visits > maxNodeVisits {
		d.abort = true
		d.errorf(n, path, ErrTooComplex,
			"more than %d YAML nodes after expanding aliases; remove the repeated aliases (an alias bomb?)", maxNodeVisits)
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// DescribeValue names what the user wrote, for "expected X, got Y"
// messages: "a list", "the whole number 5", "the string \"x\"".
func DescribeValue(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!int":
		return "the whole number " + n.Value
	case "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "nothing"
	case "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	}
	return fmt.Sprintf("a %s value", strings.TrimPrefix(n.Tag, "!!"))
}

// mapping decodes a mapping by its settings, reporting unknown and
// duplicate keys. It returns false when n is not a mapping.
func (d *decoder) mapping(n *yaml.Node, path string, fields []setting) bool {
	if n = d.resolve(n, path); n == nil || isNull(n) {
		return false
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, ErrType, "expected a mapping of keys to values, got %s", DescribeValue(n))
		return false
	}
	d.pos[path] = posOf(n)
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k = d.resolve(k, path); k == nil {
			return true
		}
		if k.Kind != yaml.ScalarNode || k.Tag == "!!null" {
			d.errorf(k, path, ErrType, "keys must be plain words, got %s", DescribeValue(k))
			continue
		}
		if k.Value == "<<" {
			d.errorf(k, path, ErrUnknownKey, "merge keys (<<) are not supported; write the keys out or use an alias for the whole value")
			continue
		}
		sub := path + "." + k.Value
		if seen[k.Value] {
			d.errorf(k, sub, ErrDuplicateKey, "key %q is given twice in this mapping; keep one", k.Value)
			continue
		}
		seen[k.Value] = true
		f := findField(fields, k.Value)
		if f == nil {
			d.errorf(k, sub, ErrUnknownKey, "unknown key %q%s", k.Value, suggestKey(k.Value, fields))
			continue
		}
		d.pos[sub] = posOf(v)
		f.v.decode(v, sub)
		d.checkKey(f, sub)
	}
	d.checkRequired(fields, path, seen)
	return true
}

func findField(fields []setting, key string) *setting {
	for i := range fields {
		if fields[i].name == key {
			return &fields[i]
		}
	}
	return nil
}

func suggestKey(key string, fields []setting) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return suggest(key, names)
}

// scalar resolves n and checks it is a scalar of one of the tags.
func (d *decoder) scalar(n *yaml.Node, path, want string, tags ...string) *yaml.Node {
	if n = d.resolve(n, path); n == nil || isNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		for _, t := range tags {
			if n.Tag == t {
				return n
			}
		}
	}
	hint := ""
	if n.Kind == yaml.ScalarNode && want == "a string" {
		hint = "; put it in quotes"
	}
	d.errorf(n, path, ErrType, "expected %s, got %s%s", want, DescribeValue(n), hint)
	return nil
}

func (d *decoder) str(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n = d.scalar(n, path, "a string", "!!str"); n != nil {
			*dst = n.Value
		}
	}
}

// text is str as a setting's value; rules are its own beyond the row's
// syntax and enum.
func (d *decoder) text(dst *string, rules ...func(string) *problem) value {
	return value{json: "string", dst: dst, decode: d.str(dst), check: firstBroken(dst, rules)}
}

func (d *decoder) integer(dst *int, rules ...func(int) *problem) value {
	return value{json: "integer", dst: dst, zeroIsValue: true, check: firstBroken(dst, rules), decode: func(n *yaml.Node, path string) {
		if n = d.scalar(n, path, "a whole number", "!!int"); n == nil {
			return
		}
		v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil || v > math.MaxInt32 || v < math.MinInt32 {
			d.errorf(n, path, ErrOutOfRange, "%s is not a usable whole number", n.Value)
			return
		}
		*dst = int(v)
	}}
}

func (d *decoder) boolean(dst *bool) value {
	return value{json: "boolean", dst: dst, zeroIsValue: true, decode: func(n *yaml.Node, path string) {
		if n = d.scalar(n, path, "true or false", "!!bool"); n == nil {
			return
		}
		v, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			d.errorf(n, path, ErrType, "expected true or false, got %q", n.Value)
			return
		}
		*dst = v
	}}
}

// object decodes a mapping into *dst by its settings; done, if any, runs
// when the value was a mapping.
func (d *decoder) object(dst any, fields []setting, done func()) value {
	return value{json: "object", dst: dst, fields: fields, decode: func(n *yaml.Node, path string) {
		if d.mapping(n, path, fields) && done != nil {
			done()
		}
	}}
}

// list decodes a sequence, calling item for each element.
func (d *decoder) list(n *yaml.Node, path string, item func(n *yaml.Node, path string)) {
	if n = d.resolve(n, path); n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, ErrType, "expected a list, got %s; write [a, b] or one '- item' a line", DescribeValue(n))
		return
	}
	for i, e := range n.Content {
		if d.abort {
			return
		}
		sub := fmt.Sprintf("%s[%d]", path, i)
		d.pos[sub] = posOf(e)
		item(e, sub)
	}
}

// strList is a list of strings; rules are the list's own (its items'
// are the row's syntax and enum).
func (d *decoder) strList(dst *[]string, rules ...func([]string) *problem) value {
	return value{json: "array", items: &value{json: "string"}, dst: dst,
		check: firstBroken(dst, rules),
		decode: func(n *yaml.Node, path string) {
			d.list(n, path, func(e *yaml.Node, sub string) {
				var s string
				d.str(&s)(e, sub)
				*dst = append(*dst, s)
			})
		}}
}

func (d *decoder) addr(dst *netip.Addr, rules ...func(netip.Addr) *problem) value {
	return value{json: "string", dst: dst, check: firstBroken(dst, rules), decode: func(n *yaml.Node, path string) {
		if n = d.scalar(n, path, "an IP address", "!!str"); n == nil {
			return
		}
		a, err := netip.ParseAddr(n.Value)
		if err != nil || a.Zone() != "" {
			d.errorf(n, path, ErrInvalidValue,
				"%q is not an IP address; write an IPv4 address such as 192.168.101.111 or an IPv6 address such as fd00::11", n.Value)
			return
		}
		*dst = a.Unmap()
	}}
}

func (d *decoder) addrList(dst *[]netip.Addr) value {
	return value{json: "array", items: &value{json: "string"}, dst: dst,
		decode: func(n *yaml.Node, path string) {
			d.list(n, path, func(e *yaml.Node, sub string) {
				var a netip.Addr
				d.addr(&a).decode(e, sub)
				if a.IsValid() {
					*dst = append(*dst, a)
				}
			})
		}}
}

func (d *decoder) mac(dst *string, rules ...func(string) *problem) value {
	return value{json: "string", pattern: `^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$`, dst: dst, check: firstBroken(dst, rules), decode: func(n *yaml.Node, path string) {
		if n = d.scalar(n, path, "a MAC address", "!!str"); n == nil {
			return
		}
		hw, err := net.ParseMAC(n.Value)
		if err != nil || len(hw) != 6 {
			d.errorf(n, path, ErrInvalidValue, "%q is not a MAC address; write six hex pairs such as 52:54:00:12:34:56", n.Value)
			return
		}
		*dst = hw.String()
	}}
}

func (d *decoder) duration(dst *time.Duration, rules ...func(time.Duration) *problem) value {
	return value{json: "string", pattern: `^([0-9]+(h|m|s))+$`, dst: dst, check: firstBroken(dst, rules), decode: func(n *yaml.Node, path string) {
		if n = d.scalar(n, path, "a duration such as 20s", "!!str"); n == nil {
			return
		}
		v, err := time.ParseDuration(n.Value)
		if err != nil || v <= 0 || v%time.Second != 0 {
			d.errorf(n, path, ErrInvalidValue, "%q is not a duration in whole seconds; write e.g. 20s or 2m", n.Value)
			return
		}
		*dst = v
	}}
}
