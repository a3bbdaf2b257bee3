package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/swarmboot/swarmboot"
	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/examples"
	"github.com/swarmboot/swarmboot/output"
	"github.com/swarmboot/swarmboot/profiles"
)

func initCommand() command {
	return command{
		name: "init", args: "[FILE]",
		summary: "write a commented starter description",
		help: "Writes a starter description that documents every setting and its default\n" +
			"(the seed's six-node cluster). Without FILE it goes to standard output.\n" +
			"An existing FILE is kept unless --force is given. Your SSH public key\n" +
			"(~/.ssh/id_ed25519.pub, id_ecdsa.pub or id_rsa.pub, the first found) goes\n" +
			"into ssh_authorized_keys, so you can log in to the nodes; without one it\n" +
			"says so, and validate and render warn until you add a key.",
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			force := fs.Bool("force", false, "overwrite FILE if it exists")
			return func(e env, args []string) error {
				text, err := examples.FS.ReadFile(examples.Starter)
				if err != nil {
					return err
				}
				text, note := starterWithKey(text)
				fmt.Fprintln(e.stderr, note)
				switch len(args) {
				case 0:
					_, err := e.stdout.Write(text)
					return err
				case 1:
				default:
					return usagef("at most one FILE, got %d", len(args))
				}
				if _, err := os.Stat(args[0]); err == nil && !*force {
					// Not a usage error: the command line is right, the file is there.
					return fmt.Errorf("%s exists and was kept; choose another name, or pass --force to overwrite it", args[0])
				}
				if err := output.WriteFile(args[0], text, 0o644); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "wrote %s; edit it, then run: swarmboot render %s -o out\n", args[0], args[0])
				return nil
			}
		},
	}
}

func validateCommand() command {
	return command{
		name: "validate", args: "[--strict] [--json] FILE",
		summary: "check a description and report every problem with file:line:col",
		help: "Checks the description and prints every error and warning as\n" +
			"  FILE:LINE:COL: error at $.path: what is wrong and what to do\n" +
			"then builds every node's config as render does (snippets merged, Butane\n" +
			"translated), writing nothing, so a valid description renders.\n" +
			"Exit 0 when valid, 1 when not. Warnings fail only with --strict.\n" +
			"With --json, standard output gets one object: {file, valid, summary,\n" +
			"findings: [{file, line, column, path, severity, message}]}, for editors\n" +
			"and CI. FILE may be - for standard input.",
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			strict := fs.Bool("strict", false, "fail on warnings too")
			asJSON := fs.Bool("json", false, "print the findings as JSON on standard output")
			return func(e env, args []string) error {
				file, err := oneFile(args)
				if err != nil {
					return err
				}
				// The same call as render, with stand-ins where the PKI has
				// no certificate yet: snippets are merged and every config
				// built (nothing written), so a description that validates
				// also renders.
				o := swarmboot.Options{Strict: *strict, PKIMode: swarmboot.StandIns}
				if *asJSON {
					res, err := buildQuiet(e, file, o)
					if res == nil {
						return err
					}
					return printFindings(e, res, err)
				}
				res, err := build(e, file, o)
				if err != nil {
					return err
				}
				c := res.Cluster
				fmt.Fprintf(e.stderr, "%s: valid: cluster %s, %s (%d etcd, %d docker)\n",
					c.File, c.Name, count(len(c.Nodes), "node"), len(c.Members()), len(c.DockerHosts()))
				return nil
			}
		},
	}
}

// writeProfiles prints the profiles and their compatibility table.
func writeProfiles(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tFORMATS\tDESCRIPTION")
	for _, p := range profiles.Families() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Name, strings.ReplaceAll(profiles.JoinFormats(p.Formats), " ", ""), p.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tRELEASE\tDOCKER\tETCD\tSUPPORT")
	for _, p := range profiles.Families() {
		names := p.ReleaseNames()
		for i, r := range p.Releases {
			name := p.Name
			if names != nil {
				name = names[i]
			}
			release := strings.TrimSpace(r.Version + " " + r.Codename)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, release, r.Docker, r.Etcd, r.Evidence)
		}
	}
	return tw.Flush()
}

func profilesCommand() command {
	return command{
		name: "profiles", args: "",
		summary: "list the target systems, their formats and the releases they cover",
		help: "Lists the built-in profiles with their formats (the default first), then\n" +
			"the releases each covers: the Docker engine and etcd each ships, and how\n" +
			"its support is known: \"booted here\" (swarmboot's boot test boots it), or\n" +
			"\"checked against its sources (DATE)\": every fact a render relies on was\n" +
			"read from the system's own units, wrappers and packages on that date\n" +
			"(profiles/contracts/), \"partly\" where some could not be read here. A\n" +
			"profile whose releases need different packages (debian) is named with its\n" +
			"release (debian-13) when packages are installed at boot.",
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			return func(e env, args []string) error {
				if len(args) > 0 {
					return usagef("profiles takes no arguments")
				}
				return writeProfiles(e.stdout)
			}
		},
	}
}

// version is Version when set at build time, else what the Go toolchain
// recorded: the module version (go install ...@vX) or the VCS revision.
func version() string {
	if Version != "devel" {
		return Version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return Version
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	switch {
	case rev == "":
		return Version
	case dirty:
		return "devel-" + rev + "-dirty"
	}
	return "devel-" + rev
}

func schemaCommand() command {
	return command{
		name: "schema", args: "",
		summary: "print the description's JSON Schema (for editors)",
		help: "Prints the JSON Schema of the description, for editor completion and checks,\n" +
			"e.g. save it as swarmboot.schema.json and start the description with\n" +
			"  # yaml-language-server: $schema=swarmboot.schema.json\n" +
			"`swarmboot validate` checks more than the schema can (topology, ports, files).",
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			return func(e env, args []string) error {
				if len(args) > 0 {
					return usagef("schema takes no arguments")
				}
				_, err := e.stdout.Write(cluster.Schema)
				return err
			}
		},
	}
}

func versionCommand() command {
	return command{
		name: "version", args: "",
		summary: "print the version",
		help:    "Prints swarmboot's version.",
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			return func(e env, args []string) error {
				fmt.Fprintf(e.stdout, "swarmboot %s\n", version())
				return nil
			}
		},
	}
}

// starterKeys are the public keys init looks for, in ~/.ssh, in order.
var starterKeys = []string{"id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"}

// starterWithKey puts the user's SSH public key into the starter's
// ssh_authorized_keys, when one is found and the description takes it,
// and says what it did.
func starterWithKey(text []byte) ([]byte, string) {
	const placeholder = "# ssh_authorized_keys:          # default: none\n#   - ssh-ed25519 AAAA... you@example\n"
	none := "no SSH public key in ~/.ssh (" + strings.Join(starterKeys, ", ") + "): nobody can log in to the nodes until you add one under ssh_authorized_keys"
	home, err := os.UserHomeDir()
	if err != nil || !bytes.Contains(text, []byte(placeholder)) {
		return text, none
	}
	for _, name := range starterKeys {
		path := filepath.Join(home, ".ssh", name)
		b, err := readSmall(path, 16<<10)
		if err != nil {
			continue
		}
		key, _ := json.Marshal(strings.TrimSpace(string(b))) // a YAML double-quoted scalar
		with := bytes.Replace(text, []byte(placeholder),
			[]byte("ssh_authorized_keys:            # from ~/.ssh/"+name+" (swarmboot init)\n  - "+string(key)+"\n"), 1)
		if _, rep := cluster.Load(examples.Starter, with); rep.Err(true) != nil {
			return text, "~/.ssh/" + name + " is not a public key the description takes (" + firstLine(rep.Err(true).Error()) + "); add yours under ssh_authorized_keys"
		}
		return with, "put ~/.ssh/" + name + " into ssh_authorized_keys"
	}
	return text, none
}

// readSmall reads a regular file of at most limit bytes.
func readSmall(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() > limit {
		return nil, fmt.Errorf("%s: not a small regular file", path)
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
