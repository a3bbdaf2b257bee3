package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/output"
	"github.com/swarmboot/swarmboot/pki"
)

// A render is one transaction on the PKI: the output destination is
// checked before anything is issued, the PKI is locked, every node's
// material is prepared in memory, the configs are built, and the PKI is
// committed just before the output swap (output.Options.BeforeSwap), so
// an output never names a certificate the PKI does not hold and a failed
// render changes nothing.

// pkiRun is one render's hold on the PKI; nil when the cluster uses no TLS.
type pkiRun struct {
	e  env
	c  *cluster.Cluster
	tx *pki.Tx
	p  *pki.Prepared
}

// checkDest checks the output folder before anything is issued: it must
// be replaceable and apart from the PKI. out "" is standard output.
func checkDest(c *cluster.Cluster, override, out string) (*output.Dest, error) {
	if out == "" {
		return nil, nil
	}
	d, err := output.Check(out, keep(c, override)...)
	if errors.Is(err, output.ErrKeepInside) {
		return nil, usagef("%v (tls.dir or --pki)", err)
	}
	return &d, err
}

// keep is what an output must not overlap: the PKI, also when this
// render does not use it (TLS off now, on again later).
func keep(c *cluster.Cluster, override string) []string {
	return []string{pki.Dir(c, override)}
}

// startPKI takes the PKI's lock, refuses a CA other than the one dest's
// nodes trust (unless newCA), and prepares every node's material.
func startPKI(e env, c *cluster.Cluster, override string, dest *output.Dest, newCA bool) (*pkiRun, error) {
	if !c.UsesTLS() {
		return nil, nil
	}
	dir := pki.Dir(c, override)
	tx, err := pki.Begin(dir, func(holder string) {
		fmt.Fprintf(e.stderr, "swarmboot: waiting for %s, which holds the PKI %s\n", holder, dir)
	})
	if err != nil {
		return nil, err
	}
	r := &pkiRun{e: e, c: c, tx: tx}
	if err := r.sameCA(dest, newCA); err != nil {
		tx.Close()
		return nil, err
	}
	if r.p, err = pki.PlanCluster(tx, c, time.Now(), pki.PlanOptions{CA: pki.MakeCA}); err != nil {
		tx.Close()
		return nil, err
	}
	return r, nil
}

// sameCA refuses to render into an output made with another CA: its
// running nodes trust that one and would refuse whatever this render
// gives the others. It runs before any CA is made.
func (r *pkiRun) sameCA(dest *output.Dest, newCA bool) error {
	if dest == nil || len(dest.CA) == 0 || newCA {
		return nil
	}
	s, err := r.tx.Store()
	if err != nil && !errors.Is(err, pki.ErrNoCA) {
		return err
	}
	if s != nil && slices.ContainsFunc(s.Fingerprints(), func(fp string) bool { return slices.Contains(dest.CA, fp) }) {
		return nil
	}
	have := "holds no CA"
	if s != nil {
		have = "holds another CA (" + strings.Join(s.Fingerprints(), ", ") + ")"
	}
	return fmt.Errorf("%s was rendered with the CA %s, which its running nodes trust, but the PKI folder %s %s: they would refuse every certificate this render issues. "+
		"Render with the PKI those nodes trust (restore %s from a backup, or name it with --pki), or into another folder; --new-ca renders anyway, and then every node needs its new user-data",
		dest.Dir, strings.Join(dest.CA, ", "), r.tx.Dir(), have, r.tx.Dir())
}

func (r *pkiRun) material() map[string]pki.Material {
	if r == nil {
		return nil
	}
	return r.p.Material
}

// ca is what the output records of the CA its nodes trust.
func (r *pkiRun) ca() []string {
	if r == nil {
		return nil
	}
	return r.p.CA
}

// commit stores what the render's PKI step made and says so.
func (r *pkiRun) commit() error {
	if r == nil {
		return nil
	}
	if err := r.p.Commit(); err != nil {
		return err
	}
	reportPKI(r.e, r.c, r.p)
	return nil
}

func (r *pkiRun) close() {
	if r != nil {
		r.tx.Close()
	}
}

// reportPKI prints what the PKI step did: a new CA, issued certificates
// (counted, not listed: a cluster may have thousands), and every warning.
func reportPKI(e env, c *cluster.Cluster, p *pki.Prepared) {
	if p.Backup != "" {
		fmt.Fprintf(e.stderr, "moved the previous CA, its client and node certificates to %s/\n", p.Backup)
	}
	if p.Created {
		fmt.Fprintf(e.stderr, "created the cluster CA and the operator's certificate in %s/ (ca-key.pem signs for the whole cluster: keep it private; it never goes into user-data)\n", p.Dir)
	}
	counts := map[pki.ChangeKind]int{}
	for _, ch := range p.Changes {
		switch {
		case ch.Kind == pki.Expiring:
			fmt.Fprintf(e.stderr, "swarmboot: warning: %s: certificate %s; run `swarmboot pki renew %s`\n", ch.Node, ch.Why, c.File)
		case ch.Kind == pki.Reissued, ch.Node == pki.ClientName:
			fmt.Fprintf(e.stderr, "%s the certificate of %s (%s)\n", ch.Kind, ch.Node, ch.Why)
		default:
			counts[ch.Kind]++
		}
	}
	if n := counts[pki.Issued]; n > 0 {
		fmt.Fprintf(e.stderr, "issued %s into %s/nodes/\n", count(n, "node certificate"), p.Dir)
	}
	if n := counts[pki.Renewed]; n > 0 {
		fmt.Fprintf(e.stderr, "renewed %s\n", count(n, "node certificate"))
	}
	if p.Created {
		fmt.Fprintf(e.stderr, "for the docker CLI and etcdctl: . %s\n", p.Env)
	}
}

// validateTLS is the material validate builds with: the PKI's, read only,
// or stand-ins before render has issued anything (validate writes nothing).
func validateTLS(c *cluster.Cluster) (map[string]pki.Material, error) {
	if !c.UsesTLS() {
		return nil, nil
	}
	m, err := pki.Load(c, pki.Dir(c, ""), time.Now())
	switch {
	case err == nil:
		return m, nil
	case errors.Is(err, pki.ErrNoCA), errors.Is(err, pki.ErrWouldIssue):
		return pki.StandIns(c), nil
	}
	return nil, err
}
