package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/output"
	"github.com/swarmboot/swarmboot/profiles"
	"github.com/swarmboot/swarmboot/render"
)

func renderCommand() command {
	return command{
		name: "render", args: "FILE (-o DIR | --node NAME) [--format F] [--strict]",
		summary: "write every node's user-data",
		help: "Renders the description. With -o DIR, writes one folder per node:\n" +
			"  DIR/<node>/user-data, meta-data, network-config   (cloud-config: ubuntu, debian)\n" +
			"  DIR/<node>/config.ign, config.bu                   (Ignition: flatcar, fcos)\n" +
			"  DIR/<node>/user-data                               (coreos-cloudconfig: coreos)\n" +
			"DIR is replaced whole and atomically: a failed run leaves the old output.\n" +
			"With --node NAME, prints that node's config to standard output (to pipe into\n" +
			"a cloud CLI). FILE may be - for standard input.\n" +
			"Formats: cloud-config, coreos-cloudconfig, butane, ignition.",
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			out := fs.StringP("output", "o", "", "write every node's folder into `DIR`")
			node := fs.StringP("node", "n", "", "print one node's config to standard output")
			format := fs.StringP("format", "f", "", "force a `FORMAT` instead of each profile's defaults")
			strict := fs.Bool("strict", false, "fail on warnings too")
			return func(e env, args []string) error {
				file, err := oneFile(args)
				if err != nil {
					return err
				}
				var formats []profiles.Format
				if *format != "" {
					f, ok := profiles.ParseFormat(*format)
					if !ok {
						return usagef("unknown format %q; formats are %s", *format, formatNames(profiles.AllFormats))
					}
					formats = []profiles.Format{f}
				}
				switch {
				case *out == "" && *node == "":
					return usagef("say where the output goes: -o DIR for every node, or --node NAME for one node on standard output")
				case *out != "" && *node != "":
					return usagef("-o and --node exclude each other: --node prints one node to standard output")
				}
				c, err := load(e, file, *strict)
				if err != nil {
					return err
				}
				if *node != "" {
					return renderOne(e, c, *node, formats)
				}
				return renderAll(e, c, *out, formats)
			}
		},
	}
}

// checkFormats fails when a forced format is not read by some node.
func checkFormats(c *cluster.Cluster, nodes []*cluster.Node, formats []profiles.Format) error {
	if len(formats) == 0 {
		return nil
	}
	var bad []string
	for _, n := range nodes {
		p, _ := profiles.Lookup(n.Profile)
		if !p.Supports(formats[0]) {
			bad = append(bad, fmt.Sprintf("%s (%s: %s)", n.Name, p.Name, formatNames(p.Formats)))
		}
	}
	if len(bad) > 0 {
		return usagef("format %s does not apply to %s; leave --format out to use each profile's own", formats[0], strings.Join(bad, ", "))
	}
	return nil
}

func renderOne(e env, c *cluster.Cluster, name string, formats []profiles.Format) error {
	var node *cluster.Node
	var names []string
	for i := range c.Nodes {
		names = append(names, c.Nodes[i].Name)
		if c.Nodes[i].Name == name {
			node = &c.Nodes[i]
		}
	}
	if node == nil {
		return usagef("no node %q in %s; nodes are %s", name, c.File, strings.Join(names, ", "))
	}
	if err := checkFormats(c, []*cluster.Node{node}, formats); err != nil {
		return err
	}
	plan, err := render.Plan1(c, node)
	if err != nil {
		return err
	}
	f := plan.Profile.Defaults[0]
	if len(formats) > 0 {
		f = formats[0]
	}
	data, err := render.Emit(plan, f)
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(data)
	return err
}

func renderAll(e env, c *cluster.Cluster, dir string, formats []profiles.Format) error {
	nodes := make([]*cluster.Node, len(c.Nodes))
	for i := range c.Nodes {
		nodes[i] = &c.Nodes[i]
	}
	if err := checkFormats(c, nodes, formats); err != nil {
		return err
	}
	tree, err := render.Tree(c, formats)
	if err != nil {
		return err
	}
	if err := output.WriteTree(dir, tree); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote %d files for %d nodes of cluster %s into %s\n", len(tree), len(c.Nodes), c.Name, dir)
	return nil
}
