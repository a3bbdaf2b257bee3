package pki

import (
	"fmt"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
)

// NodeCert is the certificate the PKI holds for a node, as `pki publish`
// hands it to the running node: swarmboot's PEM encoding of it, and
// whether it can be handed on at all.
type NodeCert struct {
	Node     string
	PEM      []byte // nil when there is none to read
	NotAfter time.Time
	State    State
	// Problem says why the certificate cannot go to the node, and what to
	// do; "" when it can.
	Problem string
}

// NodeCerts reads, for every node of c, the certificate the PKI in dir
// holds, checked at now against the CA and the node's key. It reads only,
// under the shared lock. A certificate can go to its running node when it
// is the CA's, for the node's key and valid now (renew soon, or names
// that changed since, do not stop that: it is still the node's current
// one); an error means the CA itself cannot be read.
func NodeCerts(c *cluster.Cluster, dir string, now time.Time) ([]NodeCert, error) {
	_, slots, unlock, err := assessNodes(c, dir, now)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := make([]NodeCert, len(slots))
	for i, sl := range slots {
		nc := NodeCert{Node: sl.name, State: sl.verdict.state}
		if sl.have.cert != nil {
			nc.PEM, nc.NotAfter = encodeCerts(sl.have.cert), sl.have.cert.NotAfter
		}
		switch nc.State {
		case OK, RenewSoon, SANsStale, UsageStale:
		case Expired, NotYetValid:
			nc.Problem = fmt.Sprintf("the PKI's certificate %s: `swarmboot pki renew %s` renews it", sl.verdict.why, c.File)
		default:
			nc.Problem = fmt.Sprintf("the PKI has no certificate to hand on (%s): `swarmboot render %s` issues it, and the node needs its new user-data", sl.verdict.why, c.File)
		}
		out[i] = nc
	}
	return out, nil
}
