package cli

import (
	"fmt"

	"github.com/swarmboot/swarmboot"
	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/pki"
)

// reportPKI prints what pki init stored.
func reportPKI(e env, c *cluster.Cluster, p *pki.Prepared) {
	printPKI(e, c.File, swarmboot.PKIChanges{Dir: p.Dir, Created: p.Created, Backup: p.Backup, Changes: p.Changes, Env: p.Env})
}

// printPKI prints what a committed build did to the PKI: a new CA,
// issued certificates (counted, not listed: a cluster may have
// thousands), and every warning.
func printPKI(e env, file string, p swarmboot.PKIChanges) {
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
			fmt.Fprintf(e.stderr, "swarmboot: warning: %s: certificate %s; run `swarmboot pki renew %s`\n", ch.Node, ch.Why, file)
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
