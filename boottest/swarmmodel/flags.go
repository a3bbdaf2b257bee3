// Command-line parsing as swarm 1.2.9 did it with its vendored urfave/cli
// (cli/flags.go, cli/commands.go, vendor/github.com/urfave/cli/flag.go,
// command.go): Go flag syntax (-f, --flag, --flag=v, --flag v), aliases
// ("advertise, addr"), environment fallbacks ($SWARM_HOST ...), and a
// command's flags may follow its positional argument (the flags from the
// first "-" on are parsed first, then the arguments before them).
//
// One deliberate simplification: for list flags (-H, --filter, ...)
// command-line values replace the default or environment value. urfave
// appended them and swarm then dropped the first element, which gives the
// same result except for a multi-valued environment variable.

package swarmmodel

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
)

type flagKind int

const (
	kindBool flagKind = iota
	kindString
	kindInt
	kindSlice
)

type flagDef struct {
	names []string // first is the canonical name
	kind  flagKind
	def   string   // default of string and int flags
	defs  []string // default of list flags
	usage string
	env   string
}

// parsedFlags holds the values of one flag set after parsing.
type parsedFlags struct {
	defs   []*flagDef
	set    map[*flagDef]bool // given on the command line
	str    map[*flagDef]string
	slices map[*flagDef][]string
}

func lookupFlag(defs []*flagDef, name string) *flagDef {
	for _, d := range defs {
		for _, n := range d.names {
			if n == name {
				return d
			}
		}
	}
	return nil
}

// parseFlags parses args with Go flag syntax and stops at the first
// non-flag argument or after "--". It returns the remaining arguments.
func parseFlags(defs []*flagDef, args []string, getenv func(string) string) (*parsedFlags, []string, error) {
	p := &parsedFlags{defs: defs, set: map[*flagDef]bool{}, str: map[*flagDef]string{}, slices: map[*flagDef][]string{}}
	given := map[*flagDef][]string{} // names used, to catch two forms of one flag
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if name == "" || name[0] == '-' || name[0] == '=' {
			return nil, nil, fmt.Errorf("bad flag syntax: %s", a)
		}
		value, hasValue := "", false
		if eq := strings.IndexByte(name, '='); eq >= 0 {
			name, value, hasValue = name[:eq], name[eq+1:], true
		}
		d := lookupFlag(defs, name)
		if d == nil {
			return nil, nil, fmt.Errorf("flag provided but not defined: -%s", name)
		}
		if d.kind == kindBool {
			if !hasValue {
				value = "true"
			} else if _, err := strconv.ParseBool(value); err != nil {
				return nil, nil, fmt.Errorf("invalid boolean value %q for -%s: parse error", value, name)
			}
		} else if !hasValue {
			if i+1 >= len(args) {
				return nil, nil, fmt.Errorf("flag needs an argument: -%s", name)
			}
			i++
			value = args[i]
		}
		if d.kind == kindInt {
			if _, err := strconv.ParseInt(value, 0, 64); err != nil {
				return nil, nil, fmt.Errorf("invalid value %q for flag -%s: parse error", value, name)
			}
		}
		if !contains(given[d], name) {
			given[d] = append(given[d], name)
		}
		p.set[d] = true
		if d.kind == kindSlice {
			p.slices[d] = append(p.slices[d], value)
		} else {
			p.str[d] = value
		}
	}
	for _, d := range defs {
		if len(given[d]) > 1 {
			return nil, nil, fmt.Errorf("Cannot use two forms of the same flag: %s", strings.Join(given[d], " "))
		}
		if p.set[d] {
			continue
		}
		env := ""
		if d.env != "" {
			env = getenv(d.env)
		}
		switch d.kind {
		case kindSlice:
			p.slices[d] = d.defs
			if env != "" {
				var vals []string
				for _, v := range strings.Split(env, ",") {
					vals = append(vals, strings.TrimSpace(v))
				}
				p.slices[d] = vals
			}
		case kindBool:
			p.str[d] = "false"
			if _, err := strconv.ParseBool(env); env != "" && err == nil {
				p.str[d] = env
			}
		case kindInt:
			p.str[d] = d.def
			if _, err := strconv.ParseInt(env, 0, 64); env != "" && err == nil {
				p.str[d] = env
			}
		default:
			p.str[d] = d.def
			if env != "" {
				p.str[d] = env
			}
		}
	}
	return p, args[i:], nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// reorderCommandArgs puts a command's flags before its arguments, as
// urfave/cli's Command.Run did: everything from the first "-" argument on is
// parsed as flags, the arguments before it are appended after them.
func reorderCommandArgs(args []string) []string {
	first, term := -1, -1
	for i, a := range args {
		if a == "--" {
			term = i
			break
		}
		if strings.HasPrefix(a, "-") && first == -1 {
			first = i
		}
	}
	if first == -1 {
		return args
	}
	regular := append([]string(nil), args[:first]...)
	var flagArgs []string
	if term > -1 {
		flagArgs = args[first:term]
		regular = append(regular, args[term:]...)
	} else {
		flagArgs = args[first:]
	}
	return append(append([]string(nil), flagArgs...), regular...)
}

func (p *parsedFlags) def(name string) *flagDef {
	d := lookupFlag(p.defs, name)
	if d == nil {
		panic("swarmmodel: undefined flag " + name)
	}
	return d
}

func (p *parsedFlags) String(name string) string { return p.str[p.def(name)] }

func (p *parsedFlags) Bool(name string) bool {
	b, _ := strconv.ParseBool(p.str[p.def(name)])
	return b
}

func (p *parsedFlags) Int(name string) int {
	n, _ := strconv.ParseInt(p.str[p.def(name)], 0, 64)
	return int(n)
}

func (p *parsedFlags) Slice(name string) []string { return p.slices[p.def(name)] }

// IsSet reports whether the flag was given on the command line (not
// through its environment variable), as urfave's Context.IsSet.
func (p *parsedFlags) IsSet(name string) bool { return p.set[p.def(name)] }

// helpLine renders a flag as urfave/cli's Flag.String did.
func (d *flagDef) helpLine() string {
	var names []string
	for _, n := range d.names {
		if len(n) == 1 {
			names = append(names, "-"+n)
		} else {
			names = append(names, "--"+n)
		}
	}
	pre := strings.Join(names, ", ")
	var s string
	switch d.kind {
	case kindBool:
		s = fmt.Sprintf("%s\t%s", pre, d.usage)
	case kindSlice:
		first := names[0]
		s = fmt.Sprintf("%s [%s option %s option]\t%s", pre, first, first, d.usage)
	default:
		if d.def != "" {
			s = fmt.Sprintf("%s %q\t%s", pre, d.def, d.usage)
		} else {
			s = fmt.Sprintf("%s \t%s", pre, d.usage)
		}
	}
	if d.env != "" {
		s += " [$" + d.env + "]"
	}
	return s
}

func newHelpWriter(w interface{ Write([]byte) (int, error) }) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 1, '\t', 0)
}
