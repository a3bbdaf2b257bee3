// The program's entry: global flags, help and version, dispatch to a
// command, and the exit status. Learned from cli/cli.go, cli/help.go and
// vendor/github.com/urfave/cli/app.go, help.go of swarm 1.2.9: help and the
// usage messages go to stdout, log lines go to stdout once the global flags
// are parsed (cli.go sets logrus' output there), and a fatal log line exits
// with status 1.

package swarmmodel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Main runs the swarm model with args (without the program name) and
// returns the exit status. It returns when ctx is cancelled (SIGTERM).
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, getenv, stdout, stderr, defaultTiming(), nil)
}

// cmdContext is what a command gets.
type cmdContext struct {
	flags  *parsedFlags
	args   []string
	getenv func(string) string
	log    *logger
	stdout io.Writer
	stderr io.Writer
	timing timing
	debug  bool
	// ready, if set, is called by manage with its listeners' addresses
	// once it serves (tests use it to learn the ports).
	ready func([]string)
}

// fatalf makes the error a command returns to end the program with a
// level=fatal log line and status 1, as logrus' Fatal did.
func fatalf(format string, a ...any) error { return fmt.Errorf(format, a...) }

// stdlogFatal is a fatal error printed by Go's standard "log" package,
// which `swarm list` used instead of logrus: "2006/01/02 15:04:05 msg" on
// stderr.
type stdlogFatal struct{ msg string }

func (e *stdlogFatal) Error() string { return e.msg }

func runWith(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, t timing, ready func([]string)) int {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	gf, rest, err := parseFlags(globalFlags, args, getenv)
	if err != nil {
		// Before cli.go's Before hook logrus still writes to stderr.
		fmt.Fprintln(stdout, "Incorrect Usage.")
		fmt.Fprintln(stdout)
		printAppHelp(stdout)
		newLogger(stderr, levelInfo).Fatal(err.Error())
		return 1
	}
	if gf.Bool("help") {
		printAppHelp(stdout)
		return 0
	}
	if gf.Bool("version") {
		fmt.Fprintf(stdout, "swarm version %s (%s)\n", Version, gitCommit)
		return 0
	}
	log := newLogger(stdout, levelInfo)
	lvl, err := parseLevel(gf.String("log-level"))
	if err != nil {
		log.Fatal(err.Error())
		return 1
	}
	if !gf.IsSet("log-level") && gf.Bool("debug") {
		lvl = levelDebug
	}
	log.setLevel(lvl)

	if len(rest) == 0 {
		printAppHelp(stdout)
		return 0
	}
	name := rest[0]
	if name == "help" || name == "h" {
		if len(rest) < 2 {
			printAppHelp(stdout)
			return 0
		}
		c := findCommand(rest[1])
		if c == nil {
			fmt.Fprintf(stdout, "No help topic for '%v'\n", rest[1])
			return 1
		}
		printCommandHelp(stdout, c)
		return 0
	}
	c := findCommand(name)
	if c == nil {
		// swarm printed this and exited 0; the model fails, so that a
		// mistyped unit does not look like a success.
		fmt.Fprintf(stdout, "No help topic for '%v'\n", name)
		fmt.Fprintf(stdout, "Run 'swarm --help' for the list of commands.\n")
		return 1
	}
	defs := append(append([]*flagDef(nil), c.flags...), flHelp)
	cf, cargs, err := parseFlags(defs, reorderCommandArgs(rest[1:]), getenv)
	if err != nil {
		fmt.Fprintln(stdout, "Incorrect Usage.")
		fmt.Fprintln(stdout)
		printCommandHelp(stdout, c)
		log.Fatal(err.Error())
		return 1
	}
	if cf.Bool("help") {
		printCommandHelp(stdout, c)
		return 0
	}
	cc := &cmdContext{flags: cf, args: cargs, getenv: getenv, log: log,
		stdout: stdout, stderr: stderr, timing: t, debug: gf.Bool("debug"), ready: ready}
	err = c.run(ctx, cc)
	var sf *stdlogFatal
	switch {
	case err == nil:
		return 0
	case errors.As(err, &sf):
		fmt.Fprintf(stderr, "%s %s\n", time.Now().Format("2006/01/02 15:04:05"), sf.msg)
		return 1
	default:
		log.Fatal(err.Error())
		return 1
	}
}

// discoveryArg is cli/flags.go getDiscovery: exactly one argument, or
// $SWARM_DISCOVERY.
func (c *cmdContext) discoveryArg() string {
	if len(c.args) == 1 {
		return c.args[0]
	}
	return c.getenv("SWARM_DISCOVERY")
}

// duration is urfave's Context.Duration: an unparsable value is 0.
func (c *cmdContext) duration(name string) time.Duration {
	d, err := time.ParseDuration(c.flags.String(name))
	if err != nil {
		return 0
	}
	return d
}

func printAppHelp(w io.Writer) {
	tw := newHelpWriter(w)
	fmt.Fprintf(tw, "Usage: swarm [OPTIONS] COMMAND [arg...]\n\n")
	fmt.Fprintf(tw, "A Docker-native clustering system\n\n")
	fmt.Fprintf(tw, "Version: %s (%s)\n\n", Version, gitCommit)
	fmt.Fprintf(tw, "Options:\n")
	for _, f := range globalFlags {
		fmt.Fprintf(tw, "  %s\n", f.helpLine())
	}
	fmt.Fprintf(tw, "  \nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s, %s\t%s\n", c.name, c.short, c.usage)
	}
	fmt.Fprintf(tw, "  help\tShows a list of commands or help for one command\n")
	fmt.Fprintf(tw, "  \nRun 'swarm COMMAND --help' for more information on a command.\n")
	fmt.Fprintf(tw, "\nThis is swarmboot's model of classic swarm %s (boottest/swarmmodel), not swarm itself.\n", Version)
	tw.Flush()
}

func printCommandHelp(w io.Writer, c *command) {
	tw := newHelpWriter(w)
	usage := "Usage: swarm " + c.name
	if len(c.flags) > 0 {
		usage += " [OPTIONS]"
	}
	if c.discovery {
		usage += " <discovery>"
	}
	fmt.Fprintf(tw, "%s\n\n%s\n", usage, c.usage)
	if c.discovery {
		fmt.Fprintf(tw, "\nArguments:\n")
		fmt.Fprintf(tw, "   <discovery>    discovery service to use [$SWARM_DISCOVERY]\n")
		fmt.Fprintf(tw, "                   * etcd://<ip1>,<ip2>/<path>\n")
		fmt.Fprintf(tw, "                   (token://, consul://, zk://, file:// and nodes:// are not part of this model)\n")
	}
	if len(c.flags) > 0 {
		fmt.Fprintf(tw, "\nOptions:\n")
		for _, f := range c.flags {
			fmt.Fprintf(tw, "   %s\n", f.helpLine())
		}
		if c.name == "manage" {
			fmt.Fprintf(tw, "   \t * swarm.overcommit=0.05\tovercommit to apply on resources\n")
			fmt.Fprintf(tw, "   \t * swarm.createretry=0\tcontainer create retry count after initial failure\n")
		}
	}
	tw.Flush()
}
