package verify_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/internal/testutil"
	"github.com/swarmboot/swarmboot/pki"
	"github.com/swarmboot/swarmboot/verify"
)

// fixture is a small cluster whose nodes, 10.200.0.1-3 in the
// description, listen on 127.0.0.1-3 (verify dials through the mapping):
// a real etcd (Debian's etcd-server) for e1, and stand-in engines
// answering /version for d1 and d2; d1 also runs a stand-in manager
// answering /info in classic swarm's shape.
type fixture struct {
	c        *cluster.Cluster
	etcd     *exec.Cmd
	minAPI   map[string]string // engine address -> its MinAPIVersion
	status   map[string]string // engine address -> the manager's └ Status
	material map[string]pki.Material
}

// loopback maps a node's address 10.200.0.N onto 127.0.0.N.
func loopback(addr string) string { return strings.Replace(addr, "10.200.0.", "127.0.0.", 1) }

func dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return (&net.Dialer{}).DialContext(ctx, network, loopback(addr))
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newFixture(t *testing.T, secure bool) *fixture {
	t.Helper()
	etcdBin := testutil.NeedTool(t, "etcd", "etcd-server")
	cp, pp, dp, mp := freePort(t), freePort(t), freePort(t), freePort(t)
	tlsLine := "docker: {port: %d, tls: false}\netcd: {client_port: %d, peer_port: %d, tls: false}\n"
	if secure {
		tlsLine = "docker: {port: %d}\netcd: {client_port: %d, peer_port: %d}\n"
	}
	desc := fmt.Sprintf("version: 1\ncluster: v\nprofile: debian-12\ninstall_packages: false\n"+tlsLine+
		"swarm: {manager: {port: %d}}\nnodes:\n"+
		"  - {name: e1, ip: 10.200.0.1, roles: [etcd]}\n"+
		"  - {name: d1, ip: 10.200.0.2, roles: [docker, manager]}\n"+
		"  - {name: d2, ip: 10.200.0.3, roles: [docker]}\n", dp, cp, pp, mp)
	dir := t.TempDir()
	file := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(file, []byte(desc), 0o644); err != nil {
		t.Fatal(err)
	}
	c, rep, err := cluster.LoadFile(file)
	if err != nil || rep.Err(false) != nil {
		t.Fatalf("%v %v", err, rep.Err(false))
	}
	f := &fixture{c: c, minAPI: map[string]string{}, status: map[string]string{}}
	scheme, etcdArgs := "http", []string{}
	if secure {
		p, err := pki.Prepare(c, pki.Dir(c, ""), time.Now(), false)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Commit(); err != nil {
			t.Fatal(err)
		}
		f.material = p.Material
		nodeDir := filepath.Join(pki.Dir(c, ""), "nodes", "e1")
		ca := filepath.Join(pki.Dir(c, ""), "ca.pem")
		scheme = "https"
		etcdArgs = []string{"--cert-file", nodeDir + "/cert.pem", "--key-file", nodeDir + "/key.pem", "--trusted-ca-file", ca, "--client-cert-auth",
			"--peer-cert-file", nodeDir + "/cert.pem", "--peer-key-file", nodeDir + "/key.pem", "--peer-trusted-ca-file", ca, "--peer-client-cert-auth"}
	}
	// etcd listens on loopback and advertises the description's address.
	peer := fmt.Sprintf("%s://10.200.0.1:%d", scheme, pp)
	client := fmt.Sprintf("%s://10.200.0.1:%d", scheme, cp)
	f.etcd = exec.Command(etcdBin, append([]string{"--name", "e1", "--data-dir", filepath.Join(dir, "etcd"), "--enable-v2",
		"--listen-peer-urls", loopback(peer), "--initial-advertise-peer-urls", peer,
		"--listen-client-urls", loopback(client), "--advertise-client-urls", client,
		"--initial-cluster", "e1=" + peer}, etcdArgs...)...)
	f.etcd.Stdout, f.etcd.Stderr = nil, nil
	if err := f.etcd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.stopEtcd() })
	for _, n := range c.DockerHosts() {
		addr := fmt.Sprintf("%s:%d", n.IP, dp)
		f.minAPI[addr], f.status[addr] = "1.24", "Healthy"
		f.serve(t, n.Name, addr, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"Version":"29.1.3","ApiVersion":"1.52","MinAPIVersion":%q}`, f.minAPI[addr])
		})
	}
	f.serve(t, "d1", fmt.Sprintf("10.200.0.2:%d", mp), func(w http.ResponseWriter, r *http.Request) {
		pairs := [][2]string{{"Role", "primary"}, {"Nodes", "2"}}
		for _, n := range c.DockerHosts() {
			addr := fmt.Sprintf("%s:%d", n.IP, dp)
			pairs = append(pairs, [2]string{" " + n.Name, addr}, [2]string{"  └ Status", f.status[addr]})
		}
		json.NewEncoder(w).Encode(map[string]any{"ServerVersion": "swarm/1.2.9", "SystemStatus": pairs})
	})
	return f
}

func serverTLS(t *testing.T, m pki.Material) *tls.Config {
	t.Helper()
	cert, err := tls.X509KeyPair(m.Cert, m.Key)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(m.CA)
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
}

// serve answers on a node's address (on loopback), with its certificate
// when the cluster uses TLS.
func (f *fixture) serve(t *testing.T, node, addr string, h http.HandlerFunc) {
	t.Helper()
	l, err := net.Listen("tcp", loopback(addr))
	if err != nil {
		t.Fatal(err)
	}
	if f.material != nil {
		l = tls.NewListener(l, serverTLS(t, f.material[node]))
	}
	srv := &http.Server{Handler: h, ErrorLog: nil}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

func (f *fixture) stopEtcd() {
	if f.etcd.Process != nil {
		f.etcd.Process.Kill()
		f.etcd.Wait()
	}
}

// register puts swarm join's key for addr through etcd's v2 API.
func (f *fixture) register(t *testing.T, o verify.Options, addr string) {
	t.Helper()
	scheme := "http"
	if f.c.Etcd.TLS {
		scheme = "https"
	}
	u := fmt.Sprintf("%s://10.200.0.1:%d/v2/keys/swarm/docker/swarm/nodes/%s", scheme, f.c.Etcd.ClientPort, addr)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: o.TLS, DialContext: dial}, Timeout: 5 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodPut, u, strings.NewReader(url.Values{"value": {addr}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err == nil && resp.StatusCode/100 == 2 {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("registering %s: %v", addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func find(r *verify.Report, node, what string) verify.Check {
	for _, ch := range r.Checks {
		if ch.Node == node && ch.What == what {
			return ch
		}
	}
	return verify.Check{Node: node, What: what, Detail: "(no such check)"}
}

func testVerify(t *testing.T, secure bool) {
	f := newFixture(t, secure)
	o := verify.Options{Timeout: 3 * time.Second, Dial: dial}
	if secure {
		var err error
		if o.TLS, o.Explain, err = verify.ClientTLS(pki.Dir(f.c, "")); err != nil {
			t.Fatal(err)
		}
	}
	for addr := range f.minAPI {
		f.register(t, o, addr)
	}
	ctx := context.Background()
	r := verify.Run(ctx, f.c, o)
	if !r.Healthy {
		t.Fatalf("a healthy cluster is reported unhealthy: %+v", r.Checks)
	}
	for _, want := range [][3]string{
		{"e1", "etcd member", "healthy, 1 members, peer "},
		{"d1", "engine", "Docker 29.1.3, API 1.52, floor 1.24"},
		{"d2", "registration", "10.200.0.3:"},
		{"d1", "manager", "primary; 2 of 2 engines Healthy"},
		{"cluster", "managers", "one primary (d1) of 1"},
		{"cluster", "registrations", "2, no strangers"},
	} {
		if ch := find(r, want[0], want[1]); !ch.OK || !strings.Contains(ch.Detail, want[2]) {
			t.Errorf("%s %s: %+v, want ✓ %q", want[0], want[1], ch, want[2])
		}
	}

	// Each class of problem is found, at the node it is on.
	d2 := fmt.Sprintf("10.200.0.3:%d", f.c.Docker.Port)
	f.minAPI[d2] = "1.44"
	f.status[d2] = "Pending"
	f.register(t, o, "10.9.9.9:2376")
	r = verify.Run(ctx, f.c, o)
	for _, want := range [][3]string{
		{"d2", "engine", "refuses classic swarm's API 1.31"},
		{"d1", "manager", "d2 Pending"},
		{"cluster", "registrations", "registered but not in the description: 10.9.9.9:2376"},
	} {
		if ch := find(r, want[0], want[1]); ch.OK || !strings.Contains(ch.Detail, want[2]) {
			t.Errorf("%s %s: %+v, want ✗ %q", want[0], want[1], ch, want[2])
		}
	}
	if r.Healthy {
		t.Error("a broken cluster is reported healthy")
	}
	f.stopEtcd()
	r = verify.Run(ctx, f.c, o)
	if ch := find(r, "e1", "etcd member"); ch.OK || !strings.Contains(ch.Detail, "connection refused") {
		t.Errorf("etcd down: %+v", ch)
	}
	if ch := find(r, "d1", "registration"); ch.OK || !strings.Contains(ch.Detail, "no etcd member answers") {
		t.Errorf("etcd down: %+v", ch)
	}
}

func TestVerifyPlain(t *testing.T) { testVerify(t, false) }
func TestVerifyTLS(t *testing.T)   { testVerify(t, true) }

// TestVerifyTLSErrorsNameTheFile: a PKI that is not the cluster's is
// named in the error, with what to do.
func TestVerifyTLSErrorsNameTheFile(t *testing.T) {
	f := newFixture(t, true)
	other := t.TempDir()
	p, err := pki.Prepare(f.c, other, time.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	o := verify.Options{Timeout: 3 * time.Second, Dial: dial}
	if o.TLS, o.Explain, err = verify.ClientTLS(other); err != nil {
		t.Fatal(err)
	}
	ch := find(verify.Run(context.Background(), f.c, o), "d1", "engine")
	if ch.OK || !strings.Contains(ch.Detail, "is not signed by "+filepath.Join(other, "ca.pem")) {
		t.Errorf("another CA's PKI: %+v", ch)
	}
}
