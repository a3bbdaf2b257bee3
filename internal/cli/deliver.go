package cli

import (
	"fmt"
	"sort"
	"strings"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/delivery/encode"
	"github.com/swarmboot/swarmboot/delivery/matchbox"
	"github.com/swarmboot/swarmboot/delivery/nocloud"
	"github.com/swarmboot/swarmboot/delivery/target"
	"github.com/swarmboot/swarmboot/output"
	"github.com/swarmboot/swarmboot/profiles"
	"github.com/swarmboot/swarmboot/render"
)

// Packagings: not config formats but ways to ship one, chosen with
// --format like the formats.
const (
	packNoCloudISO = "nocloud-iso" // cloud-config in a NoCloud seed image
	packMatchbox   = "matchbox"    // Ignition in a matchbox data directory
)

// delivery is what render does after emitting: encode each node's config,
// check it against a provider's limit, package it.
type delivery struct {
	enc      encode.Encoding
	target   *target.Target // nil: no limit check
	pack     string         // "", packNoCloudISO or packMatchbox
	matchbox matchbox.Options
}

// parseFormat maps --format to the config format it renders and the
// packaging, if any.
func parseFormat(s string) (f profiles.Format, pack string, err error) {
	switch s {
	case "":
		return "", "", nil
	case packNoCloudISO:
		return profiles.CloudConfig, packNoCloudISO, nil
	case packMatchbox:
		return profiles.Ignition, packMatchbox, nil
	}
	f, ok := profiles.ParseFormat(s)
	if !ok {
		return "", "", usagef("unknown format %q; formats are %s, %s, %s", s, profiles.JoinFormats(profiles.AllFormats), packNoCloudISO, packMatchbox)
	}
	return f, "", nil
}

// encodeConfig returns the bytes the provider receives (payload, for the
// limit check) and the bytes written (out, after any base64). Ignition
// does not inflate gzip user-data, so for it "gzip" means a wrapper config
// that carries the real one gzipped in a data URL, which Ignition reads.
func (d *delivery) encodeConfig(f profiles.Format, data []byte) (payload, out []byte, err error) {
	if f == profiles.Butane {
		return data, data, nil // Butane is source text for people, never shipped
	}
	enc, wrap := d.encodingFor(f)
	if wrap {
		if data, err = encode.WrapIgnitionGzip(data); err != nil {
			return nil, nil, err
		}
	}
	payload = data
	if enc.Compressed() {
		payload = encode.GzipBytes(data)
	}
	out, err = encode.Encode(data, enc)
	return payload, out, err
}

// encodingFor returns the encoding applied to format f's bytes, and
// whether an Ignition config is first wrapped: the wrapper carries the
// gzip, so only the base64 part (if any) is left to apply.
func (d *delivery) encodingFor(f profiles.Format) (enc encode.Encoding, wrap bool) {
	if f != profiles.Ignition || !d.enc.Compressed() {
		return d.enc, false
	}
	if d.enc.Base64Text() {
		return encode.Base64, true
	}
	return encode.None, true
}

// advice warns about an encoding that would not reach the node readable.
func (d *delivery) advice(nodes []*cluster.Node, formats func(*cluster.Node) []profiles.Format) []string {
	if d.target == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range nodes {
		for _, f := range formats(n) {
			enc, wrapped := d.encodingFor(f)
			if wrapped {
				continue // Ignition reads its wrapper
			}
			if a := target.EncodingAdvice(*d.target, string(f), enc); a != "" && !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// apply encodes and checks every node's config in tree, then packages.
// It collects every node that does not fit before failing, so one run
// names them all.
func (d *delivery) apply(c *cluster.Cluster, nodes []*cluster.Node, tree map[string][]byte, formats func(*cluster.Node) []profiles.Format) (map[string][]byte, error) {
	var tooLarge []string
	for _, n := range nodes {
		for _, f := range formats(n) {
			name := n.Name + "/" + render.FileName(f)
			payload, out, err := d.encodeConfig(f, tree[name])
			if err != nil {
				return nil, fmt.Errorf("node %s: %w", n.Name, err)
			}
			tree[name] = out
			if d.target != nil && f != profiles.Butane {
				if err := target.Check(*d.target, n.Name, string(f), payload); err != nil {
					tooLarge = append(tooLarge, err.Error())
				}
			}
		}
	}
	if len(tooLarge) > 0 {
		return nil, fmt.Errorf("user-data too large for %s:\n  %s", d.target.Name, strings.Join(tooLarge, "\n  "))
	}
	switch d.pack {
	case packNoCloudISO:
		return noCloudImages(nodes, tree)
	case packMatchbox:
		return d.matchboxTree(c, nodes, tree)
	}
	return tree, nil
}

// noCloudImages replaces each node's user-data, meta-data and
// network-config with one seed image holding them.
func noCloudImages(nodes []*cluster.Node, tree map[string][]byte) (map[string][]byte, error) {
	out := make(map[string][]byte, len(nodes))
	for _, n := range nodes {
		dir := n.Name + "/"
		img, err := nocloud.Image(nocloud.Seed{
			UserData:      tree[dir+nocloud.UserDataFile],
			MetaData:      tree[dir+nocloud.MetaDataFile],
			NetworkConfig: tree[dir+nocloud.NetworkConfigFile],
		})
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
		out[dir+"seed.iso"] = img
	}
	return out, nil
}

// matchboxTree lays the Ignition configs out as a matchbox data directory
// (profiles/, groups/, ignition/); every node must have a MAC to be
// selected by.
func (d *delivery) matchboxTree(c *cluster.Cluster, nodes []*cluster.Node, tree map[string][]byte) (map[string][]byte, error) {
	var machines []matchbox.Machine
	var noMAC []string
	for _, n := range nodes {
		if n.MAC == "" {
			noMAC = append(noMAC, n.Name)
			continue
		}
		p, _ := profiles.Lookup(n.Profile)
		machines = append(machines, matchbox.Machine{
			Name: n.Name, MAC: n.MAC, OS: p.Ignition.Variant,
			Ignition: tree[n.Name+"/"+render.FileName(profiles.Ignition)],
		})
	}
	if len(noMAC) > 0 {
		return nil, fmt.Errorf("matchbox selects machines by MAC; add `mac:` to %s in %s", strings.Join(noMAC, ", "), c.File)
	}
	files, err := matchbox.Build(machines, d.matchbox)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(files))
	for _, f := range files {
		out[f.Path] = f.Data
	}
	return out, nil
}

func targetNames() string {
	names := target.Names()
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// writeOptions: user-data stays 0600 (it can hold keys); a matchbox data
// directory is 0644, because the matchbox service, not the user who
// renders, reads it, and it serves those configs over plain HTTP to any
// machine that asks, so file modes protect nothing there.
func (d *delivery) writeOptions(e env) output.Options {
	opts := output.Options{Warn: warner(e)}
	if d.pack == packMatchbox {
		opts.FileMode = 0o644
	}
	return opts
}

// warner prints a warning of the output stage.
func warner(e env) func(string) {
	return func(msg string) { fmt.Fprintf(e.stderr, "swarmboot: warning: %s\n", msg) }
}
