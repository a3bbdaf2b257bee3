// Package swarmboot is the library entry: one call, Build, turns a cluster
// description into every node's user-data, with the findings (errors and
// warnings, with positions) and the PKI changes it would commit.
// Committing is a separate, explicit step, so a caller that must not write
// (a Terraform read, `swarmboot validate`) never does:
//
//	res, err := swarmboot.Build(ctx, description, swarmboot.Options{File: "cluster.yaml", Output: "out"})
//	if err != nil { ... }            // res.Findings says why, when the description is at fault
//	defer res.Close()
//	_, err = res.Commit()            // the PKI and the output folder, as one transaction
//
// The pipeline runs one way:
//
//	cluster.Load        description -> *cluster.Cluster (validated, positions for every path)
//	delivery.Plan       each selected node's formats, decided once (refusals before anything is issued)
//	pki                 every node's certificate: reused, or issued in memory (the PKI locked)
//	Plan.Deliver        render.Render, then encodings, size limits, packaging
//	Commit              the PKI, then the output folder swapped in whole
//
// The CLI (internal/cli) and the Terraform provider are thin shells over it.
package swarmboot

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/internal/english"
	"github.com/swarmboot/swarmboot/output"
	"github.com/swarmboot/swarmboot/pki"
	"github.com/swarmboot/swarmboot/profiles"
)

// PKIMode says what a build may do with the cluster's PKI.
type PKIMode int

const (
	// Issue (a render): lock the PKI for the whole build, make the CA on
	// the first render and issue what is missing or stale, in memory;
	// Commit stores it.
	Issue PKIMode = iota
	// ReadOnly (a Terraform read): use the PKI as it is, without a lock
	// or a write; a missing CA is an error wrapping pki.ErrNoCA, anything
	// to issue one wrapping pki.ErrWouldIssue.
	ReadOnly
	// StandIns (validate): as ReadOnly, but where the PKI could not
	// serve, placeholders stand in for the certificates so every config
	// is still built and checked; nothing of them may be shipped.
	StandIns
)

// Options say what Build makes.
type Options struct {
	// File names the description in findings; its folder anchors the
	// description's relative paths (snippets, tls.dir). "" reads as
	// "<stdin>", in the working folder.
	File string
	// PKI is the cluster's PKI folder in place of tls.dir (--pki).
	PKI string
	// Nodes selects the nodes to deliver: "" every node, else names
	// (a,b), role=ROLE or profile=PROFILE. The others still count: etcd
	// member lists and discovery URLs name every node.
	Nodes string
	// Node delivers one node's primary config alone (render --node).
	Node string
	// Delivery is the packaging, formats, encoding, size target, matchbox
	// and Vagrant choices.
	Delivery delivery.Options
	// Strict makes every warning fail the build.
	Strict bool
	// PKIMode: Issue (default), ReadOnly or StandIns.
	PKIMode PKIMode
	// Output is the folder Commit replaces; "" writes none (the PKI
	// alone is committed: render --node). It is checked before anything
	// is issued.
	Output string
	// NewCA renders into an Output made with another CA (--new-ca).
	NewCA bool
	// Now is the time certificates are judged and issued at (zero: now).
	Now time.Time
	// Waiting hears who holds the PKI (and which) while Build waits for
	// its lock.
	Waiting func(holder, pkiDir string)
}

// Finding is one error or warning, where it stands: what editors, CI and
// Terraform diagnostics take.
type Finding struct {
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Path     string `json:"path,omitempty"` // $.nodes[3].ip
	Severity string `json:"severity"`       // error or warning
	Message  string `json:"message"`
}

// Node is one delivered node as plain data.
type Node struct {
	Name    string
	IP      netip.Addr
	Roles   []string
	Profile string
	// Packaging ships it; Format is its primary config, Primary that
	// config's path in Files.
	Packaging delivery.Packaging
	Format    profiles.Format
	Primary   string
	// Secret: its configs hold its private TLS key.
	Secret bool
}

// PKIChanges is what the build found in the PKI and would store.
type PKIChanges struct {
	Dir     string
	Created bool   // a new CA: the first render
	Backup  string // where a replaced CA went ("" if none)
	Changes []pki.Change
	Env     string // the operator's environment file
	// CA is the CA bundle (PEM) every node trusts (nil without TLS).
	CA []byte
	// Writes: Commit would store something in the PKI.
	Writes bool
}

// Result is what Build made. Files and everything else are the caller's;
// Build keeps no reference to them.
type Result struct {
	Cluster *cluster.Cluster
	// Report is the description's report, as the CLI prints it; Findings
	// hold it and the delivery's warnings as data.
	Report   *cluster.Report
	Findings []Finding
	// Files are the delivered files by slash-separated path under
	// Output; Modes the permission of those not 0600 (matchbox's).
	Files   map[string][]byte
	Modes   map[string]fs.FileMode
	Nodes   []Node
	Secrets []string // the files that hold a node's private key
	// Warnings are the delivery's (an encoding a target's CLI mangles,
	// keys matchbox would serve, addresses VirtualBox refuses), each
	// with "file:line:col: " when it is about one value of the
	// description: also in Findings, with the position as data.
	Warnings []string
	PKI      PKIChanges

	output      string
	dest        *output.Dest
	keep        []string
	tx          *pki.Tx
	plan        *pki.Prepared
	ca          []string
	standIn     bool
	material    map[string]pki.Material
	description []byte
}

// ErrInvalid: the description has errors (or, with Strict, warnings);
// Result.Findings and Result.Report say which. Build's error is an
// *InvalidError wrapping it.
var ErrInvalid = errors.New("the description is invalid")

// InvalidError is ErrInvalid with its findings counted, as said after them.
type InvalidError struct{ Summary string }

func (e *InvalidError) Error() string { return ErrInvalid.Error() + ": " + e.Summary }
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// ErrStandIns: Commit on a build whose certificates are stand-ins.
var ErrStandIns = errors.New("this build holds stand-in certificates: render it with PKIMode Issue")

// Build does the whole job in memory: load and validate the description,
// decide each node's formats, get every node's certificate, render and
// deliver. Nothing is written; with PKIMode Issue the PKI stays locked
// until Commit or Close. A description with errors returns the Result
// (its Findings) and an error wrapping ErrInvalid; a delivery choice
// that cannot work, a *delivery.OptionError.
func Build(ctx context.Context, description []byte, o Options) (res *Result, err error) {
	file := o.File
	if file == "" {
		file = "<stdin>"
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if err := o.Delivery.Validate(); err != nil {
		return nil, err
	}
	c, rep := cluster.Load(file, description)
	res = &Result{Cluster: c, Report: rep, Findings: findings(rep), output: o.Output, description: description}
	if rep.IsFatal(o.Strict) {
		return res, &InvalidError{Summary(rep, o.Strict)}
	}
	keep, err := selection(c, o)
	if err != nil {
		return res, err
	}
	plan, err := o.Delivery.Plan(c, keep)
	if err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	defer func() {
		if err != nil {
			res.Close()
		}
	}()
	dir := pki.Dir(c, o.PKI)
	res.keep = []string{dir}
	if o.Output != "" {
		d, err := output.Check(o.Output, res.keep...)
		if errors.Is(err, output.ErrKeepInside) {
			return res, delivery.OptionErrorf("%v (tls.dir or --pki)", err)
		}
		if err != nil {
			return res, err
		}
		if err := keepsOthers(d.Dir, c, keep); err != nil {
			return res, err
		}
		res.dest = &d
	}
	material, err := res.preparePKI(c, dir, o)
	if err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	delivered, err := plan.Deliver(material)
	if err != nil {
		return res, err
	}
	res.Files, res.Modes, res.Secrets = delivered.Files, delivered.Modes, delivered.Secrets
	for _, w := range delivered.Warnings {
		f := Finding{File: file, Path: w.Path, Severity: cluster.Warning.String(), Message: w.Message}
		msg := w.Message
		if w.Path != "" {
			pos := c.Pos(w.Path)
			f.Line, f.Column = pos.Line, pos.Col
			msg = fmt.Sprintf("%s:%d:%d: %s", file, pos.Line, pos.Col, msg)
		}
		res.Findings = append(res.Findings, f)
		res.Warnings = append(res.Warnings, msg)
	}
	res.Nodes = nodes(plan, delivered)
	res.material = material
	if o.Strict && len(delivered.Warnings) > 0 {
		return res, &InvalidError{english.Count(len(delivered.Warnings), "delivery warning") + ", fatal with --strict"}
	}
	return res, nil
}

// preparePKI gets every node's material as o.PKIMode allows.
func (r *Result) preparePKI(c *cluster.Cluster, dir string, o Options) (map[string]pki.Material, error) {
	r.PKI.Dir = dir
	if !c.UsesTLS() {
		return nil, nil
	}
	if o.PKIMode != Issue {
		m, err := pki.Load(c, dir, o.Now)
		if o.PKIMode == StandIns && (errors.Is(err, pki.ErrNoCA) || errors.Is(err, pki.ErrWouldIssue)) {
			r.standIn = true
			return pki.StandIns(c), nil
		}
		if err == nil {
			r.PKI.CA = caBundle(m)
		}
		return m, err
	}
	var waiting func(string)
	if o.Waiting != nil {
		waiting = func(holder string) { o.Waiting(holder, dir) }
	}
	tx, err := pki.Begin(dir, waiting)
	if err != nil {
		return nil, err
	}
	r.tx = tx
	if err := r.sameCA(o.NewCA); err != nil {
		return nil, err
	}
	p, err := pki.PlanCluster(tx, c, o.Now, pki.PlanOptions{CA: pki.MakeCA})
	if err != nil {
		return nil, err
	}
	r.plan, r.ca = p, p.CA
	r.PKI.Created, r.PKI.Backup, r.PKI.Changes, r.PKI.Env, r.PKI.Writes = p.Created, p.Backup, p.Changes, p.Env, p.Writes()
	r.PKI.CA = caBundle(p.Material)
	return p.Material, nil
}

// sameCA refuses to render into an output made with another CA: its
// running nodes trust that one and would refuse whatever this render
// gives the others. It runs before any CA is made.
func (r *Result) sameCA(newCA bool) error {
	if r.dest == nil || len(r.dest.CA) == 0 || newCA {
		return nil
	}
	s, err := r.tx.Store()
	if err != nil && !errors.Is(err, pki.ErrNoCA) {
		return err
	}
	if s != nil && slices.ContainsFunc(s.Fingerprints(), func(fp string) bool { return slices.Contains(r.dest.CA, fp) }) {
		return nil
	}
	have := "holds no CA"
	if s != nil {
		have = "holds another CA (" + strings.Join(s.Fingerprints(), ", ") + ")"
	}
	return fmt.Errorf("%s was rendered with the CA %s, which its running nodes trust, but the PKI folder %s %s: they would refuse every certificate this render issues. "+
		"Render with the PKI those nodes trust (restore %s from a backup, or name it with --pki), or into another folder; --new-ca renders anyway, and then every node needs its new user-data",
		r.dest.Dir, strings.Join(r.dest.CA, ", "), r.tx.Dir(), have, r.tx.Dir())
}

// Commit stores what the build made, as one transaction: the PKI's new
// CA and certificates are committed just before the output folder is
// swapped in whole, so an output never names a certificate the PKI does
// not hold, and a failure leaves both as they were. Without Output only
// the PKI is committed. It returns the output stage's warnings (an old
// tree it could not remove) and releases the PKI.
func (r *Result) Commit() (warnings []string, err error) {
	defer r.Close()
	if r.standIn {
		return nil, ErrStandIns
	}
	commitPKI := func() error {
		if r.plan == nil {
			return nil
		}
		return r.plan.Commit()
	}
	if r.output == "" {
		return nil, commitPKI()
	}
	// The description goes along, so the next render can say which of
	// its keys changed (render --plan).
	files := maps.Clone(r.Files)
	files[output.Description] = r.description
	err = output.WriteTree(r.output, files, output.Options{
		Modes: r.Modes, CA: r.ca, Keep: r.keep, BeforeSwap: commitPKI,
		Warn: func(w string) { warnings = append(warnings, w) },
	})
	return warnings, err
}

// Description is the description the build was made from.
func (r *Result) Description() []byte { return r.description }

// Output is the folder Commit replaces ("" for none).
func (r *Result) Output() string { return r.output }

// Close releases the PKI without committing; it is safe to call twice.
func (r *Result) Close() {
	if r != nil && r.tx != nil {
		r.tx.Close()
		r.tx = nil
	}
}

// NotAfter is the earliest expiry among the delivered nodes'
// certificates (zero without TLS): when the first node needs its renewed
// certificate.
func (r *Result) NotAfter() (time.Time, error) {
	var first time.Time
	for _, n := range r.Nodes {
		m, ok := r.material[n.Name]
		if !ok || r.standIn {
			continue
		}
		b, _ := pem.Decode(m.Cert)
		if b == nil {
			return time.Time{}, fmt.Errorf("node %s: no certificate in its material", n.Name)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return time.Time{}, fmt.Errorf("node %s: %w", n.Name, err)
		}
		if first.IsZero() || c.NotAfter.Before(first) {
			first = c.NotAfter
		}
	}
	return first, nil
}

// caBundle is the CA bundle every node's material carries (one for all).
func caBundle(m map[string]pki.Material) []byte {
	for _, name := range slices.Sorted(maps.Keys(m)) {
		return slices.Clone(m[name].CA)
	}
	return nil
}

// keepsOthers refuses to render some nodes into a folder that holds
// others' output: the new tree replaces the folder whole, and their
// files would be gone without a word.
func keepsOthers(dir string, c *cluster.Cluster, keep func(*cluster.Node) bool) error {
	if keep == nil {
		return nil
	}
	var others []string
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if keep(n) {
			continue
		}
		for _, p := range []string{n.Name, "ignition/" + n.Name + ".ign"} {
			if _, err := os.Lstat(filepath.Join(dir, p)); err == nil {
				others = append(others, n.Name)
				break
			}
		}
	}
	if len(others) == 0 {
		return nil
	}
	return optionError(fmt.Sprintf("%s holds the output of %s, which this selection leaves out: the render replaces %s whole and their files would be gone. "+
		"Render every node in one run, each profile in its own format (--format flatcar=ignition,ubuntu=cloud-config), or the selection into another folder",
		dir, english.List(others, 5), dir))
}

// selection is the nodes o selects (nil: all of them).
func selection(c *cluster.Cluster, o Options) (func(*cluster.Node) bool, error) {
	switch {
	case o.Node != "" && o.Nodes != "":
		return nil, optionError("--nodes selects folders for -o DIR; --node prints one node")
	case o.Node != "":
		if err := c.HasNode(o.Node); err != nil {
			return nil, optionError(err.Error())
		}
		return func(n *cluster.Node) bool { return n.Name == o.Node }, nil
	}
	keep, err := c.Select(o.Nodes)
	if err != nil {
		return nil, optionError(err.Error())
	}
	return keep, nil
}

// nodes is the delivered nodes as plain data, in description order.
func nodes(plan *delivery.Plan, d *delivery.Result) []Node {
	secret := map[string]bool{}
	for _, s := range d.Secrets {
		secret[s] = true
	}
	out := make([]Node, 0, len(plan.Jobs))
	for _, j := range plan.Jobs {
		n := j.Node
		primary := d.Primary[n.Name]
		out = append(out, Node{
			Name: n.Name, IP: n.IP, Roles: slices.Clone(n.Roles), Profile: n.Profile,
			Packaging: plan.Packaging(n), Format: j.Formats[0], Primary: primary, Secret: secret[primary],
		})
	}
	return out
}

// findings turns the description's report into data.
func findings(rep *cluster.Report) []Finding {
	out := make([]Finding, 0, len(rep.Entries))
	for _, e := range rep.Entries {
		file := rep.File
		if e.File != "" {
			file = e.File
		}
		msg := e.Message
		if e.Repeats > 0 {
			msg += fmt.Sprintf(" (and %d more like it)", e.Repeats)
		}
		out = append(out, Finding{File: file, Line: e.Pos.Line, Column: e.Pos.Col, Path: e.Path, Severity: e.Severity.String(), Message: msg})
	}
	return out
}

// Summary counts a fatal report's findings, as the CLI says it after them.
func Summary(rep *cluster.Report, strict bool) string {
	errs, warns := 0, 0
	for _, e := range rep.Entries {
		if e.Severity == cluster.Error {
			errs++
		} else {
			warns++
		}
	}
	if strict && errs == 0 {
		return english.Count(warns, "warning") + ", fatal with --strict"
	}
	return english.Count(errs, "error") + ", " + english.Count(warns, "warning") + "; nothing was written"
}

func optionError(msg string) error { return delivery.OptionErrorf("%s", msg) }
