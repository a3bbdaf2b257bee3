// Package cli is swarmboot's command line: flag parsing, the commands, and
// exit codes. Commands only wire the pipeline
// cluster.Load -> delivery.Build (render.Render, delivery.Apply) -> output.WriteTree
// and print what happened.
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/internal/english"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitInvalid = 1 // the description is invalid, or reading/writing failed
	ExitUsage   = 2 // the command line is wrong
	ExitChanges = 3 // render --plan: the render would change the output
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "devel"

// usageError marks a mistake on the command line (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// env is what a command may touch.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

type command struct {
	name, args, summary, help string
	flags                     func(*pflag.FlagSet) func(e env, args []string) error
}

func commands() []command {
	return []command{initCommand(), validateCommand(), renderCommand(), vagrantCommand(), pkiCommand(), verifyCommand(), profilesCommand(), schemaCommand(), completionCommand(), versionCommand()}
}

const overview = `swarmboot turns one cluster description (YAML) into the boot-time user-data
of every node of an etcd-backed classic Docker Swarm cluster.

Usage:
  swarmboot COMMAND [flags] [args]

Commands:
%s
Run 'swarmboot COMMAND --help' for a command's flags.
Exit status: 0 ok, 1 invalid description or I/O error, 2 usage error,
3 changes to come (render --plan).
`

// Main runs the command line and returns the exit status.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{stdin, stdout, stderr}
	if len(args) == 0 {
		printOverview(stderr)
		return ExitUsage
	}
	name := args[0]
	switch name {
	case "-h", "--help", "help":
		if len(args) > 1 {
			return Main([]string{args[1], "--help"}, stdin, stdout, stderr)
		}
		printOverview(stdout)
		return ExitOK
	case "-v", "--version":
		name = "version"
	case completeCommand: // the completion scripts' question, never an error
		complete(stdout, args[1:])
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return run(c, e, args[1:])
		}
	}
	names := make([]string, 0, 5)
	for _, c := range commands() {
		names = append(names, c.name)
	}
	fmt.Fprintf(stderr, "swarmboot: unknown command %q; commands are %s (swarmboot --help)\n", name, strings.Join(names, ", "))
	return ExitUsage
}

func printOverview(w io.Writer) {
	var b strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, overview, b.String())
}

func run(c command, e env, args []string) int {
	fs := pflag.NewFlagSet(c.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	action := c.flags(fs)
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(e.stderr, "swarmboot %s: %v\nRun 'swarmboot %s --help'.\n", c.name, err, c.name)
		return ExitUsage
	}
	if *help {
		fmt.Fprintf(e.stdout, "Usage: swarmboot %s %s\n\n%s\n\nFlags:\n%s", c.name, c.args, c.help, fs.FlagUsages())
		return ExitOK
	}
	err := action(e, fs.Args())
	var ue usageError
	var oe *delivery.OptionError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue), errors.As(err, &oe):
		fmt.Fprintf(e.stderr, "swarmboot %s: %v\nRun 'swarmboot %s --help'.\n", c.name, err, c.name)
		return ExitUsage
	case errors.Is(err, errChanges):
		return ExitChanges
	case errors.Is(err, errReported):
		return ExitInvalid
	default:
		fmt.Fprintf(e.stderr, "swarmboot %s: %v\n", c.name, err)
		return ExitInvalid
	}
}

// errReported: the problem was already printed (a validation report).
var errReported = errors.New("reported")

// oneFile takes the single FILE argument ("-" for standard input).
func oneFile(args []string) (string, error) {
	switch len(args) {
	case 1:
		return args[0], nil
	case 0:
		return "", usagef("missing FILE: give the description's path, or - to read standard input")
	}
	return "", usagef("one FILE expected, got %d: %s", len(args), strings.Join(args, " "))
}

// count says "1 node" or "3 nodes".
func count(n int, noun string) string { return english.Count(n, noun) }
