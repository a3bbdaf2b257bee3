package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Request is one node's certificate.
type Request struct {
	Name string       // node name: the subject CN and a DNS SAN
	IPs  []netip.Addr // IP SANs
	DNS  []string     // further DNS SANs
}

// ChangeKind says what happened to one certificate.
type ChangeKind int

const (
	Issued   ChangeKind = iota + 1 // new node
	Reissued                       // SANs, usages, issuer or key changed, or expired
	Expiring                       // warning only: within RenewBefore; run `swarmboot pki renew`
	Renewed                        // by Renew
)

func (k ChangeKind) String() string {
	if k >= Issued && k <= Renewed {
		return [...]string{"issued", "re-issued", "expiring", "renewed"}[k-1]
	}
	return fmt.Sprintf("ChangeKind(%d)", int(k))
}

// Change says what Ensure or Renew did or found for one node.
type Change struct {
	Node string // or ClientName
	Kind ChangeKind
	Why  string // "new node", "SANs changed: +10.0.0.9 -10.0.0.8", "expires 2027-11-30 (in 12 days)"
}

func (c Change) String() string { return c.Node + ": " + c.Kind.String() + " (" + c.Why + ")" }

const date = "2006-01-02"

// plan is the decision for one stored certificate slot.
type plan struct {
	name, dir string
	want      *x509.Certificate
	kind      ChangeKind // 0: reuse silently
	why       string
	cert, key []byte
}

// fresh: the pair must be (re)issued.
func (p plan) fresh() bool { return p.kind != 0 && p.kind != Expiring }

// Ensure returns every request's material. A stored certificate is reused
// byte for byte while it is signed by this CA, matches its key, has exactly
// the requested SANs and usages and has not expired; otherwise a new key and
// certificate are issued and stored. A reused certificate within RenewBefore
// of expiry is reported as Expiring but not replaced, so renders stay
// stable until the operator runs `pki renew`. With readOnly, anything to
// issue is an error wrapping ErrWouldIssue.
func (s *Store) Ensure(reqs []Request, set Settings, readOnly bool) (map[string]Material, []Change, error) {
	p, err := s.Pending(reqs, set)
	if err != nil {
		return nil, nil, err
	}
	if readOnly && len(p.need) > 0 {
		return nil, nil, fmt.Errorf("%w for %s", ErrWouldIssue, strings.Join(p.need, ", "))
	}
	if err := p.Commit(); err != nil {
		return nil, p.Changes, err
	}
	return p.Material, p.Changes, nil
}

// Issue is what Ensure would do, held in memory until Commit: a caller
// that may still fail (a render) writes nothing until it has succeeded.
type Issue struct {
	Material map[string]Material
	Changes  []Change
	need     []string // nodes to (re)issue, with why
	commit   []func() error
}

// Commit writes what the Issue made: a new CA first, then each node's
// pair. It runs once; later calls do nothing.
func (p *Issue) Commit() error {
	for len(p.commit) > 0 {
		f := p.commit[0]
		if err := f(); err != nil {
			return err
		}
		p.commit = p.commit[1:]
	}
	return nil
}

// Pending assesses the requests as Ensure does and issues what is missing
// or stale in memory; Commit stores it.
func (s *Store) Pending(reqs []Request, set Settings) (*Issue, error) {
	set, plans, err := s.assessAll(reqs, set)
	if err != nil {
		return nil, err
	}
	out := &Issue{Material: make(map[string]Material, len(plans)), commit: slices.Clone(s.pendingCA)}
	if len(s.pendingCA) > 0 {
		out.commit = append(out.commit, func() error { s.pendingCA = nil; return nil })
	}
	for i := range plans {
		p := &plans[i]
		if p.fresh() {
			out.need = append(out.need, p.name+" ("+p.why+")")
			if err := s.mint(p, set); err != nil {
				return nil, err
			}
			out.commit = append(out.commit, func() error { return s.save(p) })
		}
		if p.kind != 0 {
			out.Changes = append(out.Changes, Change{p.name, p.kind, p.why})
		}
		out.Material[p.name] = Material{CA: s.caPEM, Cert: p.cert, Key: p.key}
	}
	return out, nil
}

// Renew re-issues the node and client certificates within RenewBefore of
// expiry (all of them with force), and whatever Ensure would re-issue.
func (s *Store) Renew(reqs []Request, set Settings, force bool) ([]Change, error) {
	set, plans, err := s.assessAll(reqs, set)
	if err != nil {
		return nil, err
	}
	cp, err := s.assess(ClientName, filepath.Join(s.dir, "client"), clientTemplate(), set)
	if err != nil {
		return nil, err
	}
	var changes []Change
	for _, p := range append(plans, cp) {
		switch {
		case p.kind == Expiring:
			p.kind = Renewed
		case p.kind == 0 && force:
			p.kind, p.why = Renewed, "forced"
		}
		if !p.fresh() {
			continue
		}
		if err := s.store(&p, set); err != nil {
			return changes, err
		}
		changes = append(changes, Change{p.name, p.kind, p.why})
	}
	return changes, nil
}

// assessAll completes the settings and assesses every request.
func (s *Store) assessAll(reqs []Request, set Settings) (Settings, []plan, error) {
	set, err := set.norm()
	if err != nil {
		return set, nil, err
	}
	plans, err := s.plans(reqs, set)
	return set, plans, err
}

// plans validates the requests and assesses each node's stored pair, in
// name order so changes and errors come out the same on every run.
func (s *Store) plans(reqs []Request, set Settings) ([]plan, error) {
	reqs = slices.Clone(reqs)
	slices.SortFunc(reqs, func(a, b Request) int { return strings.Compare(a.Name, b.Name) })
	var out []plan
	for i, r := range reqs {
		if i > 0 && reqs[i-1].Name == r.Name {
			return nil, fmt.Errorf("pki: node %q requested twice", r.Name)
		}
		want, err := nodeTemplate(r)
		if err != nil {
			return nil, err
		}
		p, err := s.assess(r.Name, filepath.Join(s.dir, "nodes", r.Name), want, set)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (s *Store) assess(name, dir string, want *x509.Certificate, set Settings) (plan, error) {
	p := plan{name: name, dir: dir, want: want}
	cert, key, err := readPair(dir)
	if err != nil {
		return p, err
	}
	if cert == nil && key == nil {
		p.kind, p.why = Issued, "new node"
		if name == ClientName {
			p.why = "missing"
		}
		return p, nil
	}
	if why := s.problem(cert, key, want, set.Now); why != "" {
		p.kind, p.why = Reissued, why
		return p, nil
	}
	p.cert, p.key = cert, key
	c, _ := parseCert(cert) // problem parsed it already
	if left := c.NotAfter.Sub(set.Now); left <= set.RenewBefore {
		p.kind, p.why = Expiring, fmt.Sprintf("expires %s (%s)", c.NotAfter.Format(date), until(left))
		if !c.NotAfter.Before(s.ca.NotAfter) {
			// Renewing cannot help: leaves are capped at the CA's expiry.
			p.why += "; the CA expires then too: run `swarmboot pki init --force FILE`"
		}
	}
	return p, nil
}

// problem says why a stored pair cannot be reused for want, "" if it can.
func (s *Store) problem(certPEM, keyPEM []byte, want *x509.Certificate, now time.Time) string {
	c, err := parseCert(certPEM)
	if err != nil {
		return "unreadable certificate: " + err.Error()
	}
	if !bytes.Equal(c.RawIssuer, s.ca.RawSubject) || c.CheckSignatureFrom(s.ca) != nil {
		return "signed by another CA"
	}
	if keyPEM == nil {
		return "key missing"
	}
	if k, err := parseKey(keyPEM); err != nil {
		return "unreadable key: " + err.Error()
	} else if !keyMatches(k, c) {
		return "key does not match certificate"
	}
	var why []string
	if d := sanDiff(want, c); d != "" {
		why = append(why, "SANs changed: "+d)
	}
	if c.IsCA || c.KeyUsage != want.KeyUsage || len(c.UnknownExtKeyUsage) > 0 ||
		!slices.Equal(sortedEKU(c), sortedEKU(want)) || c.Subject.CommonName != want.Subject.CommonName {
		why = append(why, "subject or usages changed")
	}
	switch {
	case now.After(c.NotAfter):
		why = append(why, "expired "+c.NotAfter.Format(date))
	case now.Before(c.NotBefore):
		why = append(why, "not valid before "+c.NotBefore.Format(time.RFC3339))
	}
	return strings.Join(why, "; ")
}

// mint issues a new pair for p, in memory; save writes it.
func (s *Store) mint(p *plan, set Settings) error {
	cert, key, err := s.issue(p.want, set)
	if err != nil {
		return err
	}
	p.cert, p.key = cert, key
	return nil
}

// save writes p's pair. The key goes first: a crash between the two
// renames leaves a pair that does not match, which the next run detects
// and re-issues.
func (s *Store) save(p *plan) error {
	files := []file{{"key.pem", p.key, 0o600}, {"cert.pem", p.cert, 0o644}}
	if p.name == ClientName { // DOCKER_CERT_PATH wants ca.pem beside the pair
		files = append(files, file{"ca.pem", s.caPEM, 0o644})
	}
	var made []string
	_, err := writeAll(p.dir, &made, files)
	return err
}

// store issues a new pair for p and writes it.
func (s *Store) store(p *plan, set Settings) error {
	if err := s.mint(p, set); err != nil {
		return err
	}
	return s.save(p)
}

// issue makes a new P-256 key and a certificate for tmpl signed by the CA.
func (s *Store) issue(tmpl *x509.Certificate, set Settings) (cert, key []byte, err error) {
	if set.Now.After(s.ca.NotAfter) {
		return nil, nil, fmt.Errorf("the CA in %s expired on %s; run `swarmboot pki init --force FILE`",
			filepath.Join(s.dir, "ca.pem"), s.ca.NotAfter.Format(date))
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	if cert, err = sign(tmpl, s.ca, &k.PublicKey, s.key, set.Now, set.Validity); err != nil {
		return nil, nil, err
	}
	key, err = encodeKey(k)
	return cert, key, err
}

// nodeTemplate validates r and returns the certificate it asks for. Every
// node also dials out (etcd peers, swarm join to etcd, manage to engines),
// hence ClientAuth beside ServerAuth; services also answer on loopback.
func nodeTemplate(r Request) (*x509.Certificate, error) {
	if err := validName(r.Name); err != nil {
		return nil, err
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
		if !slices.Contains(h, x) {
			d = append(d, "+"+x)
		}
	}
	for _, x := range h {
		if !slices.Contains(w, x) {
			d = append(d, "-"+x)
		}
	}
	return strings.Join(d, " ")
}

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

func sortedEKU(c *x509.Certificate) []x509.ExtKeyUsage {
	e := slices.Clone(c.ExtKeyUsage)
	slices.Sort(e)
	return slices.Compact(e)
}

func until(d time.Duration) string {
	switch days := int(d.Hours() / 24); {
	case d <= 0:
		return "now"
	case days >= 2:
		return fmt.Sprintf("in %d days", days)
	default:
		return fmt.Sprintf("in %d hours", int(d.Hours()+0.5))
	}
}
