package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/pki"
)

// prepareTLS gets every node's certificate for a render from the cluster's
// PKI, in memory: the caller commits it once the render has succeeded.
// out is the output directory ("" for standard output): a PKI inside it
// would be lost when the next render replaces it whole.
func prepareTLS(c *cluster.Cluster, override, out string) (*pki.Prepared, error) {
	dir := pki.Dir(c, override)
	if out != "" && c.UsesTLS() && within(dir, out) {
		return nil, usagef("the PKI folder %s is inside %s, which every render replaces whole: keep it elsewhere (tls.dir or --pki)", dir, out)
	}
	return pki.Prepare(c, dir, time.Now(), false)
}

// within reports whether path is dir or lies under it.
func within(path, dir string) bool {
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// commitTLS stores what the render's PKI step made and says so.
func commitTLS(e env, c *cluster.Cluster, p *pki.Prepared) error {
	if err := p.Commit(); err != nil {
		return err
	}
	reportPKI(e, c, p)
	return nil
}

// reportPKI prints what the PKI step did: a new CA, issued certificates
// (counted, not listed: a cluster may have thousands), and every warning.
func reportPKI(e env, c *cluster.Cluster, p *pki.Prepared) {
	if p.Created {
		fmt.Fprintf(e.stderr, "created the cluster CA and the operator's certificate in %s/ (ca-key.pem signs for the whole cluster: keep it private; it never goes into user-data)\n", p.Dir)
	}
	counts := map[pki.ChangeKind]int{}
	for _, ch := range p.Changes {
		switch ch.Kind {
		case pki.Expiring:
			fmt.Fprintf(e.stderr, "swarmboot: warning: %s: certificate %s; run `swarmboot pki renew %s`\n", ch.Node, ch.Why, c.File)
		case pki.Reissued:
			fmt.Fprintf(e.stderr, "re-issued the certificate of %s (%s)\n", ch.Node, ch.Why)
		default:
			counts[ch.Kind]++
		}
	}
	if n := counts[pki.Issued]; n > 0 {
		fmt.Fprintf(e.stderr, "issued %s into %s/nodes/\n", count(n, "node certificate"), p.Dir)
	}
	if p.Created && p.Env != "" {
		fmt.Fprintf(e.stderr, "for the docker CLI and etcdctl: . %s\n", p.Env)
	}
}

// validateTLS is the material validate builds with: the PKI's, read only,
// or stand-ins before render has issued anything (validate writes nothing).
func validateTLS(c *cluster.Cluster) (map[string]pki.Material, error) {
	if !c.UsesTLS() {
		return nil, nil
	}
	p, err := pki.Prepare(c, pki.Dir(c, ""), time.Now(), true)
	switch {
	case err == nil:
		return p.Material, nil
	case errors.Is(err, pki.ErrNoCA), errors.Is(err, pki.ErrWouldIssue):
		return pki.StandIns(c), nil
	}
	return nil, err
}
