package swarmmodel

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA issues ECDSA P-256 certificates for 127.0.0.1.
type testCA struct {
	t    *testing.T
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	file string
}

func newTestCA(t *testing.T) *testCA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "swarmmodel test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{t: t, dir: t.TempDir(), cert: cert, key: key, pool: x509.NewCertPool()}
	ca.pool.AddCert(cert)
	ca.file = ca.write("ca.pem", "CERTIFICATE", der)
	return ca
}

func (ca *testCA) write(name, typ string, der []byte) string {
	p := filepath.Join(ca.dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		ca.t.Fatal(err)
	}
	return p
}

// issue returns the files and the tls.Certificate of a new certificate
// valid for 127.0.0.1, as server and as client.
func (ca *testCA) issue(name string) (certFile, keyFile string, cert tls.Certificate) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		ca.t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		ca.t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		ca.t.Fatal(err)
	}
	certFile = ca.write(name+".pem", "CERTIFICATE", der)
	keyFile = ca.write(name+"-key.pem", "EC PRIVATE KEY", kder)
	cert, err = tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		ca.t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// TestTLS: with --tlsverify the manager serves HTTPS and refuses clients
// without a certificate from the CA; it calls the engines over TLS with its
// own certificate; --discovery-opt kv.* make join and manage talk HTTPS with
// a client certificate to an etcd that requires one.
func TestTLS(t *testing.T) {
	ca := newTestCA(t)
	etcdCert, etcdKey, _ := ca.issue("etcd")
	mgrCert, mgrKey, _ := ca.issue("manager")
	_, _, engCert := ca.issue("engine")
	_, _, clientCert := ca.issue("client")
	_, _, strangerCert := newTestCA(t).issue("stranger")

	etcd := startEtcdTLS(t, 1, &etcdTLS{caFile: ca.file, certFile: etcdCert, keyFile: etcdKey,
		client: &tls.Config{RootCAs: ca.pool, Certificates: []tls.Certificate{clientCert}}})
	eng := newFakeEngineTLS(t, "node-tls", &tls.Config{Certificates: []tls.Certificate{engCert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool})
	kvOpts := []string{"--discovery-opt=kv.cacertfile=" + ca.file, "--discovery-opt=kv.certfile=" + mgrCert, "--discovery-opt=kv.keyfile=" + mgrKey}

	join := startProc(t, nil, append(append([]string{"join", "--addr=" + eng.addr, "--heartbeat=1s", "--ttl=3s"}, kvOpts...), etcd.url("tls"))...)
	mgr, addr := startManager(t, etcd.url("tls"), append([]string{"--tlsverify", "--tlscacert=" + ca.file,
		"--tlscert=" + mgrCert, "--tlskey=" + mgrKey}, kvOpts...)...)

	client := func(certs ...tls.Certificate) *http.Client {
		return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: ca.pool, Certificates: certs}}}
	}
	get := func(c *http.Client, url string) (string, error) {
		res, err := c.Get(url)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		var b strings.Builder
		buf := make([]byte, 64<<10)
		n, _ := res.Body.Read(buf)
		b.Write(buf[:n])
		return res.Status + " " + b.String(), nil
	}

	if out, err := get(client(), "https://"+addr+"/_ping"); err == nil {
		t.Errorf("client without certificate was served: %s", out)
	}
	if out, err := get(client(strangerCert), "https://"+addr+"/_ping"); err == nil {
		t.Errorf("client with a certificate of another CA was served: %s", out)
	}
	if out, err := get(&http.Client{Timeout: 5 * time.Second}, "http://"+addr+"/_ping"); err == nil && strings.HasPrefix(out, "200") {
		t.Errorf("plain HTTP was served: %s", out)
	}
	if out, err := get(client(clientCert), "https://"+addr+"/_ping"); err != nil || out != "200 OK OK" {
		t.Errorf("client with certificate: %q %v", out, err)
	}

	var infoBody string
	eventually(t, 8*time.Second, "the TLS engine Healthy", func() (bool, string) {
		out, err := get(client(clientCert), "https://"+addr+"/info")
		infoBody = out
		return err == nil && strings.Contains(out, `["  └ Status","Healthy"]`), out + "\n" + mgr.out.String()
	})
	if !strings.Contains(join.out.String(), `level=info msg="Initializing discovery with TLS"`) ||
		!strings.Contains(mgr.out.String(), `level=info msg="Initializing discovery with TLS"`) {
		t.Errorf("no TLS discovery log line:\njoin:\n%s\nmanage:\n%s", join.out.String(), mgr.out.String())
	}
	if !strings.Contains(infoBody, `[" node-tls","`+eng.addr+`"]`) {
		t.Errorf("info lacks the engine: %s", infoBody)
	}
}
