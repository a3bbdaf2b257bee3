package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/internal/testutil"
)

// t0 is today (Client checks against the real clock); tests pass it as
// Settings.Now so every later instant is exact.
var t0 = time.Now().UTC().Truncate(time.Second)

func at(now time.Time) Settings { return Settings{Now: now} }

func ips(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, x := range s {
		out = append(out, netip.MustParseAddr(x))
	}
	return out
}

var seedReqs = []Request{
	{Name: "manager", IPs: ips("10.0.0.5"), DNS: []string{"manager.example.com", "*.swarm.example.com"}},
	{Name: "node-1", IPs: ips("10.0.0.6", "fd00::6")},
}

// newStore runs Init in a fresh directory and opens it.
func newStore(t *testing.T) (string, *Store) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pki")
	paths, err := Init(dir, "seed", at(t0), false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ca-key.pem", "ca.pem", "client/ca.pem", "client/key.pem", "client/cert.pem"}
	for i := range want {
		want[i] = filepath.Join(dir, want[i])
	}
	if !slices.Equal(paths, want) {
		t.Fatalf("Init wrote %q, want %q", paths, want)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, s
}

func mustCert(t *testing.T, b []byte) *x509.Certificate {
	t.Helper()
	c, err := parseCert(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func verify(c *x509.Certificate, ca []byte, now time.Time, u x509.ExtKeyUsage) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	_, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{u}})
	return err
}

// openssl checks with a second, independent X.509 implementation; the
// purposes check the extended key usages as OpenSSL-based peers would.
func openssl(t *testing.T, dir, cert, purpose string) error {
	t.Helper()
	bin := testutil.NeedTool(t, "openssl", "openssl")
	out, err := exec.Command(bin, "verify", "-attime", strconv.FormatInt(t0.Unix(), 10), "-purpose", purpose,
		"-CAfile", filepath.Join(dir, "ca.pem"), cert).CombinedOutput()
	if err != nil {
		return errors.New(strings.TrimSpace(string(out)))
	}
	return nil
}

// The issued certificates are what the design says, and two X.509
// implementations accept them for exactly the intended purposes.
func TestIssueVerify(t *testing.T) {
	dir, s := newStore(t)
	mat, changes, err := s.Ensure(seedReqs, at(t0), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0] != (Change{"manager", Issued, "new node"}) || changes[1].Node != "node-1" {
		t.Fatalf("changes = %v", changes)
	}

	ca := mustCert(t, s.CA())
	if !ca.IsCA || !ca.MaxPathLenZero || ca.MaxPathLen != 0 || ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign ||
		len(ca.SubjectKeyId) == 0 || ca.Subject.CommonName != "seed swarmboot CA" || !ca.NotAfter.Equal(t0.Add(87600*time.Hour)) {
		t.Errorf("CA: IsCA=%v MaxPathLenZero=%v KU=%v SKID=%x CN=%q NotAfter=%v", ca.IsCA, ca.MaxPathLenZero, ca.KeyUsage, ca.SubjectKeyId, ca.Subject.CommonName, ca.NotAfter)
	}
	wantSANs := map[string][]string{
		"manager": {"*.swarm.example.com", "10.0.0.5", "127.0.0.1", "::1", "localhost", "manager", "manager.example.com"},
		"node-1":  {"10.0.0.6", "127.0.0.1", "::1", "fd00::6", "localhost", "node-1"},
	}
	for name, m := range mat {
		c := mustCert(t, m.Cert)
		if got := sans(c); !slices.Equal(got, wantSANs[name]) {
			t.Errorf("%s SANs = %q, want %q", name, got, wantSANs[name])
		}
		if c.Subject.CommonName != name || !slices.Equal(c.Subject.Organization, []string{"swarmboot"}) || c.IsCA ||
			c.KeyUsage != x509.KeyUsageDigitalSignature ||
			!slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) {
			t.Errorf("%s: CN=%q O=%q IsCA=%v KU=%v EKU=%v", name, c.Subject.CommonName, c.Subject.Organization, c.IsCA, c.KeyUsage, c.ExtKeyUsage)
		}
		if !c.NotBefore.Equal(t0.Add(-time.Hour)) || !c.NotAfter.Equal(t0.Add(8760*time.Hour)) {
			t.Errorf("%s valid %v to %v", name, c.NotBefore, c.NotAfter)
		}
		if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 128 || c.SerialNumber.BitLen() < 64 {
			t.Errorf("%s serial %v: want a positive random 128-bit number", name, c.SerialNumber)
		}
		if pub, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
			t.Errorf("%s key is %T, want ECDSA P-256", name, c.PublicKey)
		}
		if b, _ := pem.Decode(m.Key); b == nil || b.Type != "EC PRIVATE KEY" {
			t.Errorf("%s key PEM is not EC PRIVATE KEY", name)
		}
		if !bytes.Equal(m.CA, s.CA()) {
			t.Errorf("%s material carries a different CA", name)
		}
		if bytes.Contains(m.Key, mustRead(t, filepath.Join(dir, "ca-key.pem"))[30:80]) {
			t.Errorf("%s material contains the CA key", name)
		}
		for _, u := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
			if err := verify(c, m.CA, t0, u); err != nil {
				t.Errorf("%s does not verify for %v: %v", name, u, err)
			}
		}
	}

	cl, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	c := mustCert(t, cl.Cert)
	if c.Subject.CommonName != "swarmboot-operator" || len(c.DNSNames)+len(c.IPAddresses) != 0 ||
		!slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("client: CN=%q SANs=%v EKU=%v", c.Subject.CommonName, sans(c), c.ExtKeyUsage)
	}
	if err := verify(c, cl.CA, t0, x509.ExtKeyUsageClientAuth); err != nil {
		t.Errorf("client does not verify for client auth: %v", err)
	}
	if verify(c, cl.CA, t0, x509.ExtKeyUsageServerAuth) == nil {
		t.Error("client certificate verifies for server auth")
	}
	if !bytes.Equal(mustRead(t, filepath.Join(dir, "client", "ca.pem")), s.CA()) {
		t.Error("client/ca.pem differs from ca.pem")
	}
}

// OpenSSL, a second X.509 implementation, accepts node certificates as
// servers and clients, and the operator's only as a client.
func TestOpenSSLVerify(t *testing.T) {
	testutil.NeedTool(t, "openssl", "openssl")
	dir, s := newStore(t)
	if _, _, err := s.Ensure(seedReqs, at(t0), false); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cert, purpose string
		ok            bool
	}{
		{"nodes/manager/cert.pem", "sslserver", true},
		{"nodes/manager/cert.pem", "sslclient", true},
		{"nodes/node-1/cert.pem", "sslserver", true},
		{"nodes/node-1/cert.pem", "sslclient", true},
		{"client/cert.pem", "sslclient", true},
		{"client/cert.pem", "sslserver", false},
	} {
		err := openssl(t, dir, filepath.Join(dir, tc.cert), tc.purpose)
		if tc.ok && err != nil {
			t.Errorf("openssl verify -purpose %s %s: %v", tc.purpose, tc.cert, err)
		}
		if !tc.ok && err == nil {
			t.Errorf("openssl verify -purpose %s %s succeeded", tc.purpose, tc.cert)
		}
	}
	// Without -attime openssl uses the real clock; t0 is now, so this
	// checks the plain command the brief names as well.
	out, err := exec.Command("openssl", "verify", "-CAfile", filepath.Join(dir, "ca.pem"), filepath.Join(dir, "nodes/manager/cert.pem")).CombinedOutput()
	if err != nil {
		t.Errorf("openssl verify -CAfile ca.pem cert.pem: %v\n%s", err, out)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func keyPair(t *testing.T, m Material) tls.Certificate {
	t.Helper()
	kp, err := tls.X509KeyPair(m.Cert, m.Key)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// handshake runs a mutual-TLS server on loopback with the node's material
// (the way dockerd --tlsverify, swarm and etcd are configured) and dials it
// with client; it returns the server's handshake error and whether the
// client got the server's reply.
func handshake(t *testing.T, server Material, client *tls.Certificate) (error, bool) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(server.CA)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{keyPair(t, server)},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		Time:         func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srvErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer c.Close()
		if err = c.(*tls.Conn).Handshake(); err == nil {
			_, err = c.Write([]byte("ok"))
		}
		srvErr <- err
	}()
	cfg := &tls.Config{RootCAs: pool, Time: func() time.Time { return t0 }}
	if client != nil {
		cfg.Certificates = []tls.Certificate{*client}
	}
	conn, err := tls.Dial("tcp", ln.Addr().String(), cfg) // verifies the 127.0.0.1 SAN
	got := false
	if err == nil {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(conn)
		got = string(b) == "ok"
		conn.Close()
	}
	return <-srvErr, got
}

func TestMutualTLS(t *testing.T) {
	_, s := newStore(t)
	mat, _, err := s.Ensure(seedReqs, at(t0), false)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	_, other := newStore(t)
	otherMat, _, err := other.Ensure(seedReqs[:1], at(t0), false)
	if err != nil {
		t.Fatal(err)
	}
	operator, peer, foreign := keyPair(t, cl), keyPair(t, mat["node-1"]), keyPair(t, otherMat["manager"])

	for _, tc := range []struct {
		name   string
		client *tls.Certificate
		ok     bool
	}{
		{"operator client certificate", &operator, true},
		{"another node's certificate (node dials out)", &peer, true},
		{"no client certificate", nil, false},
		{"certificate from another CA", &foreign, false},
	} {
		srvErr, got := handshake(t, mat["manager"], tc.client)
		if tc.ok && (srvErr != nil || !got) {
			t.Errorf("%s: refused: server %v, reply %v", tc.name, srvErr, got)
		}
		if !tc.ok && (srvErr == nil || got) {
			t.Errorf("%s: accepted (server error %v, reply %v)", tc.name, srvErr, got)
		}
	}
}

func TestModes(t *testing.T) {
	dir, s := newStore(t)
	if _, _, err := s.Ensure(seedReqs, at(t0), false); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{
		".": 0o700, "ca-key.pem": 0o600, "ca.pem": 0o644,
		"client": 0o700, "client/key.pem": 0o600, "client/cert.pem": 0o644, "client/ca.pem": 0o644,
		"nodes": 0o700, "nodes/manager": 0o700, "nodes/manager/key.pem": 0o600, "nodes/manager/cert.pem": 0o644,
	}
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		fi, _ := d.Info()
		if m, ok := want[rel]; ok && fi.Mode().Perm() != m {
			t.Errorf("%s mode %04o, want %04o", rel, fi.Mode().Perm(), m)
		}
		if strings.Contains(rel, ".tmp") {
			t.Errorf("temp file left behind: %s", rel)
		}
		n++
		return nil
	})
	if n != 14 {
		t.Errorf("walked %d entries, want 14", n)
	}
	if err := os.Chmod(filepath.Join(dir, "ca-key.pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Open with a 0644 CA key: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	_, other := newStore(t)
	otherDir := other.Dir()
	if _, _, err := other.Ensure(seedReqs[:1], at(t0), false); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		break_ func(dir string)
		want   string
	}{
		{"no CA", func(dir string) { os.Remove(dir + "/ca.pem"); os.Remove(dir + "/ca-key.pem") }, "swarmboot pki init FILE"},
		{"key missing", func(dir string) { os.Remove(dir + "/ca-key.pem") }, "ca-key.pem is missing"},
		{"garbage PEM", func(dir string) { os.WriteFile(dir+"/ca.pem", []byte("hello"), 0o644) }, "ca.pem: no PEM CERTIFICATE"},
		{"garbage key", func(dir string) { os.WriteFile(dir+"/ca-key.pem", []byte("hello"), 0o600) }, "ca-key.pem: no PEM"},
		{"key of another CA", func(dir string) {
			os.WriteFile(dir+"/ca-key.pem", mustRead(t, otherDir+"/ca-key.pem"), 0o600)
		}, "ca-key.pem does not belong to"},
		{"not a CA", func(dir string) {
			os.WriteFile(dir+"/ca.pem", mustRead(t, otherDir+"/nodes/manager/cert.pem"), 0o644)
			os.WriteFile(dir+"/ca-key.pem", mustRead(t, otherDir+"/nodes/manager/key.pem"), 0o600)
		}, "is not a CA certificate"},
	} {
		dir, _ := newStore(t)
		tc.break_(dir)
		_, err := Open(dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Open error %v, want it to mention %q", tc.name, err, tc.want)
		}
		if tc.name == "no CA" && !errors.Is(err, ErrNoCA) {
			t.Errorf("no CA: %v does not wrap ErrNoCA", err)
		}
	}
}

func TestInitTwice(t *testing.T) {
	dir, s := newStore(t)
	if _, _, err := s.Ensure(seedReqs, at(t0), false); err != nil {
		t.Fatal(err)
	}
	ca, key := mustRead(t, dir+"/ca.pem"), mustRead(t, dir+"/ca-key.pem")
	_, err := Init(dir, "seed", at(t0), false)
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "--force replaces it (every node certificate must then be re-issued)") {
		t.Fatalf("second Init: %v", err)
	}
	if !bytes.Equal(ca, mustRead(t, dir+"/ca.pem")) || !bytes.Equal(key, mustRead(t, dir+"/ca-key.pem")) {
		t.Fatal("second Init changed the CA")
	}
	if _, err := os.Stat(dir + "/nodes/manager/cert.pem"); err != nil {
		t.Fatal("second Init touched nodes/:", err)
	}
	if _, err := Init(dir, "seed", at(t0), true); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(ca, mustRead(t, dir+"/ca.pem")) || bytes.Equal(key, mustRead(t, dir+"/ca-key.pem")) {
		t.Error("Init --force kept the old CA")
	}
	if _, err := os.Stat(dir + "/nodes"); !os.IsNotExist(err) {
		t.Errorf("Init --force left nodes/ (signed by the old CA): %v", err)
	}
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Client(); err != nil {
		t.Errorf("client after --force: %v", err)
	}
}

// A failed Init removes what it wrote: here client/ is a file, so Init
// fails after writing the CA.
func TestInitFailureCleansUp(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/client", []byte("in the way"), 0o644)
	if _, err := Init(dir, "seed", at(t0), false); err == nil {
		t.Fatal("Init succeeded with client/ blocked")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "client" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("after failed Init the directory holds %q, want only the pre-existing client", names)
	}
}

func TestEnsureReuse(t *testing.T) {
	dir, s := newStore(t)
	first, _, err := s.Ensure(seedReqs, at(t0), false)
	if err != nil {
		t.Fatal(err)
	}
	// Same requests in another order, SANs shuffled and duplicated, a later
	// clock and a freshly opened store: byte-identical, nothing to report.
	shuffled := []Request{
		{Name: "node-1", IPs: ips("fd00::6", "10.0.0.6", "::ffff:10.0.0.6", "127.0.0.1")},
		{Name: "manager", IPs: ips("10.0.0.5"), DNS: []string{"*.swarm.example.com", "MANAGER.example.com", "localhost"}},
	}
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, changes, err := s2.Ensure(shuffled, at(t0.Add(24*time.Hour)), true)
	if err != nil || len(changes) != 0 {
		t.Fatalf("second Ensure: changes %v, err %v", changes, err)
	}
	for name := range first {
		if !bytes.Equal(first[name].Cert, again[name].Cert) || !bytes.Equal(first[name].Key, again[name].Key) || !bytes.Equal(first[name].CA, again[name].CA) {
			t.Errorf("%s material changed between calls", name)
		}
	}

	// A changed IP re-issues that node only.
	moved := slices.Clone(seedReqs)
	moved[1].IPs = ips("10.0.0.9", "fd00::6")
	if _, _, err := s.Ensure(moved, at(t0), true); !errors.Is(err, ErrWouldIssue) || !strings.Contains(err.Error(), "node-1") {
		t.Errorf("readOnly with a changed SAN: %v", err)
	}
	third, changes, err := s.Ensure(moved, at(t0), false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Change{{"node-1", Reissued, "SANs changed: +10.0.0.9 -10.0.0.6"}}; !slices.Equal(changes, want) {
		t.Errorf("changes = %v, want %v", changes, want)
	}
	if !bytes.Equal(third["manager"].Cert, first["manager"].Cert) || bytes.Equal(third["node-1"].Cert, first["node-1"].Cert) ||
		bytes.Equal(third["node-1"].Key, first["node-1"].Key) {
		t.Error("re-issue touched the wrong node or kept the old key")
	}

	// A certificate from another CA is re-issued.
	_, other := newStore(t)
	om, _, _ := other.Ensure(moved[:1], at(t0), false)
	os.WriteFile(dir+"/nodes/manager/cert.pem", om["manager"].Cert, 0o644)
	os.WriteFile(dir+"/nodes/manager/key.pem", om["manager"].Key, 0o600)
	_, changes, err = s.Ensure(moved, at(t0), false)
	if err != nil || !slices.Equal(changes, []Change{{"manager", Reissued, "signed by another CA"}}) {
		t.Errorf("foreign certificate: changes %v, err %v", changes, err)
	}

	// A key that does not match is re-issued, too (a crash between renames).
	os.WriteFile(dir+"/nodes/manager/key.pem", om["manager"].Key, 0o600)
	if _, changes, _ = s.Ensure(moved, at(t0), false); len(changes) != 1 || changes[0].Why != "key does not match certificate" {
		t.Errorf("mismatched key: %v", changes)
	}

	// readOnly with a missing node names it and writes nothing.
	_, _, err = s.Ensure(append(moved, Request{Name: "node-2"}), at(t0), true)
	if !errors.Is(err, ErrWouldIssue) || !strings.Contains(err.Error(), "node-2 (new node)") {
		t.Errorf("readOnly with a new node: %v", err)
	}
	if _, err := os.Stat(dir + "/nodes/node-2"); !os.IsNotExist(err) {
		t.Error("readOnly Ensure created nodes/node-2")
	}
}

func TestExpiry(t *testing.T) {
	dir, s := newStore(t)
	first, _, err := s.Ensure(seedReqs, at(t0), false)
	if err != nil {
		t.Fatal(err)
	}
	notAfter := mustCert(t, first["manager"].Cert).NotAfter
	soon := notAfter.Add(-12 * 24 * time.Hour)

	// Within RenewBefore: a warning, the same bytes.
	mat, changes, err := s.Ensure(seedReqs, at(soon), true)
	if err != nil {
		t.Fatal(err)
	}
	want := "expires " + notAfter.Format(date) + " (in 12 days)"
	if len(changes) != 2 || changes[0] != (Change{"manager", Expiring, want}) || changes[1].Kind != Expiring {
		t.Errorf("changes = %v, want both Expiring %q", changes, want)
	}
	if !bytes.Equal(mat["manager"].Cert, first["manager"].Cert) {
		t.Error("an expiring certificate was replaced by Ensure")
	}
	// Nothing is due at t0: Renew without force does nothing.
	if ch, err := s.Renew(seedReqs, at(t0), false); err != nil || len(ch) != 0 {
		t.Errorf("Renew of fresh certificates: %v, %v", ch, err)
	}
	// Renew replaces nodes and the client certificate, then all is quiet.
	ch, err := s.Renew(seedReqs, at(soon), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) != 3 || ch[0].Kind != Renewed || ch[2].Node != ClientName || ch[2].Kind != Renewed {
		t.Errorf("Renew: %v", ch)
	}
	mat, changes, err = s.Ensure(seedReqs, at(soon), true)
	if err != nil || len(changes) != 0 {
		t.Errorf("Ensure after Renew: %v, %v", changes, err)
	}
	if c := mustCert(t, mat["manager"].Cert); !c.NotAfter.Equal(soon.Add(8760 * time.Hour)) {
		t.Errorf("renewed NotAfter %v", c.NotAfter)
	}
	if c := mustCert(t, mustRead(t, dir+"/client/cert.pem")); !c.NotAfter.Equal(soon.Add(8760 * time.Hour)) {
		t.Errorf("renewed client NotAfter %v", c.NotAfter)
	}
	// force renews everything.
	if ch, err := s.Renew(seedReqs, at(soon), true); err != nil || len(ch) != 3 || ch[1].Why != "forced" {
		t.Errorf("Renew --force: %v, %v", ch, err)
	}

	// Past NotAfter, Ensure re-issues on its own.
	_, s2 := newStore(t)
	if _, _, err := s2.Ensure(seedReqs, at(t0), false); err != nil {
		t.Fatal(err)
	}
	_, changes, err = s2.Ensure(seedReqs, at(notAfter.Add(time.Hour)), false)
	if err != nil || len(changes) != 2 || changes[0].Kind != Reissued || !strings.HasPrefix(changes[0].Why, "expired") {
		t.Errorf("after expiry: %v, %v", changes, err)
	}
}

func TestValidation(t *testing.T) {
	_, s := newStore(t)
	long := strings.Repeat("a", 64)
	for _, r := range []Request{
		{Name: ""}, {Name: ".hidden"}, {Name: ".."}, {Name: "a/b"}, {Name: "Manager"}, {Name: "a_b"},
		{Name: long}, {Name: "-a"}, {Name: "a..b"}, {Name: "10.0.0.1"},
		{Name: "ok", DNS: []string{"foo..bar"}}, {Name: "ok", DNS: []string{"*"}}, {Name: "ok", DNS: []string{"a.*.com"}},
		{Name: "ok", DNS: []string{"x-.com"}}, {Name: "ok", DNS: []string{"10.0.0.1"}}, {Name: "ok", DNS: []string{"a b"}},
		{Name: "ok", IPs: []netip.Addr{{}}}, {Name: "ok", IPs: ips("fe80::1%eth0")},
	} {
		if _, _, err := s.Ensure([]Request{r}, at(t0), false); err == nil {
			t.Errorf("accepted %+v", r)
		}
	}
	if _, _, err := s.Ensure([]Request{{Name: "a"}, {Name: "a"}}, at(t0), false); err == nil {
		t.Error("accepted a duplicate node")
	}
	if _, _, err := s.Ensure([]Request{{Name: "a.b-1", DNS: []string{"*.Example.com"}}}, at(t0), false); err != nil {
		t.Errorf("rejected a valid request: %v", err)
	}
	if _, _, err := s.Ensure(nil, Settings{Now: t0, Validity: time.Hour}, false); err == nil {
		t.Error("accepted RenewBefore >= Validity")
	}
}

// Node secrets travel in user-data, where providers cap the size.
func TestSize(t *testing.T) {
	_, s := newStore(t)
	mat, _, err := s.Ensure(seedReqs, at(t0), false)
	if err != nil {
		t.Fatal(err)
	}
	m := mat["manager"]
	n := len(m.CA) + len(m.Cert) + len(m.Key)
	t.Logf("manager material: CA %d + cert %d + key %d = %d bytes PEM", len(m.CA), len(m.Cert), len(m.Key), n)
	if n >= 2048 {
		t.Errorf("node material is %d bytes, want < 2 KB", n)
	}
}

// TestCreateWritesOnCommit: a CA made by Create and an Issue from it stay
// in memory until Commit, so a render that fails leaves no PKI behind; the
// committed PKI then serves the same material.
func TestCreateWritesOnCommit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	set := Settings{Now: time.Now()}
	s, err := Create(dir, "c", set)
	if err != nil {
		t.Fatal(err)
	}
	reqs := []Request{{Name: "a", IPs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}}}
	iss, err := s.Pending(reqs, set)
	if err != nil {
		t.Fatal(err)
	}
	if len(iss.Changes) != 1 || iss.Changes[0].Kind != Issued || len(iss.Material["a"].Key) == 0 {
		t.Fatalf("pending issue: %+v", iss.Changes)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("Create and Pending wrote to %s before Commit: %v", dir, err)
	}
	if err := iss.Commit(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, changes, err := s2.Ensure(reqs, set, true)
	if err != nil || len(changes) != 0 || !bytes.Equal(got["a"].Key, iss.Material["a"].Key) || !bytes.Equal(got["a"].CA, iss.Material["a"].CA) {
		t.Fatalf("the committed PKI does not serve what was issued: %v %v", changes, err)
	}
	if _, err := Create(dir, "c", set); !errors.Is(err, ErrExists) {
		t.Errorf("Create over an existing CA: %v", err)
	}
}
