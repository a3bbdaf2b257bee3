package cli

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/internal/etcdtest"
	"github.com/swarmboot/swarmboot/internal/nettest"
	"github.com/swarmboot/swarmboot/internal/testutil"
	"github.com/swarmboot/swarmboot/internal/verifytest"
)

// TestVerifyUsage: flag mistakes are usage errors (exit 2) before anything
// is dialled; -o is a hidden, deprecated spelling of --json.
func TestVerifyUsage(t *testing.T) {
	desc := mustRead(t, seedPath(t))
	for _, args := range [][]string{
		{"verify", "-", "-o", "yaml"}, {"verify", "-", "--wait", "-1s"}, {"verify", "-", "--timeout", "0s"},
		{"verify"}, {"verify", "a.yaml", "b.yaml"},
	} {
		if code, _, errOut := runCLI(t, desc, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want a usage error\n%s", args, code, errOut)
		}
	}
	code, out, _ := runCLI(t, "", "verify", "--help")
	if code != ExitOK || !strings.Contains(out, "--json") || strings.Contains(out, "--output") || strings.Contains(out, "-o json") {
		t.Errorf("verify --help: exit %d\n%s", code, out)
	}
	// A TLS cluster without its PKI says which directory it looked in.
	if code, _, errOut := runCLI(t, "", "verify", secureDesc(t)); code != ExitInvalid || !strings.Contains(errOut, "swarmboot pki init") {
		t.Errorf("verify without a PKI: exit %d\n%s", code, errOut)
	}
}

// TestNodeCerts: verify compares what nodes serve with what the PKI holds,
// read by the pki package: each node's stored certificate, and for a
// certificate file that is not one, an error naming it, never a hang or
// a huge read.
func TestNodeCerts(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(file, []byte(verifyCluster), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(filepath.Dir(file), "pki")
	if code, _, errOut := runCLI(t, "", "pki", "init", file, "--pki", dir); code != ExitOK {
		t.Fatalf("pki init: %d\n%s", code, errOut)
	}
	c := verifytest.Load(t, verifyCluster)
	certs, err := nodeCerts(dir, c)
	if err != nil || len(certs) != len(c.Nodes) {
		t.Fatalf("%d certificates for %d nodes: %v", len(certs), len(c.Nodes), err)
	}
	for _, n := range c.Nodes {
		b, _ := pem.Decode([]byte(mustRead(t, filepath.Join(dir, "nodes", n.Name, "cert.pem"))))
		if b == nil || !bytes.Equal(certs[n.Name].Raw, b.Bytes) {
			t.Errorf("%s: verify compares with another certificate than the PKI's", n.Name)
		}
	}
	p := filepath.Join(dir, "nodes", c.Nodes[1].Name, "cert.pem")
	for _, bad := range []struct {
		name string
		make func(path string) error
	}{
		{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"symlink", func(p string) error { return os.Symlink("/dev/zero", p) }},
		{"huge", func(p string) error { return os.WriteFile(p, make([]byte, 1<<20), 0o644) }},
		{"not PEM", func(p string) error { return os.WriteFile(p, []byte("hello"), 0o644) }},
	} {
		os.Remove(p)
		if err := bad.make(p); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { _, err := nodeCerts(dir, c); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), p) {
				t.Errorf("%s: %v", bad.name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: nodeCerts hangs", bad.name)
		}
	}
}

// The cluster of TestVerifyCluster: three etcd members, three Docker
// hosts, two of them managers.
const verifyCluster = `version: 1
cluster: vt
profile: debian-12
etcd: {token: vt-etcd}
nodes:
  - {name: etcd-1, ip: 10.77.0.11, roles: [etcd]}
  - {name: etcd-2, ip: 10.77.0.12, roles: [etcd]}
  - {name: etcd-3, ip: 10.77.0.13, roles: [etcd]}
  - {name: docker-1, ip: 10.77.0.21, roles: [docker, manager]}
  - {name: docker-2, ip: 10.77.0.22, roles: [docker, manager]}
  - {name: docker-3, ip: 10.77.0.23, roles: [docker]}
`

// TestVerifyCluster runs `swarmboot verify` as an operator on the
// cluster's segment runs it, in a network namespace the test makes: a
// real etcd (Debian's) for each member, started as its rendered
// cloud-config sets it up (settings, TLS files, credentials), on a
// bridge; the first member down at first; stand-in engines and managers
// on the Docker hosts' addresses, serving the PKI's certificates.
func TestVerifyCluster(t *testing.T) {
	if nettest.Isolate(t) {
		return
	}
	etcdBin := testutil.NeedTool(t, "etcd", "etcd-server")
	file, rendered, pkiDir, c := renderVerifyCluster(t)
	client := operatorClient(t, pkiDir)

	nettest.Bridge(t, "br0", netip.MustParsePrefix("10.77.0.1/24"))
	var hosts []netip.Addr
	for _, n := range c.DockerHosts() {
		hosts = append(hosts, n.IP)
	}
	nettest.Loopback(t, hosts...)
	var forged atomic.Bool // docker-3's engine answers text meant to forge the table
	for _, n := range c.DockerHosts() {
		serveNode(t, pkiDir, n.Name, fmt.Sprintf("%s:%d", n.IP, c.Docker.Port), func(w http.ResponseWriter, r *http.Request) {
			version := "29.1.3"
			if n.Name == "docker-3" && forged.Load() {
				version += "\netcd-1    etcd member    ✓ healthy\nhealthy: 21 of 21 checks pass\x1b[8m"
			}
			json.NewEncoder(w).Encode(map[string]string{"Version": version, "ApiVersion": "1.52", "MinAPIVersion": "1.24"})
		})
	}
	for i, n := range c.Managers() {
		role := map[bool]string{true: "primary", false: "replica"}[i == 0]
		serveNode(t, pkiDir, n.Name, fmt.Sprintf("%s:%d", n.IP, c.Swarm.Manager.Port), func(w http.ResponseWriter, r *http.Request) {
			pairs := [][2]string{{"Role", role}, {"Nodes", "3"}}
			for _, h := range c.DockerHosts() {
				pairs = append(pairs, verifytest.EngineLines(h.Name, fmt.Sprintf("%s:%d", h.IP, c.Docker.Port), "Healthy")...)
			}
			json.NewEncoder(w).Encode(map[string]any{"ServerVersion": "swarm/1.2.9", "SystemStatus": pairs})
		})
	}
	members := c.Members()
	for _, m := range members[1:] {
		startMember(t, etcdBin, rendered, m)
	}
	for _, m := range members[1:] {
		waitHealthy(t, client, fmt.Sprintf("https://%s:2379/health", m.IP))
	}
	for _, h := range c.DockerHosts() {
		register(t, client, fmt.Sprintf("https://%s:2379", members[1].IP), fmt.Sprintf("%s:%d", h.IP, c.Docker.Port))
	}
	const checks = 3*2 + 3*2 + 2*2 + 3 + 2 // members, engines, managers (each with its certificate), registrations, cluster

	// The first member is down: only its rows fail, and the others
	// answer for the registrations.
	code, out, errOut := runCLI(t, "", "verify", file, "--timeout", "2s")
	rows := table(t, out, checks)
	if code != ExitInvalid || !strings.HasSuffix(out, "\nunhealthy: 19 of 21 checks pass\n") {
		t.Errorf("first member down: exit %d\n%s%s", code, out, errOut)
	}
	expires := regexp.MustCompile(`^expires \d{4}-\d\d-\d\d \d\d:\d\d UTC \(36[45] days left\)$`)
	for _, want := range []struct{ node, check, mark, detail string }{
		{"etcd-1", "etcd member", "✗", "^https://10.77.0.11:2379/health: (no answer within 2s|no route to the node)"},
		{"etcd-1", "etcd certificate", "✗", "^not seen"},
		{"etcd-2", "etcd member", "✓", `^healthy, 3 members, peer https://10\.77\.0\.12:2380$`},
		{"etcd-2", "etcd certificate", "✓", expires.String()},
		{"etcd-3", "etcd member", "✓", `^healthy, 3 members, peer https://10\.77\.0\.13:2380$`},
		{"docker-1", "engine", "✓", `^Docker 29\.1\.3, API 1\.52, floor 1\.24$`},
		{"docker-1", "engine certificate", "✓", expires.String()},
		{"docker-1", "manager", "✓", `^primary; 3 of 3 engines Healthy$`},
		{"docker-2", "manager", "✓", `^replica; 3 of 3 engines Healthy$`},
		{"docker-2", "manager certificate", "✓", expires.String()},
		{"docker-3", "registration", "✓", `^10\.77\.0\.23:2376 in /swarm/docker/swarm/nodes$`},
		{"cluster", "registrations", "✓", `^3, no strangers$`},
		{"cluster", "managers", "✓", `^one primary \(docker-1\) of 2$`},
	} {
		got := rows[want.node+" "+want.check]
		if got[0] != want.mark || !regexp.MustCompile(want.detail).MatchString(got[1]) {
			t.Errorf("%s %s: %s %s\nwant %s %s", want.node, want.check, got[0], got[1], want.mark, want.detail)
		}
	}

	// --json says the same to scripts; -o json still does, with a notice.
	for _, args := range [][]string{{"--json"}, {"-o", "json"}} {
		code, out, errOut := runCLI(t, "", append([]string{"verify", file, "--timeout", "2s"}, args...)...)
		var r struct {
			Healthy  bool
			Warnings *int
			Checks   []struct {
				Node, Check, Detail string
				OK                  bool
				Warning             *bool
			}
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil || code != ExitInvalid || r.Healthy || len(r.Checks) != checks || r.Warnings == nil {
			t.Fatalf("verify %v: exit %d, %v\n%s", args, code, err, out)
		}
		for _, ch := range r.Checks {
			if ch.OK == (ch.Node == "etcd-1") || ch.Warning == nil || ch.Detail == "" {
				t.Errorf("verify %v: %+v", args, ch)
			}
		}
		if deprecated := strings.Contains(errOut, "-o json is deprecated"); deprecated != (args[0] == "-o") {
			t.Errorf("verify %v: stderr %q", args, errOut)
		}
	}

	// An answer cannot forge table lines or the summary.
	forged.Store(true)
	_, out, _ = runCLI(t, "", "verify", file, "--timeout", "2s")
	rows = table(t, out, checks)
	if got := rows["docker-3 engine"]; got[0] != "✗" || !strings.Contains(got[1], `Version "29.1.3\netcd-1    etcd member    ✓ healthy\nhealthy: 21 of 21 checks pass\x1b[8m"`) ||
		strings.Contains(out, "\x1b") || !strings.HasSuffix(out, "\nunhealthy: 18 of 21 checks pass\n") {
		t.Errorf("a forging engine:\n%s", out)
	}
	forged.Store(false)

	// The first member comes up: healthy, exit 0.
	startMember(t, etcdBin, rendered, members[0])
	waitHealthy(t, client, fmt.Sprintf("https://%s:2379/health", members[0].IP))
	if code, out, errOut := runCLI(t, "", "verify", file, "--timeout", "2s", "--wait", "30s"); code != ExitOK || !strings.HasSuffix(out, "\nhealthy: 21 of 21 checks pass\n") {
		t.Errorf("every member up: exit %d\n%s%s", code, out, errOut)
	}

	// Certificates renewed in the PKI that no node has picked up: still
	// healthy (exit 0), every certificate row a warning.
	if code, _, errOut := runCLI(t, "", "pki", "renew", file, "--force"); code != ExitOK {
		t.Fatalf("pki renew --force: exit %d\n%s", code, errOut)
	}
	code, out, errOut = runCLI(t, "", "verify", file, "--timeout", "2s")
	rows = table(t, out, checks)
	if code != ExitOK || !strings.HasSuffix(out, "\nhealthy: 21 of 21 checks pass, 8 warnings\n") {
		t.Errorf("renewed in the PKI only: exit %d\n%s%s", code, out, errOut)
	}
	for key, got := range rows {
		if strings.HasSuffix(key, " certificate") && (got[0] != "!" || !strings.Contains(got[1], "renewed in the PKI") && !strings.Contains(got[1], "not the PKI's certificate for "+strings.Fields(key)[0])) {
			t.Errorf("%s after pki renew: %s %s", key, got[0], got[1])
		}
	}
}

// table parses verify's table into "node check" -> {mark, detail},
// checking that it has exactly the header, one line per check and the
// summary.
func table(t *testing.T, out string, checks int) map[string][2]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != checks+2 || !strings.HasPrefix(lines[0], "NODE ") {
		t.Fatalf("want a header, %d checks and a summary:\n%s", checks, out)
	}
	row := regexp.MustCompile(`^(\S+) +(\S+(?: \S+)*?) {2,}(✓|!|✗) (.*)$`)
	rows := map[string][2]string{}
	for _, l := range lines[1 : len(lines)-1] {
		m := row.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("not a row: %q\n%s", l, out)
		}
		rows[m[1]+" "+m[2]] = [2]string{m[3], m[4]}
	}
	return rows
}

// operatorClient speaks to the cluster with the PKI's client certificate.
func operatorClient(t *testing.T, pkiDir string) *http.Client {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(pkiDir, "client", "cert.pem"), filepath.Join(pkiDir, "client", "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: caPool(t, pkiDir)}}}
}

func caPool(t *testing.T, pkiDir string) *x509.CertPool {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(mustRead(t, filepath.Join(pkiDir, "ca.pem")))) {
		t.Fatal("no CA in the PKI")
	}
	return pool
}

// serveNode answers on addr with the node's certificate from the PKI,
// as it is when the server starts, to clients of the cluster's CA.
func serveNode(t *testing.T, pkiDir, node, addr string, h http.HandlerFunc) {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(pkiDir, "nodes", node, "cert.pem"), filepath.Join(pkiDir, "nodes", node, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: caPool(t, pkiDir), ClientAuth: tls.RequireAndVerifyClientCert}}
	go srv.ServeTLS(l, "", "")
	t.Cleanup(func() { srv.Close() })
}

// startMember runs Debian's etcd as the node's rendered user-data sets it
// up (internal/etcdtest), on a machine of its own on the bridge.
func startMember(t *testing.T, etcdBin, rendered string, n *cluster.Node) *etcdtest.Node {
	t.Helper()
	cc := etcdtest.ReadCloudConfig(t, filepath.Join(rendered, n.Name, "user-data"))
	return etcdtest.Start(t, n.Name, cc, netip.PrefixFrom(n.IP, 24), "br0", etcdBin)
}

// waitHealthy waits until an etcd member's /health says true.
func waitHealthy(t *testing.T, client *http.Client, u string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		resp, err := client.Get(u)
		if err != nil {
			last = err.Error()
			continue
		}
		var h struct{ Health string }
		json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if h.Health == "true" {
			return
		}
		last = resp.Status
	}
	t.Fatalf("%s never healthy: %s", u, last)
}

// register puts swarm join's key for addr, as join does.
func register(t *testing.T, client *http.Client, member, addr string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, member+"/v2/keys/swarm/docker/swarm/nodes/"+addr, strings.NewReader(url.Values{"value": {addr}, "ttl": {"600"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("registering %s: %s", addr, resp.Status)
	}
}

// renderVerifyCluster renders verifyCluster with TLS through the CLI into
// a fresh folder: the description, the output, the PKI, and the cluster.
func renderVerifyCluster(t *testing.T) (file, rendered, pkiDir string, c *cluster.Cluster) {
	t.Helper()
	dir := t.TempDir()
	file, rendered, pkiDir = filepath.Join(dir, "cluster.yaml"), filepath.Join(dir, "out"), filepath.Join(dir, "pki")
	if err := os.WriteFile(file, []byte(verifyCluster), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "", "render", file, "-o", rendered, "--pki", pkiDir); code != ExitOK {
		t.Fatalf("render: exit %d\n%s", code, errOut)
	}
	c, rep, err := cluster.LoadFile(file)
	if err != nil || rep.Err(false) != nil {
		t.Fatal(err, rep.Err(false))
	}
	return file, rendered, pkiDir, c
}
