package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/delivery/encode"
	"github.com/swarmboot/swarmboot/delivery/target"
	"github.com/swarmboot/swarmboot/output"
	"github.com/swarmboot/swarmboot/profiles"
	"github.com/swarmboot/swarmboot/render"
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
node), so each delivery format can go to the nodes it fits:
  --nodes etcd-01,etcd-02     by name
  --nodes role=docker         by role (etcd, docker, manager)
  --nodes profile=flatcar     by profile
FILE may be - for standard input.

Formats (--format): %s; and
%s
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
			out := fs.StringP("output", "o", "", "write every node's folder into `DIR`")
			node := fs.StringP("node", "n", "", "print one node's config to standard output")
			format := fs.StringP("format", "f", "", "force a `FORMAT` instead of each profile's defaults")
			enc := fs.StringP("encode", "e", "none", "encode configs: none, gzip, base64, gzip+base64")
			tgt := fs.StringP("target", "t", "", "check sizes against a provider's user-data limit")
			selector := fs.String("nodes", "", "with -o: only these nodes: `NAMES`, role=ROLE or profile=PROFILE")
			strict := fs.Bool("strict", false, "fail on warnings too")
			pkiDir := fs.String("pki", "", "the cluster's PKI `DIR` (default: tls.dir beside FILE)")
			newCA := fs.Bool("new-ca", false, "render into an output made with another CA (its nodes must all get their new user-data)")
			var o delivery.Options
			fs.StringVar(&o.Matchbox.URL, "matchbox-url", "", "matchbox: its HTTP endpoint as machines reach it")
			fs.StringVar(&o.Matchbox.FlatcarChannel, "flatcar-channel", "stable", "matchbox: Flatcar channel")
			fs.StringVar(&o.Matchbox.FlatcarVersion, "flatcar-version", "", "matchbox: Flatcar release, e.g. 4081.2.0")
			fs.StringVar(&o.Matchbox.FCOSStream, "fcos-stream", "stable", "matchbox: Fedora CoreOS stream")
			fs.StringVar(&o.Matchbox.FCOSVersion, "fcos-version", "", "matchbox: Fedora CoreOS release")
			fs.BoolVar(&o.Matchbox.RemoteAssets, "remote-assets", false, "matchbox: kernel and initrd from the OS's servers, not matchbox's /assets")
			fs.StringSliceVar(&o.Matchbox.ExtraArgs, "kernel-arg", nil, "matchbox: extra kernel argument (repeatable)")
			return func(e env, args []string) error {
				file, err := oneFile(args)
				if err != nil {
					return err
				}
				if o.Format, o.Packaging, err = delivery.ParseFormat(*format); err != nil {
					return err
				}
				if o.Encoding, err = encode.ParseEncoding(*enc); err != nil {
					return usagef("%v", err)
				}
				if *tgt != "" {
					t, err := target.Lookup(*tgt)
					if err != nil {
						return usagef("unknown target %q; targets are %s", *tgt, strings.Join(target.Names(), ", "))
					}
					o.Target = &t
				}
				o.Primary = *node != ""
				switch {
				case *out == "" && *node == "":
					return usagef("say where the output goes: -o DIR for every node, or --node NAME for one node on standard output")
				case *out != "" && *node != "":
					return usagef("-o and --node exclude each other: --node prints one node to standard output")
				case *node != "" && *selector != "":
					return usagef("--nodes selects folders for -o DIR; --node prints one node")
				}
				if o.Packaging != delivery.Matchbox {
					for _, name := range matchboxFlags {
						if fs.Changed(name) {
							return usagef("--%s applies to --format matchbox only", name)
						}
					}
				}
				if err := o.Validate(); err != nil {
					return err
				}
				c, err := load(e, file, *strict)
				if err != nil {
					return err
				}
				in := render.Options{}
				if *node != "" {
					if err := knownNode(c, *node); err != nil {
						return err
					}
					in.Keep = func(n *cluster.Node) bool { return n.Name == *node }
				} else if in.Keep, err = c.Select(*selector); err != nil {
					return usagef("%v", err)
				}
				if err := o.CheckNodes(c, in.Keep); err != nil {
					return err
				}
				dest, err := checkDest(c, *pkiDir, *out)
				if err != nil {
					return err
				}
				tls, err := startPKI(e, c, *pkiDir, dest, *newCA)
				if err != nil {
					return err
				}
				defer tls.close()
				in.TLS = tls.material()
				res, err := delivery.Build(c, in, o)
				if err != nil {
					return err
				}
				warn(e, res)
				if *node != "" {
					if err := tls.commit(); err != nil {
						return err
					}
					_, err = e.stdout.Write(res.Files[res.Primary[*node]])
					return err
				}
				return writeResult(e, c, res, *out, tls, *pkiDir)
			}
		},
	}
}

// matchboxFlags apply to --format matchbox only.
var matchboxFlags = []string{"matchbox-url", "flatcar-channel", "flatcar-version", "fcos-stream", "fcos-version", "remote-assets", "kernel-arg"}

// knownNode refuses a --node that names no node.
func knownNode(c *cluster.Cluster, name string) error {
	var names []string
	for i := range c.Nodes {
		if c.Nodes[i].Name == name {
			return nil
		}
		names = append(names, c.Nodes[i].Name)
	}
	return usagef("no node %q in %s; nodes are %s", name, c.File, strings.Join(names, ", "))
}

// writeResult writes the delivered files, committing the PKI just before
// the swap, and says what it wrote and which files hold private keys.
func writeResult(e env, c *cluster.Cluster, res *delivery.Result, dir string, tls *pkiRun, pkiDir string) error {
	err := output.WriteTree(dir, res.Files, output.Options{
		FileMode: res.Mode, Warn: warner(e), CA: tls.ca(), Keep: keep(c, pkiDir), BeforeSwap: tls.commit,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %s for %s of cluster %s into %s\n", count(len(res.Files), "file"), count(res.Nodes, "node"), c.Name, dir)
	if n := len(res.Secrets); n > 0 {
		fmt.Fprintf(e.stderr, "%s hold a node's private TLS key (%s%s): hand them only to that node; user-data is readable by anyone who can describe the instance\n",
			count(n, "file"), strings.Join(res.Secrets[:min(n, 3)], ", "), more(n-3))
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

func warn(e env, res *delivery.Result) {
	for _, w := range res.Warnings {
		fmt.Fprintf(e.stderr, "swarmboot render: warning: %s\n", w)
	}
}

// warner prints a warning of the output stage.
func warner(e env) func(string) {
	return func(msg string) { fmt.Fprintf(e.stderr, "swarmboot: warning: %s\n", msg) }
}
