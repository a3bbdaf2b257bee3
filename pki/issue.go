package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
)

// Settings are the explicit validity and rotation rules.
type Settings struct {
	Validity    time.Duration // node and client certificates; 0 -> the description's default (tls.validity)
	CAValidity  time.Duration // 0 -> the longest a certificate may live (10 years)
	RenewBefore time.Duration // window before expiry; 0 -> the description's default (tls.renew_before)
	Now         time.Time     // zero -> time.Now(); tests pin it
}

// skew backdates NotBefore: machines booting with a slightly wrong clock
// must still accept a certificate issued a moment ago.
const skew = time.Hour

// MaxCertSize bounds an issued certificate (DER). TLS stacks refuse large
// certificate messages (Go at 256 KiB, OpenSSL by default at 100 KiB for
// the whole chain); user-data limits are smaller still.
const MaxCertSize = 32 << 10

// ClientName is the Change.Node of the operator client certificate; the
// space keeps it apart from every valid node name.
const ClientName = "operator client"

func (s Settings) norm() (Settings, error) {
	if s.Validity == 0 {
		s.Validity = cluster.DefaultCertValidity
	}
	if s.CAValidity == 0 {
		s.CAValidity = cluster.MaxCertValidity
	}
	if s.RenewBefore == 0 {
		s.RenewBefore = cluster.DefaultRenewBefore
	}
	if s.Now.IsZero() {
		s.Now = time.Now()
	}
	switch {
	case s.Validity < cluster.MinCertValidity || s.Validity > cluster.MaxCertValidity:
		return s, fmt.Errorf("pki: validity %s is out of bounds: give %s to %s", s.Validity, cluster.MinCertValidity, cluster.MaxCertValidity)
	case s.CAValidity < s.Validity:
		return s, fmt.Errorf("pki: the CA's validity (%s) is shorter than its certificates' (%s)", s.CAValidity, s.Validity)
	case s.RenewBefore < 0 || s.RenewBefore >= s.Validity:
		// Otherwise every fresh certificate would already be due for renewal.
		return s, fmt.Errorf("pki: renew-before (%s) must be shorter than validity (%s)", s.RenewBefore, s.Validity)
	}
	return s, nil
}

// Request is one node's certificate.
type Request struct {
	Name string       // node name: the subject CN and a DNS SAN
	IPs  []netip.Addr // IP SANs
	DNS  []string     // further DNS SANs
}

// newCA makes a CA in memory: its store (with the key) and its files.
func newCA(dir, name string, set Settings) (*Store, []file, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	skid := sha256.Sum256(pub) // RFC 7093 method 1: truncated SHA-256
	cn := "swarmboot CA"
	if name != "" {
		cn = name + " " + cn
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"swarmboot"}},
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true, // signs leaves only
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SubjectKeyId:          skid[:20],
	}
	ca, err := sign(tmpl, nil, &key.PublicKey, key, set.Now, set.CAValidity)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	s := &Store{dir: dir, cas: []*x509.Certificate{ca}, caPEM: encodeCerts(ca), issuer: ca, key: key}
	return s, []file{{"ca-key.pem", keyPEM, 0o600}, {"ca.pem", s.caPEM, 0o644}}, nil
}

// sign creates a certificate valid from now-skew to now+validity, within
// the issuer's own validity (a leaf cannot outlive its CA); parent nil
// makes it self-signed.
func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer, now time.Time, validity time.Duration) (*x509.Certificate, error) {
	t := *tmpl
	var err error
	if t.SerialNumber, err = serial(); err != nil {
		return nil, err
	}
	t.NotBefore = now.Add(-skew).UTC().Truncate(time.Second)
	t.NotAfter = now.Add(validity).UTC().Truncate(time.Second)
	if parent == nil {
		parent = &t
	} else {
		t.NotBefore = latest(t.NotBefore, parent.NotBefore)
		if t.NotAfter.After(parent.NotAfter) {
			t.NotAfter = parent.NotAfter
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, &t, parent, pub, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// serial is a positive random 128-bit serial number.
func serial() (*big.Int, error) {
	for {
		n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
		if err != nil || n.Sign() > 0 {
			return n, err
		}
	}
}

// issue makes a new P-256 key and a certificate for tmpl signed by the
// CA's key. Callers checked that the CA is valid now.
func (s *Store) issue(tmpl *x509.Certificate, set Settings) (pair, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return pair{}, err
	}
	return s.certifyKey(tmpl, k, set)
}

// nodeTemplate validates r and returns the certificate it asks for. Every
// node also dials out (etcd peers, swarm join to etcd, manage to engines),
// hence ClientAuth beside ServerAuth; services also answer on loopback.
func nodeTemplate(r Request) (*x509.Certificate, error) {
	if err := validName(r.Name); err != nil {
		return nil, err
	}
	if n := len(r.DNS) + len(r.IPs); n > cluster.MaxSANs+1 { // +1: the node's own IP
		return nil, fmt.Errorf("pki: node %s asks for %d names; a certificate holds at most %d besides the node's own (tls.sans and nodes[].sans together)", r.Name, n-1, cluster.MaxSANs)
	}
	dns := []string{r.Name, "localhost"}
	for _, d := range r.DNS {
		d = strings.ToLower(d) // DNS is case-insensitive; one spelling keeps reuse stable
		if err := validHost(d); err != nil {
			return nil, fmt.Errorf("pki: node %s: DNS name %q %v", r.Name, d, err)
		}
		dns = append(dns, d)
	}
	ips := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	for _, a := range r.IPs {
		if !a.IsValid() || a.Zone() != "" {
			return nil, fmt.Errorf("pki: node %s: IP %q is not a plain IP address", r.Name, a)
		}
		ips = append(ips, a.Unmap()) // x509 stores mapped v4 as v4 anyway
	}
	slices.Sort(dns)
	slices.SortFunc(ips, netip.Addr.Compare)
	t := leaf(r.Name, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	t.DNSNames = slices.Compact(dns)
	for _, a := range slices.Compact(ips) {
		t.IPAddresses = append(t.IPAddresses, net.IP(a.AsSlice()))
	}
	return t, nil
}

// clientTemplate is the operator's certificate: it only ever dials in.
func clientTemplate() *x509.Certificate {
	return leaf("swarmboot-operator", x509.ExtKeyUsageClientAuth)
}

func leaf(cn string, eku ...x509.ExtKeyUsage) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"swarmboot"}},
		KeyUsage:              x509.KeyUsageDigitalSignature, // ECDHE+ECDSA needs nothing else
		ExtKeyUsage:           eku,
		BasicConstraintsValid: true, // explicit CA:FALSE
	}
}

// validName: a node name becomes a path component and a DNS SAN.
func validName(n string) error {
	err := validHost(n)
	if err == nil && (len(n) > 63 || n[0] == '*') {
		err = errors.New("is longer than 63 characters or a wildcard")
	}
	if err != nil {
		return fmt.Errorf("pki: node name %q %v (lower-case letters, digits, '-' and '.')", n, err)
	}
	return nil
}

// validHost checks an RFC 1123 host name, allowing a leading "*." label.
func validHost(h string) error {
	if _, err := netip.ParseAddr(h); err == nil {
		return errors.New("is an IP address; list it as an IP")
	}
	if len(h) > 253 {
		return errors.New("is longer than 253 characters")
	}
	for _, l := range strings.Split(strings.TrimPrefix(h, "*."), ".") {
		switch {
		case l == "" || len(l) > 63:
			return errors.New("has an empty label or one longer than 63 characters")
		case l[0] == '-' || l[len(l)-1] == '-':
			return errors.New("has a label that starts or ends with '-'")
		case strings.Contains(l, "*"):
			return errors.New("may use '*' only as the whole first label")
		case strings.IndexFunc(l, func(c rune) bool {
			return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-')
		}) >= 0:
			return errors.New("is not a host name (letters, digits and '-' only)")
		}
	}
	return nil
}

// sanDiff lists the SANs want adds and have drops: "+10.0.0.9 -10.0.0.8".
func sanDiff(want, have *x509.Certificate) string {
	w, h := sans(want), sans(have)
	var d []string
	for _, x := range w {
		if _, found := slices.BinarySearch(h, x); !found {
			d = append(d, "+"+x)
		}
	}
	for _, x := range h {
		if _, found := slices.BinarySearch(w, x); !found {
			d = append(d, "-"+x)
		}
	}
	return strings.Join(d, " ")
}

// sans lists a certificate's DNS and IP names, sorted, once each.
func sans(c *x509.Certificate) []string {
	out := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		if a, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, a.Unmap().String())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
