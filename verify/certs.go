package verify

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/pki"
)

// withCertificate follows a service's check with the check of the
// certificate the node served on it, when the service speaks TLS.
func (v *verifier) withCertificate(ch Check, secure bool, n *cluster.Node, what string, leaf *x509.Certificate) []Check {
	if !secure || v.o.TLS == nil {
		return []Check{ch}
	}
	return []Check{ch, v.certificate(n, what, leaf)}
}

// certificate judges the certificate node n served in a handshake: it
// fails when it is not from the cluster's CA, not valid now or not for
// the node's address; it warns inside tls.renew_before and when it is not
// the one the PKI holds for the node; it says when it expires.
func (v *verifier) certificate(n *cluster.Node, what string, leaf *x509.Certificate) Check {
	ch := Check{Node: n.Name, What: what}
	if leaf == nil {
		ch.Detail = "not seen: no TLS handshake got that far (the row above says why)"
		return ch
	}
	ch.NotAfter, ch.Fingerprint = leaf.NotAfter.UTC().Format(time.RFC3339), pki.Fingerprint(leaf)
	now := v.now()
	if p := v.o.TLS.problem(leaf, n.IP.String(), now); p != "" {
		ch.Detail = p
		return ch
	}
	left := leaf.NotAfter.Sub(now)
	ch.OK, ch.Detail = true, fmt.Sprintf("expires %s (%s left)", date(leaf.NotAfter), span(left))
	var notes []string
	if left < v.renewBefore {
		notes = append(notes, fmt.Sprintf("inside tls.renew_before (%s): renew it (swarmboot pki renew) and publish it to the node", strings.TrimSuffix(v.renewBefore.String(), "0m0s")))
	}
	if want := v.o.Certs[n.Name]; want != nil && !bytes.Equal(want.Raw, leaf.Raw) {
		notes = append(notes, stale(n.Name, leaf, want))
	}
	if len(notes) > 0 {
		ch.Warning = true
		ch.Detail += "; " + strings.Join(notes, "; ")
	}
	return ch
}

// stale says how the certificate a node serves (from the cluster's CA)
// differs from the one the PKI holds for it.
func stale(node string, served, want *x509.Certificate) string {
	sameKey := pki.SameKey(want, served)
	switch {
	case sameKey && pki.IssuedAfter(want, served):
		return fmt.Sprintf("renewed in the PKI (until %s), not yet picked up by the node", date(want.NotAfter))
	case sameKey:
		return fmt.Sprintf("not the PKI's certificate for %s: the node's was issued after the PKI's (until %s); was the PKI restored from an old copy?", node, date(want.NotAfter))
	}
	return fmt.Sprintf("not the PKI's certificate for %s, nor for its key: the PKI re-keyed it, or the node runs user-data from another render; no renewal reaches the node until it is re-provisioned with the PKI's", node)
}
