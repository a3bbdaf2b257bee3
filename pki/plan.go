package pki

import (
	"github.com/swarmboot/swarmboot/internal/english"

	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/swarmboot/swarmboot/internal/parallel"
)

// ChangeKind says what happened to one certificate.
type ChangeKind int

const (
	Issued   ChangeKind = iota + 1 // new node (or a missing client certificate)
	Reissued                       // a new key: SANs, usages, issuer or key changed (renew.go)
	Expiring                       // warning only: within RenewBefore; run `swarmboot pki renew`
	Renewed                        // the same key, a new validity: expired, or by pki renew (renew.go)
)

func (k ChangeKind) String() string {
	if k >= Issued && k <= Renewed {
		return [...]string{"issued", "re-issued", "expiring", "renewed"}[k-1]
	}
	return fmt.Sprintf("ChangeKind(%d)", int(k))
}

// Change says what a plan does or found for one certificate.
type Change struct {
	Node string // or ClientName
	Kind ChangeKind
	Why  string // "new node", "SANs changed: +10.0.0.9 -10.0.0.8", "expires 2027-11-30 (in 12 days)"
}

func (c Change) String() string { return c.Node + ": " + c.Kind.String() + " (" + c.Why + ")" }

// fresh: the change is a new pair.
func (k ChangeKind) fresh() bool { return k == Issued || k == Reissued || k == Renewed }

// CAPolicy says what a run may do about the CA itself.
type CAPolicy int

const (
	UseCA     CAPolicy = iota // the folder must hold a CA (pki renew)
	MakeCA                    // use it, or make one when there is none (a render)
	NewCA                     // make one; an existing CA is an error wrapping ErrExists (pki init)
	ReplaceCA                 // make one; the old one moves to backup/<time>/ (pki init --force)
)

// PlanOptions say what a run may do to the PKI.
type PlanOptions struct {
	CA       CAPolicy
	Name     string // the cluster's name, in a new CA's subject
	Renew    bool   // re-issue what is within RenewBefore of expiry (pki renew)
	RenewAll bool   // re-issue every certificate (pki renew --force)
	Env      []byte // client/env as it should read; nil leaves it alone
}

// Prepared is the PKI of one run: every node's material, made in memory.
// Commit stores what is new, as one transaction.
type Prepared struct {
	Dir      string
	Created  bool   // a new CA
	Backup   string // where ReplaceCA moved the old CA, "" if nothing
	Changes  []Change
	Material map[string]Material // by node name
	CA       []string            // the CA's fingerprints (Fingerprint)
	Env      string              // the operator's environment file
	tx       *Tx
	closeTx  bool // Commit lets go of the lock (Prepare)
	files    []file
	moves    []move
}

// Commit stores the new CA, certificates and environment, as one
// transaction (commit.go). It runs once; later calls do nothing.
func (p *Prepared) Commit() error {
	if p.tx == nil {
		return nil // read only
	}
	files, moves := p.files, p.moves
	p.files, p.moves = nil, nil
	err := p.tx.commit(files, moves)
	if p.closeTx {
		p.tx.Close()
	}
	return err
}

// Writes reports whether Commit has anything to store.
func (p *Prepared) Writes() bool { return len(p.files) > 0 || len(p.moves) > 0 }

// slot is one certificate of a plan: a node's or the client's.
type slot struct {
	name, dir string // dir relative to the PKI
	want      *x509.Certificate
	have      pair
	verdict   verdict
	kind      ChangeKind
	why       string
}

// Plan decides, for the nodes of reqs and the operator's client, what to
// reuse and what to issue, and issues it in memory, on every CPU. A stored
// pair is reused while it is signed by this CA, matches its key, has
// exactly the requested names and usages and has not expired; one within
// RenewBefore of expiry is reported as Expiring and kept (renders stay
// stable until `pki renew`). Nothing is written before Commit.
func (t *Tx) Plan(reqs []Request, set Settings, o PlanOptions) (*Prepared, error) {
	set, err := set.norm()
	if err != nil {
		return nil, err
	}
	slots, err := newSlots(reqs)
	if err != nil {
		return nil, err
	}
	p := &Prepared{Dir: t.dir, tx: t, Env: filepath.Join(t.dir, clientDir, "env"), Material: make(map[string]Material, len(reqs))}
	s, err := t.Store()
	switch {
	case errors.Is(err, ErrNoCA) && o.CA != UseCA:
		p.Created = true
	case err != nil:
		return nil, err
	case o.CA == NewCA:
		return nil, fmt.Errorf("%s: %w, and the nodes rendered with it trust it: nothing was changed (`swarmboot pki status FILE` shows it)", filepath.Join(t.dir, "ca.pem"), ErrExists)
	case o.CA == ReplaceCA:
		p.Created = true
		if p.moves, p.Backup, err = t.backup(set.Now); err != nil {
			return nil, err
		}
	}
	if p.Created {
		if s, p.files, err = newCA(t.dir, o.Name, set); err != nil {
			return nil, err
		}
	}
	if err := s.usable(set.Now); err != nil {
		return nil, err
	}
	if err := s.assess(slots, set, !p.Created); err != nil {
		return nil, err
	}
	for i := range slots {
		decide(&slots[i], o, p.Created)
	}
	if err := s.issueAll(slots, set); err != nil {
		return nil, err
	}
	for i := range slots {
		sl := &slots[i]
		if sl.kind != 0 && !(p.Created && sl.name == ClientName) {
			p.Changes = append(p.Changes, Change{sl.name, sl.kind, sl.why})
		}
		m, err := sl.have.material(s.caPEM)
		if err != nil {
			return nil, err
		}
		if sl.kind.fresh() {
			p.files = append(p.files, sl.files(m)...)
		}
		if sl.name != ClientName {
			p.Material[sl.name] = m
		}
	}
	// DOCKER_CERT_PATH wants ca.pem beside the client's pair.
	if err := p.keep(clientDir+"/ca.pem", s.caPEM, 0o644); err != nil {
		return nil, err
	}
	if o.Env != nil {
		if err := p.keep(clientDir+"/env", o.Env, 0o600); err != nil {
			return nil, err
		}
	}
	p.CA = s.Fingerprints()
	return p, nil
}

// keep stores data at name unless the folder holds it already.
func (p *Prepared) keep(name string, data []byte, perm os.FileMode) error {
	if !p.Created {
		old, err := readFile(filepath.Join(p.Dir, filepath.FromSlash(name)), false)
		if err != nil || bytes.Equal(old, data) {
			return err
		}
	}
	p.files = append(p.files, file{name, data, perm})
	return nil
}

// newSlots validates the requests and makes one slot per node, in name
// order so changes and errors come out the same on every run, and the
// client's last.
func newSlots(reqs []Request) ([]slot, error) {
	reqs = slices.Clone(reqs)
	slices.SortFunc(reqs, func(a, b Request) int { return strings.Compare(a.Name, b.Name) })
	slots := make([]slot, 0, len(reqs)+1)
	for i, r := range reqs {
		if i > 0 && reqs[i-1].Name == r.Name {
			return nil, fmt.Errorf("pki: node %q requested twice", r.Name)
		}
		want, err := nodeTemplate(r)
		if err != nil {
			return nil, err
		}
		slots = append(slots, slot{name: r.Name, dir: nodeDir(r.Name), want: want})
	}
	return append(slots, slot{name: ClientName, dir: clientDir, want: clientTemplate()}), nil
}

// assess reads and checks every slot's stored pair, on every CPU; stored
// false (a new CA) reads nothing: nothing stored can be reused.
func (s *Store) assess(slots []slot, set Settings, stored bool) error {
	return parallel.Do(len(slots), func(i int) error {
		sl := &slots[i]
		if !stored {
			sl.verdict = verdict{Missing, "missing"}
			return nil
		}
		var err error
		if sl.have, err = s.readPair(sl.dir); err != nil {
			return err
		}
		sl.verdict = s.check(sl.have, sl.want, set.Now, set.RenewBefore)
		return nil
	})
}

// decide turns a slot's verdict into a change.
func decide(sl *slot, o PlanOptions, created bool) {
	v := sl.verdict
	switch {
	case v.state == Missing && v.why == "missing":
		sl.kind, sl.why = Issued, "new node"
		if sl.name == ClientName {
			sl.why = "missing"
		}
		if created {
			sl.why = "new CA"
		}
	case v.renewable():
		sl.kind, sl.why = Renewed, v.why
	case v.reissue():
		sl.kind, sl.why = Reissued, v.why
	case v.state == RenewSoon && (o.Renew || o.RenewAll):
		sl.kind, sl.why = Renewed, v.why
	case v.state == RenewSoon:
		sl.kind, sl.why = Expiring, v.why
	case o.RenewAll:
		sl.kind, sl.why = Renewed, "forced"
	}
}

// issueAll issues a new pair for every slot that needs one, on every CPU.
// Without the CA key it names them and asks for the key.
func (s *Store) issueAll(slots []slot, set Settings) error {
	var todo []*slot
	for i := range slots {
		if slots[i].kind.fresh() {
			todo = append(todo, &slots[i])
		}
	}
	if len(todo) > 0 && s.key == nil {
		return fmt.Errorf("%w: %s is not in %s, and this run must issue %s: %s. Put the CA key at %s for this run (mode 0600), then take it away again",
			ErrKeyOffline, "ca-key.pem", s.dir, english.Count(len(todo), "certificate"), listSlots(todo), filepath.Join(s.dir, "ca-key.pem"))
	}
	return parallel.Do(len(todo), func(i int) (err error) {
		todo[i].have, err = s.certify(todo[i], set)
		return err
	})
}

// listSlots names slots and why, the first few: a cluster may have
// thousands.
func listSlots(slots []*slot) string {
	var names []string
	for _, sl := range slots[:min(len(slots), 5)] {
		names = append(names, sl.name+" ("+sl.why+")")
	}
	if len(slots) > 5 {
		names = append(names, fmt.Sprintf("and %d more", len(slots)-5))
	}
	return strings.Join(names, ", ")
}

// backup plans the moves that set the current CA, client and node
// certificates aside in backup/<time>/, a folder that does not exist yet.
func (t *Tx) backup(now time.Time) ([]move, string, error) {
	stamp := now.UTC().Format("20060102T150405Z")
	to := "backup/" + stamp
	for i := 2; ; i++ {
		if _, err := os.Lstat(filepath.Join(t.dir, to)); errors.Is(err, os.ErrNotExist) {
			break
		}
		to = fmt.Sprintf("backup/%s-%d", stamp, i)
	}
	var moves []move
	for _, name := range []string{"ca.pem", "ca-key.pem", clientDir, "nodes"} {
		if _, err := os.Lstat(filepath.Join(t.dir, name)); err == nil {
			moves = append(moves, move{name, to + "/" + name})
		}
	}
	return moves, filepath.Join(t.dir, filepath.FromSlash(to)), nil
}

// Init makes a CA and the operator's certificate in dir, as one
// transaction, and returns the paths it wrote. An existing CA is an error
// wrapping ErrExists unless force is set; force moves it, with the client
// and node certificates it signed, into backup/<time>/.
func Init(dir, cluster string, set Settings, force bool) (paths []string, err error) {
	t, err := Begin(dir, nil)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	o := PlanOptions{CA: NewCA, Name: cluster}
	if force {
		o.CA = ReplaceCA
	}
	p, err := t.Plan(nil, set, o)
	if err != nil {
		return nil, err
	}
	for _, f := range p.files {
		paths = append(paths, filepath.Join(dir, filepath.FromSlash(f.name)))
	}
	return paths, p.Commit()
}
