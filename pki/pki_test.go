package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
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
	want := []string{"ca-key.pem", "ca.pem", "client/key.pem", "client/cert.pem", "client/ca.pem"}
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

// ensure plans reqs in dir as a render does (MakeCA) and commits.
func ensure(t *testing.T, dir string, reqs []Request, set Settings) (map[string]Material, []Change, error) {
	t.Helper()
	return run(dir, reqs, set, PlanOptions{CA: MakeCA})
}

// run plans in dir with o and commits, as one transaction.
func run(dir string, reqs []Request, set Settings, o PlanOptions) (map[string]Material, []Change, error) {
	tx, err := Begin(dir, nil)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Close()
	p, err := tx.Plan(reqs, set, o)
	if err != nil {
		return nil, nil, err
	}
	return p.Material, p.Changes, p.Commit()
}

// peek plans in dir and commits nothing: what a render would do.
func peek(t *testing.T, dir string, reqs []Request, set Settings) (*Prepared, error) {
	t.Helper()
	tx, err := Begin(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	return tx.Plan(reqs, set, PlanOptions{CA: MakeCA})
}

func mustCert(t *testing.T, b []byte) *x509.Certificate {
	t.Helper()
	c, err := parseCertFile("test", b)
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
	mat, changes, err := ensure(t, dir, seedReqs, at(t0))
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
	dir, _ := newStore(t)
	if _, _, err := ensure(t, dir, seedReqs, at(t0)); err != nil {
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
	dir, s := newStore(t)
	mat, _, err := ensure(t, dir, seedReqs, at(t0))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	otherDir, _ := newStore(t)
	otherMat, _, err := ensure(t, otherDir, seedReqs[:1], at(t0))
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

// Modes are set, not left to the umask: the same under umask 000 (which
// would make keys world-readable) and 077 (which would hide ca.pem).
func TestModes(t *testing.T) {
	for _, umask := range []int{0, 0o077, 0o022} {
		old := syscall.Umask(umask)
		dir, _ := newStore(t)
		_, _, err := ensure(t, dir, seedReqs, at(t0))
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]os.FileMode{
			".": 0o700, "ca-key.pem": 0o600, "ca.pem": 0o644, ".lock": 0o600,
			"client": 0o700, "client/key.pem": 0o600, "client/cert.pem": 0o644, "client/ca.pem": 0o644,
			"nodes": 0o700, "nodes/manager": 0o700, "nodes/manager/key.pem": 0o600, "nodes/manager/cert.pem": 0o644,
			"nodes/node-1": 0o700, "nodes/node-1/key.pem": 0o600, "nodes/node-1/cert.pem": 0o644,
		}
		var got []string
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			rel, _ := filepath.Rel(dir, p)
			fi, _ := d.Info()
			got = append(got, rel)
			if m, ok := want[rel]; !ok {
				t.Errorf("umask %03o: unexpected %s in the PKI", umask, rel)
			} else if fi.Mode().Perm() != m {
				t.Errorf("umask %03o: %s mode %04o, want %04o", umask, rel, fi.Mode().Perm(), m)
			}
			return nil
		})
		if len(got) != len(want) {
			t.Errorf("umask %03o: the PKI holds %q, want the %d entries of %v", umask, got, len(want), want)
		}
	}
}

// Open refuses what it cannot use, naming the file and what to do, and
// never advises replacing the CA.
func TestOpenErrors(t *testing.T) {
	otherDir, _ := newStore(t)
	if _, _, err := ensure(t, otherDir, seedReqs[:1], at(t0)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		break_ func(dir string)
		want   string
	}{
		{"no CA", func(dir string) { os.Remove(dir + "/ca.pem"); os.Remove(dir + "/ca-key.pem") }, "swarmboot pki init FILE"},
		{"certificate missing", func(dir string) { os.Remove(dir + "/ca.pem") }, "ca.pem is missing but"},
		{"garbage PEM", func(dir string) { os.WriteFile(dir+"/ca.pem", []byte("hello"), 0o644) }, "ca.pem holds no PEM CERTIFICATE block"},
		{"garbage key", func(dir string) { os.WriteFile(dir+"/ca-key.pem", []byte("hello"), 0o600) }, "ca-key.pem holds 0 PEM blocks"},
		{"damaged key", func(dir string) {
			os.WriteFile(dir+"/ca-key.pem", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("junk")}), 0o600)
		}, "the CA key cannot be made again; put back a good copy from a backup"},
		{"key of another CA", func(dir string) {
			os.WriteFile(dir+"/ca-key.pem", mustRead(t, otherDir+"/ca-key.pem"), 0o600)
		}, "ca-key.pem does not belong to"},
		{"not a CA", func(dir string) {
			os.WriteFile(dir+"/ca.pem", mustRead(t, otherDir+"/nodes/manager/cert.pem"), 0o644)
			os.WriteFile(dir+"/ca-key.pem", mustRead(t, otherDir+"/nodes/manager/key.pem"), 0o600)
		}, "is not a CA certificate"},
		{"readable key", func(dir string) { os.Chmod(dir+"/ca-key.pem", 0o640) }, "run `chmod 600 "},
	} {
		dir, _ := newStore(t)
		tc.break_(dir)
		_, err := Open(dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Open error %v, want it to mention %q", tc.name, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "--force") || strings.Contains(err.Error(), "init")) && tc.name != "no CA" {
			t.Errorf("%s: the message steers towards a new CA: %v", tc.name, err)
		}
		if tc.name == "no CA" && !errors.Is(err, ErrNoCA) {
			t.Errorf("no CA: %v does not wrap ErrNoCA", err)
		}
	}
}

// pki init keeps an existing CA; --force sets it aside, with what it
// signed, in a dated backup folder, and makes a new one.
func TestInitTwice(t *testing.T) {
	dir, _ := newStore(t)
	if _, _, err := ensure(t, dir, seedReqs, at(t0)); err != nil {
		t.Fatal(err)
	}
	ca, key, node := mustRead(t, dir+"/ca.pem"), mustRead(t, dir+"/ca-key.pem"), mustRead(t, dir+"/nodes/manager/cert.pem")
	_, err := Init(dir, "seed", at(t0), false)
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("second Init: %v", err)
	}
	if !bytes.Equal(ca, mustRead(t, dir+"/ca.pem")) || !bytes.Equal(key, mustRead(t, dir+"/ca-key.pem")) {
		t.Fatal("second Init changed the CA")
	}
	later := t0.Add(time.Minute)
	if _, err := Init(dir, "seed", at(later), true); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(ca, mustRead(t, dir+"/ca.pem")) || bytes.Equal(key, mustRead(t, dir+"/ca-key.pem")) {
		t.Error("Init --force kept the old CA in place")
	}
	backup := filepath.Join(dir, "backup", later.UTC().Format("20060102T150405Z"))
	if !bytes.Equal(ca, mustRead(t, backup+"/ca.pem")) || !bytes.Equal(key, mustRead(t, backup+"/ca-key.pem")) ||
		!bytes.Equal(node, mustRead(t, backup+"/nodes/manager/cert.pem")) {
		t.Errorf("Init --force did not keep the old CA and its certificates in %s", backup)
	}
	if _, err := os.Stat(dir + "/nodes"); !os.IsNotExist(err) {
		t.Errorf("Init --force left nodes/ (signed by the old CA) in place: %v", err)
	}
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Client(); err != nil {
		t.Errorf("client after --force: %v", err)
	}
	// A second --force in the same second gets a folder of its own.
	if _, err := Init(dir, "seed", at(later), true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(backup + "-2/ca-key.pem"); err != nil {
		t.Errorf("the second backup: %v", err)
	}
}

// A failed Init changes nothing: here client/ is a file, so the new
// client certificate has nowhere to go.
func TestInitFailureCleansUp(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/client", []byte("in the way"), 0o644)
	_, err := Init(dir, "seed", at(t0), false)
	if err == nil || !strings.Contains(err.Error(), "client is a file where swarmboot keeps a folder") {
		t.Fatalf("Init with client/ blocked: %v", err)
	}
	var names []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{".lock", "client"}) {
		t.Errorf("after failed Init the folder holds %q, want only the lock and the pre-existing client", names)
	}
}

func TestReuse(t *testing.T) {
	dir, _ := newStore(t)
	first, _, err := ensure(t, dir, seedReqs, at(t0))
	if err != nil {
		t.Fatal(err)
	}
	// Same requests in another order, SANs shuffled and duplicated, a later
	// clock: byte-identical, nothing to report, nothing to write.
	shuffled := []Request{
		{Name: "node-1", IPs: ips("fd00::6", "10.0.0.6", "::ffff:10.0.0.6", "127.0.0.1")},
		{Name: "manager", IPs: ips("10.0.0.5"), DNS: []string{"*.swarm.example.com", "MANAGER.example.com", "localhost"}},
	}
	p, err := peek(t, dir, shuffled, at(t0.Add(24*time.Hour)))
	if err != nil || len(p.Changes) != 0 || p.Writes() {
		t.Fatalf("second plan: changes %v, writes %v, err %v", p.Changes, p.Writes(), err)
	}
	for name := range first {
		if !bytes.Equal(first[name].Cert, p.Material[name].Cert) || !bytes.Equal(first[name].Key, p.Material[name].Key) || !bytes.Equal(first[name].CA, p.Material[name].CA) {
			t.Errorf("%s material changed between calls", name)
		}
	}

	// A changed IP re-issues that node only.
	moved := slices.Clone(seedReqs)
	moved[1].IPs = ips("10.0.0.9", "fd00::6")
	third, changes, err := ensure(t, dir, moved, at(t0))
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
	otherDir, _ := newStore(t)
	om, _, _ := ensure(t, otherDir, moved[:1], at(t0))
	os.WriteFile(dir+"/nodes/manager/cert.pem", om["manager"].Cert, 0o644)
	os.WriteFile(dir+"/nodes/manager/key.pem", om["manager"].Key, 0o600)
	_, changes, err = ensure(t, dir, moved, at(t0))
	if err != nil || !slices.Equal(changes, []Change{{"manager", Reissued, "signed by another CA"}}) {
		t.Errorf("foreign certificate: changes %v, err %v", changes, err)
	}

	// A key that does not match is re-issued, too.
	os.WriteFile(dir+"/nodes/manager/key.pem", om["manager"].Key, 0o600)
	if _, changes, _ = ensure(t, dir, moved, at(t0)); len(changes) != 1 || changes[0].Why != "key does not match certificate" {
		t.Errorf("mismatched key: %v", changes)
	}

	// Nothing is written before Commit.
	p, err = peek(t, dir, append(moved, Request{Name: "node-2"}), at(t0))
	if err != nil || len(p.Changes) != 1 || p.Changes[0] != (Change{"node-2", Issued, "new node"}) {
		t.Fatalf("a new node: %v, %v", p.Changes, err)
	}
	if _, err := os.Stat(dir + "/nodes/node-2"); !os.IsNotExist(err) {
		t.Error("an uncommitted plan created nodes/node-2")
	}
}

// signedBy issues a certificate for tmpl from the CA in dir, outside
// swarmboot's rules: what another tool, or an older swarmboot, left.
func signedBy(t *testing.T, dir string, tmpl *x509.Certificate, now time.Time) (cert, key []byte) {
	t.Helper()
	s, err := load(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.issue(tmpl, Settings{Now: now, Validity: 8760 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	m, err := p.material(s.caPEM)
	if err != nil {
		t.Fatal(err)
	}
	return m.Cert, m.Key
}

// A stored certificate with other usages is issued again, whichever usage
// differs: nodes dial out, so a server-only certificate would be refused.
func TestUsagesChanged(t *testing.T) {
	dir, _ := newStore(t)
	if _, _, err := ensure(t, dir, seedReqs, at(t0)); err != nil {
		t.Fatal(err)
	}
	want, _ := nodeTemplate(seedReqs[0])
	for name, edit := range map[string]func(*x509.Certificate){
		"server only":      func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} },
		"extra usage":      func(c *x509.Certificate) { c.ExtKeyUsage = append(c.ExtKeyUsage, x509.ExtKeyUsageCodeSigning) },
		"key encipherment": func(c *x509.Certificate) { c.KeyUsage |= x509.KeyUsageKeyEncipherment },
		"other subject":    func(c *x509.Certificate) { c.Subject.CommonName = "intruder" },
	} {
		tmpl := *want
		tmpl.ExtKeyUsage = slices.Clone(want.ExtKeyUsage)
		edit(&tmpl)
		cert, key := signedBy(t, dir, &tmpl, t0)
		os.WriteFile(dir+"/nodes/manager/cert.pem", cert, 0o644)
		os.WriteFile(dir+"/nodes/manager/key.pem", key, 0o600)
		_, changes, err := ensure(t, dir, seedReqs, at(t0))
		if err != nil || !slices.Equal(changes, []Change{{"manager", Reissued, "subject or usages changed"}}) {
			t.Errorf("%s: changes %v, err %v", name, changes, err)
		}
	}
}

func TestExpiry(t *testing.T) {
	dir, _ := newStore(t)
	first, _, err := ensure(t, dir, seedReqs, at(t0))
	if err != nil {
		t.Fatal(err)
	}
	notAfter := mustCert(t, first["manager"].Cert).NotAfter
	soon := notAfter.Add(-12 * 24 * time.Hour)

	// Within RenewBefore: a warning, the same bytes.
	p, err := peek(t, dir, seedReqs, at(soon))
	if err != nil {
		t.Fatal(err)
	}
	want := "expires " + notAfter.Format(date) + " (in 12 days)"
	if len(p.Changes) != 3 || p.Changes[0] != (Change{"manager", Expiring, want}) || p.Changes[1].Kind != Expiring || p.Changes[2].Node != ClientName {
		t.Errorf("changes = %v, want all Expiring %q", p.Changes, want)
	}
	if !bytes.Equal(p.Material["manager"].Cert, first["manager"].Cert) || p.Writes() {
		t.Error("an expiring certificate was replaced by a render")
	}
	renew := func(now time.Time, all bool) []Change {
		t.Helper()
		_, ch, err := run(dir, seedReqs, at(now), PlanOptions{CA: UseCA, Renew: true, RenewAll: all})
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	// Nothing is due at t0: renew without force does nothing.
	if ch := renew(t0, false); len(ch) != 0 {
		t.Errorf("renew of fresh certificates: %v", ch)
	}
	// Renew replaces nodes and the client certificate, then all is quiet.
	if ch := renew(soon, false); len(ch) != 3 || ch[0].Kind != Renewed || ch[2].Node != ClientName || ch[2].Kind != Renewed {
		t.Errorf("renew: %v", ch)
	}
	p, err = peek(t, dir, seedReqs, at(soon))
	if err != nil || len(p.Changes) != 0 {
		t.Errorf("after renew: %v, %v", p.Changes, err)
	}
	if c := mustCert(t, p.Material["manager"].Cert); !c.NotAfter.Equal(soon.Add(8760 * time.Hour)) {
		t.Errorf("renewed NotAfter %v", c.NotAfter)
	}
	if c := mustCert(t, mustRead(t, dir+"/client/cert.pem")); !c.NotAfter.Equal(soon.Add(8760 * time.Hour)) {
		t.Errorf("renewed client NotAfter %v", c.NotAfter)
	}
	// force renews everything.
	if ch := renew(soon, true); len(ch) != 3 || ch[1].Why != "forced" {
		t.Errorf("renew --force: %v", ch)
	}

	// Past NotAfter, a render renews on its own (same key: renew_test.go).
	dir2, _ := newStore(t)
	if _, _, err := ensure(t, dir2, seedReqs, at(t0)); err != nil {
		t.Fatal(err)
	}
	_, changes, err := ensure(t, dir2, seedReqs, at(notAfter.Add(time.Hour)))
	if err != nil || len(changes) != 3 || changes[0].Kind != Renewed || !strings.HasPrefix(changes[0].Why, "expired") {
		t.Errorf("after expiry: %v, %v", changes, err)
	}
}

// A leaf never outlives its CA: issued near the CA's end, it ends with it.
func TestLeafEndsWithCA(t *testing.T) {
	dir, s := newStore(t)
	caEnd := mustCert(t, s.CA()).NotAfter
	late := caEnd.Add(-100 * 24 * time.Hour)
	mat, _, err := ensure(t, dir, seedReqs, at(late))
	if err != nil {
		t.Fatal(err)
	}
	if c := mustCert(t, mat["manager"].Cert); !c.NotAfter.Equal(caEnd) {
		t.Errorf("a certificate issued 100 days before the CA's end runs to %v, past the CA's %v", c.NotAfter, caEnd)
	}
}

// Nothing is issued from a CA that has expired or is not valid yet; the
// message says what it means for the nodes, and writes nothing.
func TestCANotValid(t *testing.T) {
	dir, s := newStore(t)
	ca := mustCert(t, s.CA())
	for _, now := range []time.Time{ca.NotAfter.Add(time.Hour), ca.NotBefore.Add(-time.Hour)} {
		_, _, err := ensure(t, dir, seedReqs, at(now))
		if !errors.Is(err, ErrCAValidity) || !strings.Contains(err.Error(), "nodes") || strings.Contains(err.Error(), "init") {
			t.Errorf("at %v: %v", now, err)
		}
		if _, err := os.Stat(dir + "/nodes"); !os.IsNotExist(err) {
			t.Errorf("at %v: issued from a CA that is not valid", now)
		}
	}
}

func TestValidation(t *testing.T) {
	dir, _ := newStore(t)
	long := strings.Repeat("a", 64)
	many := make([]string, 102)
	for i := range many {
		many[i] = fmt.Sprintf("n%d.example.com", i)
	}
	for _, r := range []Request{
		{Name: ""}, {Name: ".hidden"}, {Name: ".."}, {Name: "a/b"}, {Name: "Manager"}, {Name: "a_b"},
		{Name: long}, {Name: "-a"}, {Name: "a..b"}, {Name: "10.0.0.1"},
		{Name: "ok", DNS: []string{"foo..bar"}}, {Name: "ok", DNS: []string{"*"}}, {Name: "ok", DNS: []string{"a.*.com"}},
		{Name: "ok", DNS: []string{"x-.com"}}, {Name: "ok", DNS: []string{"10.0.0.1"}}, {Name: "ok", DNS: []string{"a b"}},
		{Name: "ok", IPs: []netip.Addr{{}}}, {Name: "ok", IPs: ips("fe80::1%eth0")},
		{Name: "ok", DNS: many},
	} {
		if _, _, err := ensure(t, dir, []Request{r}, at(t0)); err == nil {
			t.Errorf("accepted %+v", r)
		}
	}
	if _, _, err := ensure(t, dir, []Request{{Name: "a"}, {Name: "a"}}, at(t0)); err == nil {
		t.Error("accepted a duplicate node")
	}
	if _, _, err := ensure(t, dir, []Request{{Name: "a.b-1", DNS: []string{"*.Example.com"}}}, at(t0)); err != nil {
		t.Errorf("rejected a valid request: %v", err)
	}
	for _, set := range []Settings{{Now: t0, Validity: time.Hour}, {Now: t0, Validity: 2 * time.Second, RenewBefore: time.Second}, {Now: t0, Validity: 100000 * time.Hour}} {
		if _, _, err := ensure(t, dir, nil, set); err == nil {
			t.Errorf("accepted %+v", set)
		}
	}
	if _, _, err := ensure(t, dir, nil, Settings{Now: t0, Validity: 5 * time.Minute, RenewBefore: time.Minute}); err != nil {
		t.Errorf("refused a validity of 5 minutes: %v", err)
	}
}

// The most names a description may give stays far under TLS limits.
func TestSize(t *testing.T) {
	dir, _ := newStore(t)
	r := Request{Name: "big", IPs: ips("10.0.0.1")}
	for i := range 100 {
		r.DNS = append(r.DNS, fmt.Sprintf("%s-%d.%s", strings.Repeat("x", 60), i, strings.Repeat("y.", 90)+"example"))
	}
	mat, _, err := ensure(t, dir, []Request{r}, at(t0))
	if err != nil {
		t.Fatal(err)
	}
	if c := mustCert(t, mat["big"].Cert); len(c.Raw) > MaxCertSize {
		t.Errorf("a certificate of %d bytes passed the %d limit", len(c.Raw), MaxCertSize)
	}
	mat, _, err = ensure(t, dir, seedReqs, at(t0))
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

// A plan writes nothing, not even the folder, until Commit; the
// committed PKI then serves the same material.
func TestNothingBeforeCommit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	reqs := []Request{{Name: "a", IPs: ips("10.0.0.1")}}
	tx, err := Begin(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tx.Plan(reqs, at(t0), PlanOptions{CA: MakeCA, Name: "c"})
	if err != nil || !p.Created || len(p.Changes) != 1 || p.Changes[0].Why != "new CA" {
		t.Fatalf("plan: %+v, %v", p, err)
	}
	tx.Close() // no Commit: a render that failed
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("an uncommitted plan left %s: %v", dir, err)
	}
	tx, err = Begin(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err = tx.Plan(reqs, at(t0), PlanOptions{CA: MakeCA, Name: "c"})
	if err == nil {
		err = p.Commit()
	}
	tx.Close()
	if err != nil {
		t.Fatal(err)
	}
	again, err := peek(t, dir, reqs, at(t0))
	if err != nil || len(again.Changes) != 0 || !bytes.Equal(again.Material["a"].Key, p.Material["a"].Key) || !bytes.Equal(again.Material["a"].CA, p.Material["a"].CA) {
		t.Fatalf("the committed PKI does not serve what was issued: %v %v", again.Changes, err)
	}
}
