// Package delivery is the stage after render: it takes each node's typed
// outputs and makes the files an operator hands to machines. It owns
// encoding and its rules (what may be encoded, the Ignition gzip wrapper,
// refusing encodings a consumer cannot read), providers' size limits, and
// the packagings: a folder per node, NoCloud seed images, OpenStack config
// drives, a matchbox data directory, a Vagrant environment.
//
//	Options.Plan (each node's formats, decided once) -> Plan.Deliver
//	(render.Render, then encoding, limits, packaging)
//
// The library entry (package swarmboot) calls both, with the PKI's
// material in between; the CLI, the Terraform provider and the tests take
// that path.
package delivery

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/delivery/encode"
	"github.com/swarmboot/swarmboot/delivery/matchbox"
	"github.com/swarmboot/swarmboot/delivery/target"
	"github.com/swarmboot/swarmboot/pki"
	"github.com/swarmboot/swarmboot/profiles"
	"github.com/swarmboot/swarmboot/render"
)

// Options are the delivery choices.
type Options struct {
	Packaging Packaging
	// Format forces one config format on every node (Folders only); ""
	// takes each profile's defaults.
	Format profiles.Format
	// Formats gives the nodes of a profile their formats (Folders only),
	// keyed by profile (debian-13) or family (debian: all its releases),
	// before Format and the defaults; the first is the node's primary.
	Formats map[string][]profiles.Format
	// Primary keeps only each node's primary config and its seed: what
	// `render --node` prints for a cloud CLI.
	Primary  bool
	Encoding encode.Encoding // "" is none
	Target   *target.Target  // nil: no size check
	Matchbox matchbox.Options
	Vagrant  VagrantOptions
}

// Result is what delivery made.
type Result struct {
	// Files maps slash-separated paths under the output directory to
	// their bytes; nothing else holds these slices.
	Files map[string][]byte
	// Mode is the permission of every file (0: the writer's default,
	// 0600, for user-data that can hold keys).
	Mode fs.FileMode
	// Primary maps each node to the file its provider takes.
	Primary map[string]string
	// Secrets are the files that hold a private key (a node's TLS key).
	Secrets []string
	// Warnings: encodings that would not reach a node readable, keys a
	// server would hand out, addresses a provider refuses.
	Warnings []Warning
	Nodes    int
}

// Warning is one delivery warning. Path, when the warning is about one
// value of the description ($.nodes[2].ip), says which, for its position.
type Warning struct {
	Path    string
	Message string
}

// warn adds a warning about nothing in particular of the description.
func (r *Result) warn(msg string) { r.Warnings = append(r.Warnings, Warning{Message: msg}) }

// addFile adds one delivered file; secret marks a file holding a key.
func (r *Result) addFile(path string, data []byte, secret bool) {
	r.Files[path] = data
	if secret {
		r.Secrets = append(r.Secrets, path)
	}
}

// Plan is a delivery decided before anything is issued or rendered: the
// selected nodes, each with the formats it gets, as plain data.
type Plan struct {
	c    *cluster.Cluster
	o    Options
	Jobs []render.Job
}

// Plan checks the options once and decides each selected node's formats
// (keep nil: every node). Everything a delivery can refuse about the
// nodes is refused here, every node named at once: a format or packaging
// a system does not read, a snippet no rendered format carries, what a
// packaging needs of a node (matchbox a MAC, Vagrant a box).
func (o Options) Plan(c *cluster.Cluster, keep func(*cluster.Node) bool) (*Plan, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	var jobs []render.Job
	var bad []string
	var why error
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if keep != nil && !keep(n) || n.System == nil {
			continue
		}
		fs, err := o.formats(n.System)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s (%s: %s)", n.Name, n.System.Name, profiles.JoinFormats(n.System.Formats)))
			why = err
			continue
		}
		jobs = append(jobs, render.Job{Node: n, Formats: fs})
	}
	if len(bad) > 0 {
		return nil, o.refused(c, bad, why)
	}
	if err := render.CheckJobs(c, jobs); err != nil {
		return nil, err
	}
	if check := o.Packaging.info().check; check != nil {
		if err := check(c, jobs, o); err != nil {
			return nil, err
		}
	}
	return &Plan{c: c, o: o, Jobs: jobs}, nil
}

// refused names every node a forced format or packaging does not fit,
// and a --nodes selector for those it does fit, if the cluster has any.
func (o Options) refused(c *cluster.Cluster, bad []string, why error) error {
	if o.Packaging == Vagrant {
		// The description's systems, not the command line, are wrong here.
		return fmt.Errorf("Vagrant cannot boot %s: %v", strings.Join(bad, ", "), why)
	}
	name := string(o.Format)
	if o.Packaging != Folders {
		name = string(o.Packaging)
	}
	if name == "" {
		return OptionErrorf("--format: %v; nodes it does not fit: %s", why, strings.Join(bad, ", "))
	}
	hint := ""
	for i := range c.Nodes {
		if p := c.Nodes[i].System; p != nil {
			if _, err := o.formats(p); err == nil {
				hint = " (e.g. --nodes profile=" + p.Family + ")"
				break
			}
		}
	}
	return OptionErrorf("format %s does not apply to %s; leave --format out to use each profile's own, give each profile its own (--format PROFILE=FORMAT,...), or give it only the nodes it fits with --nodes%s",
		name, strings.Join(bad, ", "), hint)
}

// Deliver renders the plan's nodes with their TLS files (by node name;
// nil without TLS) and delivers them: the one path from a loaded
// description to files.
func (p *Plan) Deliver(tls map[string]pki.Material) (*Result, error) {
	outs, err := render.Render(p.c, render.Options{Jobs: p.Jobs, TLS: tls, NoStaticNetwork: p.o.Packaging.info().ownsNetwork})
	if err != nil {
		return nil, err
	}
	return apply(p.c, outs, p.o, true)
}

// Apply encodes and size-checks every node's configs, then packages
// them. It reads outs and builds new bytes; outs are left as they came.
// Every node over a provider's limit is named before it fails.
func Apply(c *cluster.Cluster, outs []render.Output, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return apply(c, outs, o, false)
}

// apply is Apply. owned says that nobody else holds outs (Build's own
// render): their bytes then go into the result as they are, not copied,
// which halves the memory of a large render.
func apply(c *cluster.Cluster, outs []render.Output, o Options, owned bool) (*Result, error) {
	keep := bytes.Clone
	if owned {
		keep = func(b []byte) []byte { return b }
	}
	pk := o.Packaging.info()
	res := &Result{Files: map[string][]byte{}, Primary: map[string]string{}, Mode: pk.mode, Nodes: len(outs)}
	for _, w := range o.advice(outs) {
		res.warn(w)
	}
	shipped := make([]node, len(outs))
	var tooLarge []string
	for i := range outs {
		out := &outs[i]
		n := node{Output: out, files: map[render.Kind][]byte{}}
		for _, a := range out.Artifacts {
			if a.Kind != render.Config {
				n.put(a, keep(a.Data)) // the result is the caller's to change
				continue
			}
			payload, data, err := o.encode(a.Format, a.Data, keep)
			if err != nil {
				return nil, fmt.Errorf("node %s: %w", out.Node.Name, err)
			}
			if o.Target != nil && !a.Format.Source() {
				if err := target.Check(*o.Target, out.Node.Name, a.Format, payload); err != nil {
					tooLarge = append(tooLarge, err.Error())
				}
			}
			n.put(a, data)
		}
		shipped[i] = n
	}
	if len(tooLarge) > 0 {
		return nil, fmt.Errorf("user-data too large for %s:\n  %s", o.Target.Name, strings.Join(tooLarge, "\n  "))
	}
	if err := pk.pack(c, shipped, o, res); err != nil {
		return nil, err
	}
	if o.Packaging == Matchbox && len(res.Secrets) > 0 {
		res.warn("the Ignition configs hold the nodes' private TLS keys, and matchbox serves them over plain HTTP to any machine that presents a node's MAC: keep matchbox on a network only the nodes reach, or serve it with TLS (its -cert-file/-key-file)")
	}
	if o.Target != nil && o.Target.SecretsAdvice != "" && len(res.Secrets) > 0 {
		res.warn("user-data holds the nodes' private keys; " + o.Target.SecretsAdvice)
	}
	return res, nil
}

// node is one node's delivered artifacts.
type node struct {
	*render.Output
	artifacts []delivered
	files     map[render.Kind][]byte // the first config and its companions
	secret    bool                   // some config holds a private key
}

// delivered is an artifact with the bytes delivery made of it.
type delivered struct {
	render.Artifact
	data []byte
}

func (n *node) put(a render.Artifact, data []byte) {
	n.artifacts = append(n.artifacts, delivered{a, data})
	n.secret = n.secret || a.Secret
	if _, ok := n.files[a.Kind]; !ok {
		n.files[a.Kind] = data
	}
}

// formats picks the configs render makes for a profile: the packaging's,
// else the profile's own (Formats), else the forced one, else its defaults.
func (o Options) formats(p *profiles.Profile) ([]profiles.Format, error) {
	var fs []profiles.Format
	own, hasOwn := o.Formats[p.Name]
	if !hasOwn {
		own, hasOwn = o.Formats[p.Family]
	}
	switch {
	case o.Packaging.info().formats != nil:
		var err error
		if fs, err = o.Packaging.info().formats(p); err != nil {
			return nil, err
		}
	case hasOwn:
		fs = own
	case o.Format != "":
		fs = []profiles.Format{o.Format}
	default:
		fs = p.Defaults
	}
	for _, f := range fs {
		if !p.Supports(f) {
			return nil, fmt.Errorf("profile %s does not read %s; it reads %s", p.Name, f, profiles.JoinFormats(p.Formats))
		}
	}
	if o.Primary {
		fs = fs[:1]
	}
	return fs, nil
}

// encode returns the bytes the provider receives (payload, for the limit
// check) and the bytes written (after any base64). Ignition does not
// inflate gzip user-data, so for it gzip means a wrapper config carrying
// the real one gzipped in a data URL, which Ignition reads.
func (o Options) encode(f profiles.Format, data []byte, keep func([]byte) []byte) (payload, written []byte, err error) {
	if f.Source() {
		data = keep(data) // Butane is source text for people, never shipped
		return data, data, nil
	}
	enc, wrap := o.encodingFor(f)
	if wrap {
		if data, err = encode.WrapIgnitionGzip(data); err != nil {
			return nil, nil, err
		}
	}
	// The node receives the compressed bytes; base64 is only transport.
	if enc.Compressed() {
		payload, err = encode.Encode(data, encode.Gzip)
	} else {
		payload = keep(data)
	}
	if err != nil || !enc.Base64Text() {
		return payload, payload, err
	}
	written, err = encode.Encode(payload, encode.Base64)
	return payload, written, err
}

// encodingFor returns the encoding applied to format f's bytes, and
// whether an Ignition config is first wrapped: the wrapper carries the
// gzip, so only the base64 part (if any) is left to apply.
func (o Options) encodingFor(f profiles.Format) (enc encode.Encoding, wrap bool) {
	enc = o.Encoding
	if enc == "" {
		enc = encode.None
	}
	if f != profiles.Ignition || !enc.Compressed() {
		return enc, false
	}
	if enc.Base64Text() {
		return encode.Base64, true
	}
	return encode.None, true
}

// advice warns, once each, about encodings that would not reach a node
// readable through the target's CLI.
func (o Options) advice(outs []render.Output) []string {
	if o.Target == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range outs {
		for _, a := range n.Artifacts {
			if a.Kind != render.Config || a.Format.Source() {
				continue
			}
			enc, wrapped := o.encodingFor(a.Format)
			if wrapped {
				continue // Ignition reads its wrapper
			}
			if w := target.EncodingAdvice(*o.Target, a.Format, enc); w != "" && !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}
