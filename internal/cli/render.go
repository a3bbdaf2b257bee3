package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/spf13/pflag"

	"github.com/swarmboot/swarmboot"
	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/delivery/encode"
	"github.com/swarmboot/swarmboot/delivery/matchbox"
	"github.com/swarmboot/swarmboot/delivery/target"
	"github.com/swarmboot/swarmboot/internal/english"
	"github.com/swarmboot/swarmboot/profiles"
)

const renderHelp = `Renders the description. With -o DIR, writes one folder per node:
  DIR/<node>/user-data, meta-data, network-config   (cloud-config: ubuntu, debian)
  DIR/<node>/config.ign, config.bu                   (Ignition: flatcar, fcos)
  DIR/<node>/user-data                               (coreos-cloudconfig: coreos)
DIR is replaced whole and atomically: a failed run leaves the old output (and
the PKI) as they were, and a folder swarmboot did not write is never replaced.
DIR records the CA its nodes trust: a render with another CA is refused,
unless --new-ca says so.
With --node NAME, prints that node's config to standard output, to pipe into
a cloud CLI. With --nodes SELECTOR, writes only the selected nodes' folders
(the others still count: etcd member lists and discovery URLs name every
node), into a folder that holds no other node's output (it is replaced
whole); one run gives each profile its own format or packaging instead
(--format PROFILE=FORMAT,...):
  --nodes etcd-01,etcd-02     by name
  --nodes role=docker         by role (etcd, docker, manager)
  --nodes profile=flatcar     by profile
FILE may be - for standard input.

Formats (--format): %s;
and the packagings:
%sOne applies to every node. Or give each profile (or family: debian names its
releases) its own, all in one DIR:
  --format flatcar=ignition,ubuntu=cloud-config
  --format flatcar=matchbox,ubuntu=nocloud-iso   matchbox's tree beside
                                                 DIR/<node>/seed.iso
A profile not named keeps what it gets without --format, its own format in
DIR/<node>/: a list names only what changes, so giving one profile a
packaging never changes another's output. An item without PROFILE= serves
the profiles not named (--format nocloud-iso,flatcar=matchbox).
Encodings (--encode): none, gzip, base64, gzip+base64. cloud-init and
coreos-cloudinit inflate gzip user-data; Ignition does not, so for Ignition
gzip means a small wrapper config carrying the real one gzipped.
Targets (--target): aws, openstack, azure, gce, digitalocean, vagrant, nocloud:
fail when a node's user-data exceeds the provider's limit, naming the node,
its size and the limit, and whether --encode gzip would make it fit.`

func renderCommand() command {
	return command{
		name: "render", args: "FILE (-o DIR | --node NAME) [flags]",
		summary: "write every node's user-data",
		help:    fmt.Sprintf(renderHelp, profiles.JoinFormats(profiles.AllFormats()), delivery.FormatHelp()),
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			var o swarmboot.Options
			fs.StringVarP(&o.Output, "output", "o", "", "write every node's folder into `DIR`")
			fs.StringVarP(&o.Node, "node", "n", "", "print one node's config to standard output")
			format := fs.StringP("format", "f", "", "a `FORMAT` or packaging for every node, or PROFILE=FORMAT,... per profile")
			enc := fs.StringP("encode", "e", "none", "encode configs: none, gzip, base64, gzip+base64")
			tgt := fs.StringP("target", "t", "", "check sizes against a provider's user-data limit")
			fs.StringVar(&o.Nodes, "nodes", "", "with -o: only these nodes: `NAMES`, role=ROLE or profile=PROFILE")
			asJSON := fs.Bool("json", false, "with -o: the findings (or the --plan) as JSON on standard output")
			planOnly := fs.Bool("plan", false, "with -o: say what this render would change in DIR and why, and write nothing (exit 0 no changes, 3 changes)")
			commonFlags(fs, &o)
			m := &o.Delivery.Matchbox
			fs.StringVar(&m.URL, "matchbox-url", "", "matchbox: its HTTP endpoint as machines reach it")
			fs.StringVar(&m.FlatcarChannel, "flatcar-channel", "stable", "matchbox: Flatcar channel")
			fs.StringVar(&m.FlatcarVersion, "flatcar-version", "", "matchbox: Flatcar release, e.g. "+matchbox.ExampleFlatcarVersion())
			fs.StringVar(&m.FCOSStream, "fcos-stream", "stable", "matchbox: Fedora CoreOS stream")
			fs.StringVar(&m.FCOSVersion, "fcos-version", "", "matchbox: Fedora CoreOS release, e.g. "+matchbox.ExampleFCOSVersion())
			fs.BoolVar(&m.RemoteAssets, "remote-assets", false, "matchbox: kernel and initrd from the OS's servers, not matchbox's /assets")
			fs.StringSliceVar(&m.ExtraArgs, "kernel-arg", nil, "matchbox: extra kernel argument (repeatable)")
			return func(e env, args []string) error {
				file, err := oneFile(args)
				if err != nil {
					return err
				}
				d := &o.Delivery
				if err := parseFormat(*format, d); err != nil {
					return err
				}
				if d.Encoding, err = encode.ParseEncoding(*enc); err != nil {
					return usagef("%v", err)
				}
				if *tgt != "" {
					t, err := target.Lookup(*tgt)
					if err != nil {
						return usagef("unknown target %q; targets are %s", *tgt, strings.Join(target.Names(), ", "))
					}
					d.Target = &t
				}
				d.Primary = o.Node != ""
				switch {
				case o.Output == "" && o.Node == "":
					return usagef("say where the output goes: -o DIR for every node, or --node NAME for one node on standard output")
				case o.Output != "" && o.Node != "":
					return usagef("-o and --node exclude each other: --node prints one node to standard output")
				case *asJSON && o.Node != "":
					return usagef("--json goes with -o DIR: --node prints the node's config to standard output")
				case *planOnly && o.Output == "":
					return usagef("--plan compares with an output folder: give -o DIR")
				}
				if !d.Uses(delivery.Matchbox) {
					for _, name := range matchboxFlags {
						if fs.Changed(name) {
							return usagef("--%s applies to matchbox only (--format matchbox, or PROFILE=matchbox)", name)
						}
					}
				}
				if *planOnly {
					return planRender(e, file, withPKI(e, o), *asJSON)
				}
				if *asJSON {
					res, err := buildQuiet(e, file, withPKI(e, o))
					if err == nil {
						err = commit(e, res)
					}
					if res == nil {
						return err
					}
					return printFindings(e, res, err)
				}
				res, err := buildWithPKI(e, file, o)
				if err != nil {
					return err
				}
				if o.Node != "" {
					data := res.Files[res.Nodes[0].Primary]
					if binary(data) && isTerminal(e.stdout) {
						res.Close()
						return usagef("%s is binary (%s): redirect standard output to a file (> %s), or pipe it to a cloud CLI", res.Nodes[0].Primary, describe(d, res.Nodes[0]), path.Base(res.Nodes[0].Primary))
					}
					if err := commit(e, res); err != nil {
						return err
					}
					_, err = e.stdout.Write(data)
					return err
				}
				return commit(e, res)
			}
		},
	}
}

// matchboxFlags apply to --format matchbox only.
var matchboxFlags = []string{"matchbox-url", "flatcar-channel", "flatcar-version", "fcos-stream", "fcos-version", "remote-assets", "kernel-arg"}

// parseFormat reads --format into d: "" (each profile's own), one format
// or packaging for every node, or PROFILE=FORMAT,... per profile, where
// FORMAT may be a packaging, and an item without PROFILE= serves the
// profiles not named.
func parseFormat(s string, d *delivery.Options) error {
	if !strings.Contains(s, "=") {
		var err error
		d.Format, d.Packaging, err = delivery.ParseFormat(s)
		return err
	}
	d.Formats, d.Packagings = map[string][]profiles.Format{}, map[string]delivery.Packaging{}
	rest := ""
	for _, item := range strings.Split(s, ",") {
		name, value, per := strings.Cut(item, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch {
		case !per && name != "" && rest == "":
			rest = name
			var err error
			if d.Format, d.Packaging, err = delivery.ParseFormat(name); err != nil {
				return err
			}
			continue
		case !per && name != "":
			return usagef("--format %s: %s and %s both serve the profiles not named; give one", s, rest, name)
		case name == "" || value == "":
			return usagef("--format %s: give PROFILE=FORMAT items separated by commas, e.g. flatcar=matchbox,ubuntu=nocloud-iso", s)
		}
		_, dup := d.Formats[name]
		if _, dupPk := d.Packagings[name]; dup || dupPk {
			return usagef("--format: %s is given twice", name)
		}
		f, pk, err := delivery.ParseFormat(value)
		switch {
		case err != nil:
			return usagef("--format %s=%s: %v", name, value, err)
		case pk != delivery.Folders:
			d.Packagings[name] = pk
		default:
			d.Formats[name] = []profiles.Format{f}
		}
	}
	return nil
}

// commonFlags are the flags of every command that builds and writes:
// --strict, --pki and --new-ca.
func commonFlags(fs *pflag.FlagSet, o *swarmboot.Options) {
	fs.BoolVar(&o.Strict, "strict", false, "fail on warnings too")
	fs.StringVar(&o.PKI, "pki", "", "the cluster's PKI `DIR` (default: tls.dir beside FILE)")
	fs.BoolVar(&o.NewCA, "new-ca", false, "render into an output made with another CA (its nodes must all get their new user-data)")
}

// buildWithPKI builds as a render does: the PKI locked, what is missing
// issued in memory (Commit stores it).
func buildWithPKI(e env, file string, o swarmboot.Options) (*swarmboot.Result, error) {
	return build(e, file, withPKI(e, o))
}

// withPKI is o for a render: PKIMode Issue, and a word while another run
// holds the PKI.
func withPKI(e env, o swarmboot.Options) swarmboot.Options {
	o.PKIMode = swarmboot.Issue
	o.Waiting = func(holder, dir string) {
		fmt.Fprintf(e.stderr, "swarmboot: waiting for %s, which holds the PKI %s\n", holder, dir)
	}
	return o
}

// commit stores the build, PKI and output as one transaction, and says
// what it did: the PKI's changes, the files, which hold private keys.
func commit(e env, res *swarmboot.Result) error {
	warnings, err := res.Commit()
	if err != nil {
		return err
	}
	printPKI(e, res.Cluster.File, res.PKI)
	for _, w := range warnings {
		fmt.Fprintf(e.stderr, "swarmboot: warning: %s\n", w)
	}
	if res.Output() == "" {
		return nil
	}
	fmt.Fprintf(e.stderr, "wrote %s for %s of cluster %s into %s\n", count(len(res.Files), "file"), count(len(res.Nodes), "node"), res.Cluster.Name, res.Output())
	if n := len(res.Secrets); n > 0 {
		fmt.Fprintf(e.stderr, "%s %s a node's private TLS key (%s%s): hand each only to its node; user-data is readable by anyone who can describe the instance\n",
			count(n, "file"), english.Verb(n, "holds"), strings.Join(res.Secrets[:min(n, 3)], ", "), more(n-3))
	}
	return nil
}

// more is ", and N more" for a shortened list.
func more(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(" and %d more", n)
}

// warn prints the delivery's warnings.
func warn(e env, res *swarmboot.Result) {
	for _, w := range res.Warnings {
		fmt.Fprintf(e.stderr, "swarmboot: warning: %s\n", w)
	}
}

// binary: bytes a terminal cannot show (gzip, a seed image).
func binary(data []byte) bool { return !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 }

// describe names what made node n's output binary.
func describe(d *delivery.Options, n swarmboot.Node) string {
	if n.Packaging != delivery.Folders {
		return string(n.Packaging)
	}
	return "--encode " + string(d.Encoding)
}

// isTerminal reports whether w is a terminal, where binary would only
// garble the screen.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
