package cli

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/swarmboot/swarmboot/cluster"
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
DIR is replaced whole and atomically: a failed run leaves the old output, and
a folder swarmboot did not write is never replaced.
With --node NAME, prints that node's config to standard output, to pipe into
a cloud CLI. With --nodes SELECTOR, writes only the selected nodes' folders
(the others still count: etcd member lists and discovery URLs name every
node), so each delivery format can go to the nodes it fits:
  --nodes etcd-01,etcd-02     by name
  --nodes role=docker         by role (etcd, docker, manager)
  --nodes profile=flatcar     by profile
FILE may be - for standard input.

Formats (--format): cloud-config, coreos-cloudconfig, butane, ignition; and
  nocloud-iso   cloud-config packed into DIR/<node>/seed.iso (label cidata)
  matchbox      a matchbox data directory: profiles/, groups/ (by each
                node's mac), ignition/; needs --matchbox-url and an OS version

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
		help:    renderHelp,
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			out := fs.StringP("output", "o", "", "write every node's folder into `DIR`")
			node := fs.StringP("node", "n", "", "print one node's config to standard output")
			format := fs.StringP("format", "f", "", "force a `FORMAT` instead of each profile's defaults")
			enc := fs.StringP("encode", "e", "none", "encode configs: none, gzip, base64, gzip+base64")
			tgt := fs.StringP("target", "t", "", "check sizes against a provider's user-data limit")
			selector := fs.String("nodes", "", "with -o: only these nodes: `NAMES`, role=ROLE or profile=PROFILE")
			strict := fs.Bool("strict", false, "fail on warnings too")
			var d delivery
			fs.StringVar(&d.matchbox.URL, "matchbox-url", "", "matchbox: its HTTP endpoint as machines reach it")
			fs.StringVar(&d.matchbox.FlatcarChannel, "flatcar-channel", "stable", "matchbox: Flatcar channel")
			fs.StringVar(&d.matchbox.FlatcarVersion, "flatcar-version", "", "matchbox: Flatcar release, e.g. 4081.2.0")
			fs.StringVar(&d.matchbox.FCOSStream, "fcos-stream", "stable", "matchbox: Fedora CoreOS stream")
			fs.StringVar(&d.matchbox.FCOSVersion, "fcos-version", "", "matchbox: Fedora CoreOS release")
			fs.BoolVar(&d.matchbox.RemoteAssets, "remote-assets", false, "matchbox: kernel and initrd from the OS's servers, not matchbox's /assets")
			fs.StringSliceVar(&d.matchbox.ExtraArgs, "kernel-arg", nil, "matchbox: extra kernel argument (repeatable)")
			return func(e env, args []string) error {
				file, err := oneFile(args)
				if err != nil {
					return err
				}
				f, pack, err := parseFormat(*format)
				if err != nil {
					return err
				}
				d.pack = pack
				if d.enc, err = encode.ParseEncoding(*enc); err != nil {
					return usagef("%v", err)
				}
				if *tgt != "" {
					t, err := target.Lookup(*tgt)
					if err != nil {
						return usagef("unknown target %q; targets are %s", *tgt, targetNames())
					}
					d.target = &t
				}
				switch {
				case *out == "" && *node == "":
					return usagef("say where the output goes: -o DIR for every node, or --node NAME for one node on standard output")
				case *out != "" && *node != "":
					return usagef("-o and --node exclude each other: --node prints one node to standard output")
				case *node != "" && pack == packMatchbox:
					return usagef("--format matchbox writes a data directory: use -o DIR")
				case *node != "" && *selector != "":
					return usagef("--nodes selects folders for -o DIR; --node prints one node")
				}
				if err := inapplicableFlags(fs, pack, f, d.enc); err != nil {
					return err
				}
				c, err := load(e, file, *strict)
				if err != nil {
					return err
				}
				r := renderer{c: c, delivery: &d, formatName: *format}
				if f != "" {
					r.forced = []profiles.Format{f}
				}
				if r.keep, err = selectNodes(c, *selector); err != nil {
					return err
				}
				if *node != "" {
					return r.one(e, *node)
				}
				return r.all(e, *out)
			}
		},
	}
}

// renderer renders a loaded description with the command's choices.
type renderer struct {
	c          *cluster.Cluster
	forced     []profiles.Format // nil: each profile's defaults
	formatName string            // --format as given (matchbox, nocloud-iso, ...)
	keep       func(*cluster.Node) bool
	delivery   *delivery
}

// formats returns the formats rendered for a node.
func (r *renderer) formats(n *cluster.Node) []profiles.Format {
	if r.forced != nil {
		return r.forced
	}
	p, _ := profiles.Lookup(n.Profile)
	return p.Defaults
}

// check fails when a forced format is not read by some node.
func (r *renderer) check(nodes []*cluster.Node) error {
	if r.forced == nil {
		return nil
	}
	var bad []string
	for _, n := range nodes {
		p, _ := profiles.Lookup(n.Profile)
		if !p.Supports(r.forced[0]) {
			bad = append(bad, fmt.Sprintf("%s (%s: %s)", n.Name, p.Name, profiles.JoinFormats(p.Formats)))
		}
	}
	if len(bad) > 0 {
		return usagef("format %s does not apply to %s; leave --format out to use each profile's own, or give it only the nodes it fits with --nodes (e.g. --nodes profile=flatcar)",
			r.formatName, strings.Join(bad, ", "))
	}
	return nil
}

func (r *renderer) one(e env, name string) error {
	var node *cluster.Node
	var names []string
	for i := range r.c.Nodes {
		names = append(names, r.c.Nodes[i].Name)
		if r.c.Nodes[i].Name == name {
			node = &r.c.Nodes[i]
		}
	}
	if node == nil {
		return usagef("no node %q in %s; nodes are %s", name, r.c.File, strings.Join(names, ", "))
	}
	nodes := []*cluster.Node{node}
	if err := r.check(nodes); err != nil {
		return err
	}
	plan, err := render.Plan1(r.c, node)
	if err != nil {
		return err
	}
	f := r.formats(node)[0] // the node's primary config
	formats := func(*cluster.Node) []profiles.Format { return []profiles.Format{f} }
	arts, err := render.Artifacts(plan, []profiles.Format{f})
	if err != nil {
		return err
	}
	tree := map[string][]byte{}
	for _, a := range arts {
		tree[name+"/"+a.Name] = a.Data
	}
	r.warn(e, nodes, formats)
	if tree, err = r.delivery.apply(r.c, nodes, tree, formats); err != nil {
		return err
	}
	key := name + "/" + render.FileName(f)
	if r.delivery.pack == packNoCloudISO {
		key = name + "/seed.iso"
	}
	_, err = e.stdout.Write(tree[key])
	return err
}

func (r *renderer) all(e env, dir string) error {
	var nodes []*cluster.Node
	for i := range r.c.Nodes {
		if r.keep == nil || r.keep(&r.c.Nodes[i]) {
			nodes = append(nodes, &r.c.Nodes[i])
		}
	}
	if err := r.check(nodes); err != nil {
		return err
	}
	tree, err := render.TreeOf(r.c, r.forced, r.keep)
	if err != nil {
		return err
	}
	r.warn(e, nodes, r.formats)
	if tree, err = r.delivery.apply(r.c, nodes, tree, r.formats); err != nil {
		return err
	}
	if err := output.WriteTree(dir, tree, r.delivery.writeOptions(e)); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %s for %s of cluster %s into %s\n", count(len(tree), "file"), count(len(nodes), "node"), r.c.Name, dir)
	return nil
}

func (r *renderer) warn(e env, nodes []*cluster.Node, formats func(*cluster.Node) []profiles.Format) {
	for _, a := range r.delivery.advice(nodes, formats) {
		fmt.Fprintf(e.stderr, "swarmboot render: warning: %s\n", a)
	}
}

// matchboxFlags apply to --format matchbox only.
var matchboxFlags = []string{"matchbox-url", "flatcar-channel", "flatcar-version", "fcos-stream", "fcos-version", "remote-assets", "kernel-arg"}

// inapplicableFlags refuses flags that would be silently ignored.
func inapplicableFlags(fs *pflag.FlagSet, pack string, f profiles.Format, enc encode.Encoding) error {
	if pack != packMatchbox {
		for _, name := range matchboxFlags {
			if fs.Changed(name) {
				return usagef("--%s applies to --format matchbox only", name)
			}
		}
	}
	switch {
	case enc == encode.None:
	case f == profiles.Butane:
		return usagef("--encode %s: Butane is source text for people, never shipped as it is; encode the ignition format", enc)
	case pack == packMatchbox:
		return usagef("--encode %s: matchbox serves the Ignition configs as they are; leave --encode out", enc)
	case pack == packNoCloudISO && enc.Base64Text():
		return usagef("--encode %s: a seed image holds user-data as a file, which cloud-init does not base64-decode; use --encode gzip or none", enc)
	}
	return nil
}

// selectNodes reads --nodes: names (comma-separated), role=ROLE or
// profile=PROFILE; nil keeps every node.
func selectNodes(c *cluster.Cluster, selector string) (func(*cluster.Node) bool, error) {
	if selector == "" {
		return nil, nil
	}
	var keep func(*cluster.Node) bool
	switch key, value, _ := strings.Cut(selector, "="); key {
	case "role":
		if !slices.Contains(cluster.Roles, value) {
			return nil, usagef("--nodes role=%s: roles are %s", value, strings.Join(cluster.Roles, ", "))
		}
		keep = func(n *cluster.Node) bool { return n.Has(value) }
	case "profile":
		if _, ok := profiles.Lookup(value); !ok {
			return nil, usagef("--nodes profile=%s: profiles are %s", value, strings.Join(profiles.Names(), ", "))
		}
		// A family takes its releases too: profile=debian selects debian-13.
		keep = func(n *cluster.Node) bool { return n.Profile == value || strings.HasPrefix(n.Profile, value+"-") }
	default:
		names := map[string]bool{}
		for _, name := range strings.Split(selector, ",") {
			names[strings.TrimSpace(name)] = true
		}
		var known []string
		for i := range c.Nodes {
			known = append(known, c.Nodes[i].Name)
			delete(names, c.Nodes[i].Name)
		}
		if len(names) > 0 {
			missing := slices.Sorted(maps.Keys(names))
			return nil, usagef("--nodes: no node %s in %s; nodes are %s", strings.Join(missing, ", "), c.File, strings.Join(known, ", "))
		}
		set := map[string]bool{}
		for _, name := range strings.Split(selector, ",") {
			set[strings.TrimSpace(name)] = true
		}
		keep = func(n *cluster.Node) bool { return set[n.Name] }
	}
	for i := range c.Nodes {
		if keep(&c.Nodes[i]) {
			return keep, nil
		}
	}
	return nil, usagef("--nodes %s selects no node of %s", selector, c.File)
}
