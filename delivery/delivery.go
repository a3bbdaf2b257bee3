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
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/delivery/encode"
	"github.com/swarmboot/swarmboot/delivery/matchbox"
	"github.com/swarmboot/swarmboot/delivery/target"
	"github.com/swarmboot/swarmboot/internal/english"
	"github.com/swarmboot/swarmboot/pki"
	"github.com/swarmboot/swarmboot/profiles"
	"github.com/swarmboot/swarmboot/render"
)

// Options are the delivery choices.
type Options struct {
	// Packaging ships the nodes whose profile Packagings and Formats do
	// not name.
	Packaging Packaging
	// Format forces one config format (Folders only) on the nodes whose
	// profile Packagings and Formats do not name; "" takes each
	// profile's defaults.
	Format profiles.Format
	// Formats gives the nodes of a profile their formats, in folders,
	// keyed by profile (debian-13) or family (debian: all its releases);
	// the first is the node's primary.
	Formats map[string][]profiles.Format
	// Packagings gives the nodes of a profile a packaging --format offers,
	// keyed as Formats (a key is in one of the two). The packagings of
	// one run share its output folder, each writing its own paths.
	Packagings map[string]Packaging
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
	// Modes are the files whose permission is not the writer's default,
	// 0600 for user-data that can hold keys: matchbox's, which its
	// service reads.
	Modes map[string]fs.FileMode
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
// a system does not read, a snippet no rendered format carries, what each
// packaging needs of its own nodes (matchbox a MAC, Vagrant a box), a
// node folder that another packaging's files would share.
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
	errs := []error{render.CheckJobs(c, jobs)}
	parts := byPackaging(o, jobs, func(j render.Job) *cluster.Node { return j.Node })
	for _, part := range parts {
		switch {
		case o.Primary && part.pk.tree:
			errs = append(errs, OptionErrorf("%s: %s writes a directory, not a file per node: use -o DIR", english.List(names(part.items), 5), part.pk.name))
		case part.pk.check != nil:
			errs = append(errs, part.pk.check(c, part.items, o))
		}
	}
	errs = append(errs, sharedFolders(parts))
	if err := joined(errs); err != nil {
		return nil, err
	}
	return &Plan{c: c, o: o, Jobs: jobs}, nil
}

// Packaging is the packaging that ships node n.
func (p *Plan) Packaging(n *cluster.Node) Packaging { return p.o.PackagingOf(n.System) }

// part is what one packaging of a run delivers.
type part[T any] struct {
	pk    packaging
	items []T
}

// byPackaging splits items by the packaging of their node, in the
// packagings table's order, each part in the items' order: the same
// parts whatever the order of o's maps.
func byPackaging[T any](o Options, items []T, node func(T) *cluster.Node) []part[T] {
	var parts []part[T]
	for _, pk := range packagings {
		var mine []T
		for _, it := range items {
			if o.PackagingOf(node(it).System) == pk.name {
				mine = append(mine, it)
			}
		}
		if len(mine) > 0 {
			parts = append(parts, part[T]{pk, mine})
		}
	}
	return parts
}

// sharedFolders refuses a node whose folder, DIR/<node>/, is one that
// another packaging of the run writes (a node named profiles beside
// matchbox's profiles/): their files would mix in one folder.
func sharedFolders(parts []part[render.Job]) error {
	owner := map[string]Packaging{}
	for _, part := range parts {
		for _, d := range part.pk.dirs {
			owner[d] = part.pk.name
		}
	}
	var clash []string
	for _, part := range parts {
		if part.pk.dirs != nil {
			continue // it writes no folder per node
		}
		for _, j := range part.items {
			if pk, ok := owner[j.Node.Name]; ok {
				clash = append(clash, fmt.Sprintf("DIR/%s/ would hold the files of node %s and %s's", j.Node.Name, j.Node.Name, pk))
			}
		}
	}
	if len(clash) == 0 {
		return nil
	}
	return OptionErrorf("%s: rename the node, give its profile that packaging too, or render it into another folder (--nodes and another -o)", strings.Join(clash, "; "))
}

// joined is every error of errs (nil ones left out) as one, or nil; a
// single error is returned as it is.
func joined(errs []error) error {
	errs = slices.DeleteFunc(errs, func(err error) bool { return err == nil })
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// names are the jobs' node names.
func names(jobs []render.Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.Node.Name
	}
	return out
}

// refused names every node a forced format or packaging does not fit,
// with the per-profile --format that fits the cluster, built from its
// own profiles.
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
	return OptionErrorf("format %s does not apply to %s; give each profile its own in one run: --format %s (a profile left out keeps its own format, in DIR/<node>/), or leave --format out to use each profile's own",
		name, strings.Join(bad, ", "), o.perProfile(c))
}

// perProfile is a --format PROFILE=... that fits every node of c: for
// each family, the forced format or packaging where it fits, else the
// first packaging --format offers that fits (when a packaging was
// forced), else the family's default format.
func (o Options) perProfile(c *cluster.Cluster) string {
	first := map[string]*profiles.Profile{}
	for i := range c.Nodes {
		if p := c.Nodes[i].System; p != nil && first[p.Family] == nil {
			first[p.Family] = p
		}
	}
	fits := func(p *profiles.Profile, try Options) bool { _, err := try.formats(p); return err == nil }
	var items []string
	for _, family := range slices.Sorted(maps.Keys(first)) {
		p := first[family]
		choice := string(p.Defaults[0])
		switch {
		case fits(p, Options{Format: o.Format, Packaging: o.Packaging}):
			choice = cmp.Or(string(o.Format), string(o.Packaging))
		case o.Packaging != Folders:
			for _, pk := range packagings {
				if pk.offered() && fits(p, Options{Packaging: pk.name}) {
					choice = string(pk.name)
					break
				}
			}
		}
		items = append(items, family+"="+choice)
	}
	return strings.Join(items, ",")
}

// Deliver renders the plan's nodes with their TLS files (by node name;
// nil without TLS) and delivers them: the one path from a loaded
// description to files.
func (p *Plan) Deliver(tls map[string]pki.Material) (*Result, error) {
	// A packaging that addresses the nodes itself (Vagrant) ships every
	// node: Validate gives it no other packaging beside.
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
	res := &Result{Files: map[string][]byte{}, Modes: map[string]fs.FileMode{}, Primary: map[string]string{}, Nodes: len(outs)}
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
	wrote := map[string]Packaging{} // who wrote each top folder (or file) of the output
	for _, part := range byPackaging(o, shipped, func(n node) *cluster.Node { return n.Node }) {
		packed := &Result{Files: map[string][]byte{}, Primary: map[string]string{}}
		if err := part.pk.pack(c, part.items, o, packed); err != nil {
			return nil, err
		}
		if err := res.add(packed, part.pk, wrote); err != nil {
			return nil, err
		}
	}
	if o.Target != nil && o.Target.SecretsAdvice != "" && len(res.Secrets) > 0 {
		res.warn("user-data holds the nodes' private keys; " + o.Target.SecretsAdvice)
	}
	return res, nil
}

// add takes in what packaging pk made, its files with pk's mode. Each
// top folder of the output is one packaging's: Plan refuses the node
// folders two would share, and this refuses them for Apply's callers.
func (r *Result) add(packed *Result, pk packaging, wrote map[string]Packaging) error {
	shared := map[string]Packaging{}
	for path, data := range packed.Files {
		top, _, _ := strings.Cut(path, "/")
		if other, ok := wrote[top]; ok && other != pk.name {
			shared[top] = other
		}
		wrote[top] = pk.name
		r.Files[path] = data
		if pk.mode != 0 {
			r.Modes[path] = pk.mode
		}
	}
	if len(shared) > 0 {
		top := slices.Min(slices.Collect(maps.Keys(shared))) // the same one every run
		return fmt.Errorf("%s and %s would both write into %s: give each packaging nodes of other names", shared[top], pk.name, top)
	}
	maps.Copy(r.Primary, packed.Primary)
	r.Secrets = append(r.Secrets, packed.Secrets...)
	for _, w := range packed.Warnings {
		if !slices.Contains(r.Warnings, w) {
			r.Warnings = append(r.Warnings, w)
		}
	}
	return nil
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

// formats picks the configs render makes for a profile: its packaging's,
// else the formats its entry in Formats gives, else the forced one, else
// its defaults.
func (o Options) formats(p *profiles.Profile) ([]profiles.Format, error) {
	pk, own := o.choice(p)
	var fs []profiles.Format
	switch {
	case pk.info().formats != nil:
		var err error
		if fs, err = pk.info().formats(p); err != nil {
			return nil, err
		}
	case own != nil:
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

// choice is how a profile's nodes are shipped: the entry for the profile,
// else for its family, in Packagings or Formats (the formats, in
// folders), else the run's Packaging.
func (o Options) choice(p *profiles.Profile) (Packaging, []profiles.Format) {
	for _, key := range []string{p.Name, p.Family} {
		if pk, ok := o.Packagings[key]; ok {
			return pk, nil
		}
		if fs, ok := o.Formats[key]; ok {
			return Folders, fs
		}
	}
	return o.Packaging, nil
}

// PackagingOf is the packaging that ships the nodes of profile p.
func (o Options) PackagingOf(p *profiles.Profile) Packaging {
	pk, _ := o.choice(p)
	return pk
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
