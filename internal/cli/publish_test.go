package cli

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/internal/etcdtest"
	"github.com/swarmboot/swarmboot/internal/nettest"
	"github.com/swarmboot/swarmboot/internal/testutil"
	"github.com/swarmboot/swarmboot/render"
)

// TestPublishReachesNodes: renewal end to end without a VM, in a network
// namespace the test makes. Real etcd members (Debian's) run as their
// rendered user-data sets them up, the first one down; the operator runs
// `pki publish` and `pki renew --force --publish` (cli.Main); then each
// node's certificate agent (its rendered script, run by the shell its unit
// names, with its unit's environment, on the node's own files) fetches its
// certificate over mutual TLS, installs it and restarts what it must; and
// an etcd member whose certificate the agent renewed serves the renewed
// one on the next connection, without a restart.
func TestPublishReachesNodes(t *testing.T) {
	if nettest.Isolate(t) {
		return
	}
	etcdBin := testutil.NeedTool(t, "etcd", "etcd-server")
	for _, tool := range []string{"curl", "openssl"} {
		testutil.NeedTool(t, tool, tool)
	}
	file, rendered, pkiDir, c := renderVerifyCluster(t)
	nettest.Bridge(t, "br0", netip.MustParsePrefix("10.77.0.1/24"))

	// No member up: every node fails, each error naming the URLs asked.
	code, out, errOut := runCLI(t, "", "pki", "publish", file, "--timeout", "1s")
	rows := publishTable(t, out)
	if code != ExitInvalid || len(rows) != 6 || !strings.Contains(errOut, "0 published, 0 unchanged, 6 not published") {
		t.Fatalf("no member: exit %d\n%s%s", code, out, errOut)
	}
	for _, r := range rows {
		if r[1] != "failed" || !strings.Contains(r[3], "https://10.77.0.11:2379/v2/keys/swarmboot/vt/certs/"+r[0]+": ") || !strings.Contains(r[3], "https://10.77.0.13:2379/") {
			t.Errorf("no member: %v", r)
		}
	}

	nodes := map[string]*etcdtest.Node{}
	members := c.Members()
	for _, m := range members[1:] { // the first member stays down
		nodes[m.Name] = startMember(t, etcdBin, rendered, m)
	}
	client := operatorClient(t, pkiDir)
	for _, m := range members[1:] {
		waitHealthy(t, client, fmt.Sprintf("https://%s:2379/health", m.IP))
	}

	// Published through the members that answer, each what the PKI holds.
	code, out, errOut = runCLI(t, "", "pki", "publish", file)
	rows = publishTable(t, out)
	if code != ExitOK || len(rows) != 6 || !strings.Contains(errOut, "6 published, 0 unchanged, 0 not published") ||
		!strings.Contains(errOut, "within 2h0m0s (a look every 1h0m0s") {
		t.Fatalf("publish: exit %d\n%s%s", code, out, errOut)
	}
	for _, r := range rows {
		if r[1] != "published" || !regexp.MustCompile(`^https://10\.77\.0\.1[23]:2379/v2/keys/swarmboot/vt/certs/`+r[0]+`$`).MatchString(r[3]) {
			t.Errorf("publish: %v", r)
		}
		if got := published(t, client, "https://10.77.0.12:2379", r[0]); got != mustRead(t, filepath.Join(pkiDir, "nodes", r[0], "cert.pem")) {
			t.Errorf("etcd holds for %s:\n%s", r[0], got)
		}
	}
	if code, out, errOut = runCLI(t, "", "pki", "publish", file, "--nodes", "role=etcd"); code != ExitOK || !strings.Contains(errOut, "0 published, 3 unchanged, 0 not published") {
		t.Errorf("publish again: exit %d\n%s%s", code, out, errOut)
	}
	for _, r := range publishTable(t, out) {
		if r[1] != "unchanged" || !strings.HasPrefix(r[0], "etcd-") || !strings.HasPrefix(r[3], "etcd holds it already: https://10.77.0.1") {
			t.Errorf("publish again: %v", r)
		}
	}

	// Renewed and published in one step.
	if code, out, errOut = runCLI(t, "", "pki", "renew", "--force", "--publish", file); code != ExitOK ||
		!strings.Contains(errOut, "renewed 6 node certificates, each for the key its node holds") || !strings.Contains(errOut, "6 published") {
		t.Fatalf("renew --publish: exit %d\n%s%s", code, out, errOut)
	}

	// etcd-2's agent: it runs on the node, beside its etcd.
	agent := newAgentRun(t, rendered, "etcd-2")
	before := servedCert(t, "10.77.0.12:2379", pkiDir)
	code, said := agent.run(t, nodes["etcd-2"])
	renewed := mustRead(t, filepath.Join(pkiDir, "nodes", "etcd-2", "cert.pem"))
	if code != 0 || !strings.Contains(said, "installed the certificate at https://10.77.0.12:2379/v2/keys/swarmboot/vt/certs/etcd-2") {
		t.Fatalf("etcd-2's agent: exit %d\n%s", code, said)
	}
	if b, _ := nodes["etcd-2"].ReadFile("/etc/swarmboot/tls/cert.pem"); string(b) != renewed {
		t.Errorf("etcd-2 holds:\n%s", b)
	}
	if agent.calls() != "" {
		t.Errorf("an etcd-only node restarts nothing; systemctl was asked %q", agent.calls())
	}
	if after := servedCert(t, "10.77.0.12:2379", pkiDir); after != renewed || before == renewed {
		t.Errorf("etcd-2 must serve its renewed certificate on the next connection, without a restart")
	}

	// docker-1's agent, on a node without etcd: its engine and swarm units
	// are restarted.
	docker1 := c.Nodes[slices.IndexFunc(c.Nodes, func(n cluster.Node) bool { return n.Name == "docker-1" })]
	node := etcdtest.Start(t, "docker-1", etcdtest.ReadCloudConfig(t, filepath.Join(rendered, "docker-1", "user-data")), netip.PrefixFrom(docker1.IP, 24), "br0", "")
	agent = newAgentRun(t, rendered, "docker-1")
	if code, said = agent.run(t, node); code != 0 || agent.calls() != "try-restart docker.service swarm-join.service swarm-manage.service\n" {
		t.Errorf("docker-1's agent: exit %d, systemctl %q\n%s", code, agent.calls(), said)
	}
	if b, _ := node.ReadFile("/etc/swarmboot/tls/cert.pem"); string(b) != mustRead(t, filepath.Join(pkiDir, "nodes", "docker-1", "cert.pem")) {
		t.Errorf("docker-1 holds:\n%s", b)
	}
	if code, said = agent.run(t, node); code != 0 || !strings.Contains(said, "is the installed one") {
		t.Errorf("docker-1's agent again: exit %d\n%s", code, said)
	}
}

// publishTable parses pki publish's table: node, result, not after,
// detail.
func publishTable(t *testing.T, out string) [][4]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 1 || !strings.HasPrefix(lines[0], "NODE ") {
		t.Fatalf("not a table:\n%s", out)
	}
	row := regexp.MustCompile(`^(\S+) +(published|unchanged|failed|not published) +(-|\d{4}-\d\d-\d\d \d\d:\d\d UTC) +(.*)$`)
	var rows [][4]string
	for _, l := range lines[1:] {
		m := row.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("not a row: %q\n%s", l, out)
		}
		rows = append(rows, [4]string{m[1], m[2], m[3], m[4]})
	}
	return rows
}

// published is the certificate etcd holds for a node, decoded.
func published(t *testing.T, client *http.Client, member, node string) string {
	t.Helper()
	resp, err := client.Get(member + "/v2/keys/swarmboot/vt/certs/" + node + "?quorum=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Node struct{ Value string } }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(v.Node.Value)
	if err != nil {
		t.Fatalf("%s's value is not base64: %v", node, err)
	}
	return string(b)
}

// servedCert is the certificate an etcd member serves on a new
// connection, as PEM.
func servedCert(t *testing.T, addr, pkiDir string) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: caPool(t, pkiDir), Certificates: operatorClient(t, pkiDir).Transport.(*http.Transport).TLSClientConfig.Certificates})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: conn.ConnectionState().PeerCertificates[0].Raw}))
}

// agentRun is a node's certificate agent as its unit runs it: the shell
// and script of its ExecStart, its environment, and on PATH only the
// commands render.AgentTools names (systemctl a stand-in that records).
type agentRun struct {
	argv []string
	env  []string
	dir  string
}

func newAgentRun(t *testing.T, rendered, node string) *agentRun {
	t.Helper()
	u := etcdtest.ReadCloudConfig(t, filepath.Join(rendered, node, "user-data")).Unit(t, "swarmboot-cert-renew.service")
	a := &agentRun{argv: u.ExecStart, dir: t.TempDir()}
	bin := filepath.Join(a.dir, "bin")
	os.Mkdir(bin, 0o755)
	for _, tool := range render.AgentTools(u.Env["SWARMBOOT_ETCD_COPY"] != "", u.Env["SWARMBOOT_RELABEL"] == "1") {
		if tool == "systemctl" {
			os.WriteFile(filepath.Join(bin, tool), []byte("#!/bin/sh\necho \"$*\" >> "+a.dir+"/systemctl.calls\n"), 0o755)
			continue
		}
		real, err := exec.LookPath(tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(real, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	a.env = []string{"PATH=" + bin}
	for k, v := range u.Env {
		a.env = append(a.env, k+"="+v)
	}
	return a
}

func (a *agentRun) run(t *testing.T, n *etcdtest.Node) (int, string) {
	t.Helper()
	cmd := n.Command(a.argv[0], a.argv[1:]...)
	cmd.Env = a.env
	out, err := cmd.CombinedOutput()
	if bytes.Contains(out, []byte("not found")) {
		t.Fatalf("the agent ran a command render.AgentTools does not name:\n%s", out)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

func (a *agentRun) calls() string {
	b, _ := os.ReadFile(filepath.Join(a.dir, "systemctl.calls"))
	return string(b)
}
