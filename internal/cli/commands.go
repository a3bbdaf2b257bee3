package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

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
			"An existing FILE is kept unless --force is given.",
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			force := fs.BoolP("force", "f", false, "overwrite FILE if it exists")
			return func(e env, args []string) error {
				text, err := examples.FS.ReadFile(examples.Starter)
				if err != nil {
					return err
				}
				switch len(args) {
				case 0:
					_, err := e.stdout.Write(text)
					return err
				case 1:
				default:
					return usagef("at most one FILE, got %d", len(args))
				}
				if _, err := os.Stat(args[0]); err == nil && !*force {
					return usagef("%s exists; choose another name or pass --force to overwrite it", args[0])
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
		name: "validate", args: "[--strict] FILE",
		summary: "check a description and report every problem with file:line:col",
		help: "Checks the description and prints every error and warning as\n" +
			"  FILE:LINE:COL: error at $.path: what is wrong and what to do\n" +
			"Exit 0 when valid, 1 when not. Warnings fail only with --strict.\n" +
			"FILE may be - for standard input.",
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			strict := fs.Bool("strict", false, "fail on warnings too")
			return func(e env, args []string) error {
				file, err := oneFile(args)
				if err != nil {
					return err
				}
				c, err := load(e, file, *strict)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "%s: valid: cluster %s, %d nodes (%d etcd, %d docker)\n",
					c.File, c.Name, len(c.Nodes), len(c.Members()), len(c.DockerHosts()))
				return nil
			}
		},
	}
}

func profilesCommand() command {
	return command{
		name: "profiles", args: "",
		summary: "list the target systems and the formats each reads",
		help:    "Lists the built-in profiles, their default formats (first) and other formats.",
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			return func(e env, args []string) error {
				if len(args) > 0 {
					return usagef("profiles takes no arguments")
				}
				for _, name := range profiles.Names() {
					p, _ := profiles.Lookup(name)
					fmt.Fprintf(e.stdout, "%-8s %-40s %s\n", p.Name, formatNames(p.Formats), p.Description)
				}
				return nil
			}
		},
	}
}

func formatNames(fs []profiles.Format) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = string(f)
	}
	return strings.Join(names, ",")
}

func versionCommand() command {
	return command{
		name: "version", args: "",
		summary: "print the version",
		help:    "Prints swarmboot's version.",
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			return func(e env, args []string) error {
				fmt.Fprintf(e.stdout, "swarmboot %s\n", Version)
				return nil
			}
		},
	}
}
