package verify

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/swarmboot/swarmboot/pki"
)

// Client is the operator's side of the cluster's PKI: the certificate
// verify presents, the CA it trusts, and the files they came from, which
// messages name.
type Client struct {
	Config     *tls.Config
	CA         []*x509.Certificate // ca.pem's certificates: the cluster's CA
	CAFile     string
	ClientFile string
}

// ClientTLS is the operator's TLS client from the cluster's PKI in dir
// (ca.pem and client/).
func ClientTLS(dir string) (*Client, error) {
	s, err := pki.Open(dir)
	if err != nil {
		return nil, err
	}
	m, err := s.Client()
	if err != nil {
		return nil, err
	}
	return NewClient(m.CA, m.Cert, m.Key, filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client", "cert.pem"))
}

// NewClient makes a Client from PEM material; caFile and clientFile are
// where it came from, for messages.
func NewClient(caPEM, certPEM, keyPEM []byte, caFile, clientFile string) (*Client, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", clientFile, err)
	}
	c := &Client{CAFile: caFile, ClientFile: clientFile}
	roots := x509.NewCertPool()
	for rest := caPEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		ca, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", caFile, err)
		}
		c.CA = append(c.CA, ca)
		roots.AddCert(ca)
	}
	if len(c.CA) == 0 {
		return nil, fmt.Errorf("%s: no certificate in it", caFile)
	}
	c.Config = &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	return c, nil
}

// problem says why a certificate a node serves on host is not one verify
// accepts at now, as a sentence about the node ("" when it is fine). Its
// origin comes first: a certificate from no cluster CA is that, whatever
// its dates.
func (c *Client) problem(leaf *x509.Certificate, host string, now time.Time) string {
	signed := false
	for _, ca := range c.CA {
		signed = signed || leaf.CheckSignatureFrom(ca) == nil
	}
	if !signed {
		return fmt.Sprintf("serves a certificate not from the cluster's CA (%s), issued by %s for %s: the node runs another cluster's user-data, or --pki names the wrong PKI",
			c.CAFile, quote(leaf.Issuer.String()), quote(leaf.Subject.String()))
	}
	switch {
	case now.Before(leaf.NotBefore):
		return fmt.Sprintf("serves a certificate not valid until %s: is this machine's clock or the node's wrong?", date(leaf.NotBefore))
	case now.After(leaf.NotAfter):
		return fmt.Sprintf("serves a certificate that expired on %s (%s ago): the node cannot authenticate until it gets a renewed one",
			date(leaf.NotAfter), span(now.Sub(leaf.NotAfter)))
	}
	if err := leaf.VerifyHostname(host); err != nil {
		return fmt.Sprintf("serves a certificate that does not name %s (it names %s): re-render (the certificate is re-issued for the description's address) and re-provision the node",
			host, quote(strings.Join(names(leaf), ", ")))
	}
	roots := x509.NewCertPool()
	for _, ca := range c.CA {
		roots.AddCert(ca)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return fmt.Sprintf("serves a certificate that does not verify against %s: %v", c.CAFile, err)
	}
	return ""
}

// explain turns an error the TLS exchange ended with into what to fix;
// "" when it knows nothing better.
func (c *Client) explain(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "certificate required"), strings.Contains(msg, "bad certificate"), strings.Contains(msg, "unknown certificate authority"):
		return "the node refused " + c.ClientFile + ": the node trusts another CA (its user-data came from another PKI), so this PKI is not the one its running nodes were rendered with: verify with that PKI (--pki)"
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return "the node speaks plain HTTP: it runs user-data rendered with tls: false"
	}
	return ""
}

// names are the DNS names and addresses a certificate is for.
func names(c *x509.Certificate) []string {
	out := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		if a, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, a.Unmap().String())
		}
	}
	return out
}

// date is a certificate's time as reports show it.
func date(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// span is a duration in days, or hours under two days.
func span(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return "under an hour"
}
