package profiles_test

import (
	"strings"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/swarmboot/swarmboot/profiles"
)

// service is a unit as systemd runs it: the system's own unit (or the one
// the config writes) with the config's drop-ins applied in name order.
type service struct {
	name        string
	shipped     *profiles.ShippedUnit // the system's unit; nil for the config's own
	execStart   []string              // words of the last ExecStart=
	reset       bool                  // a drop-in reset ExecStart=
	user        string
	env         map[string]string
	envFiles    []string
	credentials map[string]string // LoadCredential= name -> source path
	commands    [][]string        // every Exec*= line, as words
}

// serviceOf composes unit name on the node.
func (s *subject) serviceOf(name string) *service {
	svc := &service{name: name, env: map[string]string{}, credentials: map[string]string{}}
	if text, ok := s.v.units[name]; ok {
		svc.apply(text)
	} else if u, ok := s.k.Unit(name); ok {
		svc.shipped = u
		svc.execStart = words(u.ExecStart)
		svc.user = u.User
		for k, val := range u.Environment {
			svc.env[k] = val
		}
		svc.envFiles = append(svc.envFiles, u.EnvironmentFiles...)
	} else {
		return nil
	}
	for _, d := range sortedKeys(s.v.dropins[name]) {
		svc.apply(s.v.dropins[name][d])
	}
	return svc
}

// apply reads one unit file or drop-in with go-systemd's unit parser.
func (svc *service) apply(text string) {
	opts, err := unit.DeserializeOptions(strings.NewReader(text))
	if err != nil {
		panic(err) // the golden tests hold every unit to systemd's parser
	}
	for _, o := range opts {
		if o.Section != "Service" {
			continue
		}
		switch o.Name {
		case "ExecStart":
			if o.Value == "" {
				svc.execStart, svc.reset = nil, true
				continue
			}
			svc.execStart = words(o.Value)
			svc.commands = append(svc.commands, svc.execStart)
		case "ExecStartPre", "ExecStartPost", "ExecStop", "ExecStopPost", "ExecReload":
			svc.commands = append(svc.commands, words(o.Value))
		case "Environment":
			for _, kv := range words(o.Value) {
				k, val, _ := strings.Cut(kv, "=")
				svc.env[k] = val
			}
		case "EnvironmentFile":
			svc.envFiles = append(svc.envFiles, o.Value)
		case "User":
			svc.user = o.Value
		case "LoadCredential":
			name, src, _ := strings.Cut(o.Value, ":")
			svc.credentials[name] = src
		}
	}
}

// words splits a unit setting the way systemd does: white space separates
// words, "..." and '...' quote, a backslash escapes, and %% is a percent
// sign (other specifiers stay as written).
func words(s string) []string {
	var out []string
	var w strings.Builder
	in, quote, esc := false, byte(0), false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case esc:
			w.WriteByte(c)
			esc = false
		case c == '\\':
			esc, in = true, true
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote, in = c, true
		case quote == 0 && (c == ' ' || c == '\t'):
			if in {
				out = append(out, w.String())
				w.Reset()
				in = false
			}
		case c == '%' && i+1 < len(s) && s[i+1] == '%':
			w.WriteByte('%')
			i++
			in = true
		default:
			w.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, w.String())
	}
	return out
}

// expand replaces $VAR and ${VAR} words as systemd does in ExecStart=: a
// word that is only an unset variable vanishes, a set one may split into
// several words.
func expand(ws []string, env map[string]string) []string {
	var out []string
	for _, w := range ws {
		name, whole := strings.TrimPrefix(w, "$"), strings.HasPrefix(w, "$")
		name = strings.TrimSuffix(strings.TrimPrefix(name, "{"), "}")
		if whole && isVarName(name) {
			out = append(out, strings.Fields(env[name])...)
			continue
		}
		for k, v := range env {
			w = strings.ReplaceAll(w, "${"+k+"}", v)
		}
		out = append(out, w)
	}
	return out
}

func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c != '_' && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// command strips an Exec line's prefixes (-, @, +, !, :) off its path.
func command(ws []string) string {
	if len(ws) == 0 {
		return ""
	}
	return strings.TrimLeft(ws[0], "-@+!:")
}
