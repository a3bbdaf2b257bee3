package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// caWith writes a CA made with key into a fresh PKI folder, ca-key.pem in
// the given PEM form, as another tool (openssl, cfssl) would leave it.
func caWith(t *testing.T, key crypto.Signer, keyPEM *pem.Block) string {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject: pkix.Name{CommonName: "imported CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	}
	ca, err := sign(tmpl, nil, key.Public(), key, t0, 87600*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "pki")
	os.Mkdir(dir, 0o700)
	os.WriteFile(dir+"/ca.pem", encodeCerts(ca), 0o644)
	os.WriteFile(dir+"/ca-key.pem", pem.EncodeToMemory(keyPEM), 0o600)
	return dir
}

// CA keys in SEC1, PKCS#1 and PKCS#8, ECDSA, RSA and Ed25519, all sign.
func TestKeyFormats(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	pk8 := func(k any) []byte { b, _ := x509.MarshalPKCS8PrivateKey(k); return b }
	for name, tc := range map[string]struct {
		key crypto.Signer
		blk *pem.Block
	}{
		"ECDSA SEC1":     {ec, &pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}},
		"ECDSA PKCS#8":   {ec, &pem.Block{Type: "PRIVATE KEY", Bytes: pk8(ec)}},
		"RSA PKCS#1":     {rk, &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}},
		"RSA PKCS#8":     {rk, &pem.Block{Type: "PRIVATE KEY", Bytes: pk8(rk)}},
		"Ed25519 PKCS#8": {ed, &pem.Block{Type: "PRIVATE KEY", Bytes: pk8(ed)}},
	} {
		dir := caWith(t, tc.key, tc.blk)
		mat, _, err := ensure(t, dir, seedReqs, at(t0))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := verify(mustCert(t, mat["manager"].Cert), mat["manager"].CA, t0, x509.ExtKeyUsageServerAuth); err != nil {
			t.Errorf("%s: the issued certificate does not verify: %v", name, err)
		}
	}
}

// ca.pem may hold several CA certificates (a rotation) and text around
// them; nodes get exactly the certificates, re-encoded. A private key in
// it, or anything but a certificate, is refused before anything reaches
// a node.
func TestCABundle(t *testing.T) {
	dir, s := newStore(t)
	otherDir, other := newStore(t)
	bundle := "subject=seed swarmboot CA\n" + string(s.CA()) + "# the next CA\n" + string(other.CA()) + "trailing words\n"
	os.WriteFile(dir+"/ca.pem", []byte(bundle), 0o644)
	mat, _, err := ensure(t, dir, seedReqs, at(t0))
	if err != nil {
		t.Fatal(err)
	}
	if want := append(append([]byte{}, s.CA()...), other.CA()...); !bytes.Equal(mat["manager"].CA, want) {
		t.Errorf("nodes get\n%s\nwant the two certificates alone\n%s", mat["manager"].CA, want)
	}
	if !bytes.Equal(mustRead(t, dir+"/client/ca.pem"), mat["manager"].CA) {
		t.Error("client/ca.pem is not the bundle")
	}
	caKey := mustRead(t, dir+"/ca-key.pem")
	for name, text := range map[string]string{
		"CA key appended":  string(s.CA()) + string(caKey),
		"PKCS#8 key first": strings.Replace(string(mustRead(t, otherDir+"/ca-key.pem")), "EC PRIVATE KEY", "PRIVATE KEY", 2) + string(s.CA()),
		"a CRL":            string(s.CA()) + string(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte{1}})),
		"a torn block":     string(s.CA()) + "-----BEGIN CERTIFICATE-----\nMIIB\n",
	} {
		os.WriteFile(dir+"/ca.pem", []byte(text), 0o644)
		_, _, err := ensure(t, dir, seedReqs, at(t0))
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), dir+"/ca.pem") {
			t.Errorf("%s: %v", name, err)
		}
		if name == "CA key appended" && !strings.Contains(err.Error(), "holds a private key") {
			t.Errorf("%s: the message does not say what is wrong: %v", name, err)
		}
	}
}

// A node's cert.pem and key.pem hold one block each; an extra block (the
// CA key appended, say) is refused, not carried to the node.
func TestNodeFilesOneBlock(t *testing.T) {
	dir, _ := newStore(t)
	if _, _, err := ensure(t, dir, seedReqs, at(t0)); err != nil {
		t.Fatal(err)
	}
	caKey := mustRead(t, dir+"/ca-key.pem")
	for _, f := range []string{"cert.pem", "key.pem"} {
		p := dir + "/nodes/manager/" + f
		good := mustRead(t, p)
		os.WriteFile(p, append(good, caKey...), 0o600)
		_, _, err := ensure(t, dir, seedReqs, at(t0))
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), p+" holds 2 PEM blocks") {
			t.Errorf("%s with the CA key appended: %v", f, err)
		}
		os.WriteFile(p, good, 0o600)
	}
	// Text around the block stays out of the material.
	p := dir + "/nodes/manager/cert.pem"
	os.WriteFile(p, append([]byte("Certificate:\n    Data: ...\n"), mustRead(t, p)...), 0o644)
	mat, changes, err := ensure(t, dir, seedReqs, at(t0))
	if err != nil || len(changes) != 0 || bytes.Contains(mat["manager"].Cert, []byte("Data")) {
		t.Errorf("text before the certificate: %v %v\n%s", changes, err, mat["manager"].Cert)
	}
}

// The CA key may be kept offline: reading and renders that issue nothing
// work with ca.pem alone; a render that must issue names what and asks
// for the key by its path.
func TestKeyOffline(t *testing.T) {
	dir, _ := newStore(t)
	first, _, err := ensure(t, dir, seedReqs, at(t0))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir+"/ca-key.pem", filepath.Join(t.TempDir(), "ca-key.pem")); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil || !s.Offline() {
		t.Fatalf("Open without ca-key.pem: %v", err)
	}
	if _, err := s.Client(); err != nil {
		t.Errorf("Client without ca-key.pem: %v", err)
	}
	mat, changes, err := ensure(t, dir, seedReqs, at(t0))
	if err != nil || len(changes) != 0 || !bytes.Equal(mat["manager"].Key, first["manager"].Key) {
		t.Errorf("a render that issues nothing: %v, %v", changes, err)
	}
	_, _, err = ensure(t, dir, append(seedReqs, Request{Name: "node-2"}), at(t0))
	if !errors.Is(err, ErrKeyOffline) || !strings.Contains(err.Error(), "node-2 (new node)") || !strings.Contains(err.Error(), dir+"/ca-key.pem") {
		t.Errorf("a render that must issue: %v", err)
	}
}

// Only regular files of bounded size are read; FIFOs, devices, folders
// and keys readable by others are refused with a sentence naming them.
func TestStrictFiles(t *testing.T) {
	for name, tc := range map[string]struct {
		do   func(dir string)
		want string
	}{
		"FIFO ca.pem":      {func(dir string) { os.Remove(dir + "/ca.pem"); syscall.Mkfifo(dir+"/ca.pem", 0o644) }, "/ca.pem is not a regular file (a FIFO)"},
		"key is /dev/zero": {func(dir string) { os.Remove(dir + "/ca-key.pem"); os.Symlink("/dev/zero", dir+"/ca-key.pem") }, "/ca-key.pem is not a regular file (a device)"},
		"ca.pem a folder":  {func(dir string) { os.Remove(dir + "/ca.pem"); os.Mkdir(dir+"/ca.pem", 0o700) }, "/ca.pem is a folder"},
		"huge ca.pem":      {func(dir string) { os.WriteFile(dir+"/ca.pem", make([]byte, 2<<20), 0o644) }, "more than the 1 MiB"},
		"node key 0644":    {func(dir string) { os.Chmod(dir+"/nodes/manager/key.pem", 0o644) }, "run `chmod 600 "},
		"client key 0604":  {func(dir string) { os.Chmod(dir+"/client/key.pem", 0o604) }, "client/key.pem holds a private key but is readable"},
		"cert a FIFO": {func(dir string) {
			os.Remove(dir + "/nodes/node-1/cert.pem")
			syscall.Mkfifo(dir+"/nodes/node-1/cert.pem", 0o644)
		}, "cert.pem is not a regular file"},
		"pki a file": {func(dir string) {
			os.RemoveAll(dir)
			os.WriteFile(dir, []byte("x"), 0o644)
		}, "is a file: tls.dir (or --pki) names the folder"},
	} {
		t.Run(name, func(t *testing.T) {
			dir, _ := newStore(t)
			if _, _, err := ensure(t, dir, seedReqs, at(t0)); err != nil {
				t.Fatal(err)
			}
			tc.do(dir)
			done := make(chan error, 1)
			go func() { _, _, err := ensure(t, dir, seedReqs, at(t0)); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("got %v, want it to say %q", err, tc.want)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("hangs")
			}
		})
	}
}

// What stopped runs left is removed under the lock: staging folders, a
// manifest's temporary, and an older swarmboot's key temporaries.
func TestLeftoversRemoved(t *testing.T) {
	dir, _ := newStore(t)
	if _, _, err := ensure(t, dir, seedReqs, at(t0)); err != nil {
		t.Fatal(err)
	}
	stale := []string{"nodes/manager/.key.pem.tmp123", "client/.env.tmp9", ".ca-key.pem.tmp42", ".commit.tmp", "nodes/.x.tmp1"}
	for _, p := range stale {
		os.WriteFile(filepath.Join(dir, p), []byte("-----BEGIN EC PRIVATE KEY-----\n"), 0o600)
	}
	os.MkdirAll(dir+"/.staging-77/nodes/manager", 0o700)
	tx, err := Begin(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx.Close()
	for _, p := range append(stale, ".staging-77") {
		if _, err := os.Lstat(filepath.Join(dir, p)); !os.IsNotExist(err) {
			t.Errorf("%s is still there", p)
		}
	}
}

// A CA pair restored from a backup without client/ works: the next render
// issues the client certificate again.
func TestMissingClient(t *testing.T) {
	dir, _ := newStore(t)
	os.RemoveAll(dir + "/client")
	_, changes, err := ensure(t, dir, seedReqs, at(t0))
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 3 || changes[2] != (Change{ClientName, Issued, "missing"}) {
		t.Errorf("changes %v", changes)
	}
	s, _ := Open(dir)
	if _, err := s.Client(); err != nil {
		t.Error(err)
	}
}

// A user who cannot write the PKI gets a sentence that names the folder
// and what to do; a run that stores nothing still works.
func TestReadOnlyPKI(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anywhere; TestReadOnlyPKIAsUser in internal/cli runs it as another user")
	}
	dir, _ := newStore(t)
	if _, _, err := ensure(t, dir, seedReqs, at(t0)); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	if _, _, err := ensure(t, dir, seedReqs, at(t0)); err != nil {
		t.Errorf("a render that stores nothing: %v", err)
	}
	_, _, err := ensure(t, dir, append(seedReqs, Request{Name: "node-2"}), at(t0))
	if err == nil || !strings.Contains(err.Error(), "cannot store") || !strings.Contains(err.Error(), "run swarmboot as the PKI's owner") {
		t.Errorf("a render that must store: %v", err)
	}
}
