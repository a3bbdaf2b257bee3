package verify_test

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/internal/verifytest"
	"github.com/swarmboot/swarmboot/verify"
)

// at is o judging certificates at t.
func at(o verify.Options, t time.Time) verify.Options {
	o.Now = func() time.Time { return t }
	return o
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// TestCertificateLifetime: the not-after every endpoint served, a warning
// inside tls.renew_before, a failure once expired or before it is valid,
// in the certificate's row and in the service's.
func TestCertificateLifetime(t *testing.T) {
	f, o := fixture(t, true)
	d1 := f.PKI["d1"].Cert

	r := run(f, at(o, d1.NotAfter.Add(-10*24*time.Hour-time.Minute)))
	want(t, r, "d1", "engine certificate", "!", "expires "+day(d1.NotAfter)+" (10 days left); inside tls.renew_before (720h): renew it")
	want(t, r, "d1", "manager certificate", "!", "(10 days left)")
	want(t, r, "e1", "etcd certificate", "!", "inside tls.renew_before")
	want(t, r, "d1", "engine", "✓", "Docker 29.1.3")
	if !r.Healthy || r.Warnings != 8 {
		t.Errorf("certificates due for renewal: healthy %v with %d warnings, want healthy with 8", r.Healthy, r.Warnings)
	}
	// The window is the description's (or the caller's).
	o2 := o
	o2.RenewBefore = 24 * time.Hour
	if r := run(f, at(o2, d1.NotAfter.Add(-10*24*time.Hour))); r.Warnings != 0 {
		t.Errorf("renew_before 24h, 10 days left: %d warnings", r.Warnings)
	}

	r = run(f, at(o, d1.NotAfter.Add(3*24*time.Hour+time.Minute)))
	want(t, r, "d1", "engine certificate", "✗", "serves a certificate that expired on "+day(d1.NotAfter)+" (3 days ago): the node cannot authenticate")
	want(t, r, "d1", "engine", "✗", "https://10.200.0.11:2376/version: serves a certificate that expired on "+day(d1.NotAfter))
	want(t, r, "e2", "etcd member", "✗", "https://10.200.0.2:2379/health: serves a certificate that expired on")
	want(t, r, "d2", "registration", "✗", "serves a certificate that expired on")

	r = run(f, at(o, d1.NotBefore.Add(-2*time.Hour)))
	want(t, r, "d1", "engine certificate", "✗", "serves a certificate not valid until "+day(d1.NotBefore))
}

// TestCertificateNotThePKIs: a node serving another certificate than the
// one its PKI entry holds is named, and how it differs.
func TestCertificateNotThePKIs(t *testing.T) {
	f, o := fixture(t, true)
	now := time.Now()
	ip := []netip.Addr{netip.MustParseAddr("10.200.0.11")}
	// Renewed in the PKI (same key, later not-after); etcd re-reads its
	// certificate on each connection, dockerd only when restarted: the
	// manager picked it up, the engine not yet.
	renewed := f.CA.Issue("d1", ip, now.Add(-time.Hour), now.Add(2*365*24*time.Hour), f.PKI["d1"].Key, false)
	o.Certs["d1"] = renewed.Cert
	f.Serve("d1", verifytest.Manager, renewed.TLS)
	r := run(f, o)
	want(t, r, "d1", "engine certificate", "!", "renewed in the PKI (until "+day(renewed.Cert.NotAfter)+"), not yet picked up by the node")
	want(t, r, "d1", "manager certificate", "✓", "expires "+day(renewed.Cert.NotAfter))
	// --json names each served certificate, so a script can tell which.
	for what, served := range map[string]*x509.Certificate{"engine certificate": f.PKI["d1"].Cert, "manager certificate": renewed.Cert} {
		sum := sha256.Sum256(served.Raw)
		if ch := find(r, "d1", what); ch.Fingerprint != "sha256:"+hex.EncodeToString(sum[:]) || ch.NotAfter != served.NotAfter.UTC().Format(time.RFC3339) {
			t.Errorf("d1 %s: fingerprint %q, not_after %q; served %x until %s", what, ch.Fingerprint, ch.NotAfter, sum, served.NotAfter)
		}
	}
	if !r.Healthy || r.Warnings != 1 {
		t.Errorf("one endpoint not renewed yet: healthy %v, %d warnings", r.Healthy, r.Warnings)
	}
	// Issued later for a shorter time (tls.validity shortened): still the
	// renewal, as the node's agent sees it.
	shorter := f.CA.Issue("d1", ip, now.Add(-30*time.Minute), now.Add(30*24*time.Hour), f.PKI["d1"].Key, false)
	o.Certs["d1"] = shorter.Cert
	r = run(f, o)
	want(t, r, "d1", "engine certificate", "!", "renewed in the PKI (until "+day(shorter.Cert.NotAfter)+"), not yet picked up by the node")
	// The PKI's was issued before what the node serves, though it ends
	// later: an old copy of the PKI, whose certificate the agent refuses.
	older := f.CA.Issue("d1", ip, now.Add(-3*time.Hour), now.Add(5*365*24*time.Hour), f.PKI["d1"].Key, false)
	o.Certs["d1"] = older.Cert
	r = run(f, o)
	want(t, r, "d1", "engine certificate", "!", "not the PKI's certificate for d1: the node's was issued after the PKI's")
	// Another key: a renewal cannot reach that node.
	rekeyed := f.CA.Issue("d1", ip, now.Add(-time.Hour), now.Add(2*365*24*time.Hour), nil, false)
	o.Certs["d1"] = rekeyed.Cert
	r = run(f, o)
	want(t, r, "d1", "engine certificate", "!", "not the PKI's certificate for d1, nor for its key")
	want(t, r, "d1", "manager certificate", "!", "not the PKI's certificate for d1, nor for its key")
}

// TestCertificateFromAnotherCA: a certificate from no cluster CA is said
// to be that, whatever else is wrong with it; never a stale certificate.
func TestCertificateFromAnotherCA(t *testing.T) {
	f, o := fixture(t, true)
	now := time.Now()
	other := verifytest.NewCA("another cluster's CA", now)
	ip := []netip.Addr{netip.MustParseAddr("10.200.0.12")}
	f.Serve("d2", verifytest.Engine, other.Issue("d2", ip, now.Add(-time.Hour), now.Add(time.Hour), f.PKI["d2"].Key, false).TLS)
	f.Serve("d2", verifytest.Manager, other.Issue("d2", ip, now.Add(-48*time.Hour), now.Add(-24*time.Hour), nil, false).TLS) // expired too
	r := run(f, o)
	for _, what := range []string{"engine certificate", "manager certificate"} {
		want(t, r, "d2", what, "✗", `serves a certificate not from the cluster's CA (pki/ca.pem), issued by "CN=another cluster's CA" for "CN=d2"`)
		if ch := find(r, "d2", what); strings.Contains(ch.Detail, "PKI's") || strings.Contains(ch.Detail, "renewed") || strings.Contains(ch.Detail, "expired") {
			t.Errorf("d2 %s: %s", what, ch.Detail)
		}
	}
	want(t, r, "d2", "engine", "✗", "https://10.200.0.12:2376/version: serves a certificate not from the cluster's CA (pki/ca.pem)")
}

// TestCertificateForAnotherAddress: a node serving another node's
// certificate.
func TestCertificateForAnotherAddress(t *testing.T) {
	f, o := fixture(t, true)
	f.Serve("d3", verifytest.Engine, f.PKI["d1"].TLS)
	r := run(f, o)
	want(t, r, "d3", "engine certificate", "✗", `serves a certificate that does not name 10.200.0.13 (it names "10.200.0.11")`)
	want(t, r, "d3", "engine", "✗", "https://10.200.0.13:2376/version: serves a certificate that does not name 10.200.0.13")
}
