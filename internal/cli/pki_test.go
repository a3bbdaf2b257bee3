package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secureDesc copies examples/secure.yaml into a temporary folder, so the
// PKI its renders make lands there.
func secureDesc(t *testing.T) string {
	t.Helper()
	data := mustRead(t, "../../examples/secure.yaml")
	file := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestPKICommand(t *testing.T) {
	file := secureDesc(t)
	dir := filepath.Join(filepath.Dir(file), "pki")
	code, _, errOut := runCLI(t, "", "pki", "init", file)
	if code != ExitOK || !strings.Contains(errOut, "created the cluster CA and the operator's certificate in "+dir) || !strings.Contains(errOut, "issued 6 node certificates") {
		t.Fatalf("pki init: exit %d\n%s", code, errOut)
	}
	for _, f := range []string{"ca.pem", "ca-key.pem", "client/cert.pem", "client/key.pem", "client/env", "nodes/etcd-01/key.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("pki init did not write %s: %v", f, err)
		}
	}
	env := mustRead(t, filepath.Join(dir, "client", "env"))
	for _, want := range []string{"export DOCKER_HOST=tcp://192.168.101.111:8333\n", "export DOCKER_TLS_VERIFY=1\n", "export DOCKER_CERT_PATH=" + filepath.Join(dir, "client") + "\n",
		"export ETCDCTL_ENDPOINTS=https://192.168.101.101:2379,https://192.168.101.102:2379,https://192.168.101.103:2379\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("client/env lacks %q:\n%s", want, env)
		}
	}
	caKey := mustRead(t, filepath.Join(dir, "ca-key.pem"))
	if code, _, errOut := runCLI(t, "", "pki", "init", file); code != ExitInvalid || !strings.Contains(errOut, "a CA already exists") {
		t.Errorf("second pki init: exit %d\n%s", code, errOut)
	}
	if mustRead(t, filepath.Join(dir, "ca-key.pem")) != caKey {
		t.Error("a refused pki init changed the CA")
	}
	// --force sets the old CA aside, says where, and issues every node anew.
	code, _, errOut = runCLI(t, "", "pki", "init", "--force", file)
	backups, _ := filepath.Glob(filepath.Join(dir, "backup", "*", "ca-key.pem"))
	if code != ExitOK || len(backups) != 1 || !strings.Contains(errOut, "moved the previous CA, its client and node certificates to "+filepath.Dir(backups[0])+"/") ||
		!strings.Contains(errOut, "issued 6 node certificates") {
		t.Fatalf("pki init --force: exit %d, backups %v\n%s", code, backups, errOut)
	}
	if mustRead(t, backups[0]) != caKey || mustRead(t, filepath.Join(dir, "ca-key.pem")) == caKey {
		t.Error("pki init --force did not set the old CA key aside, or kept it in place")
	}
	if code, _, errOut := runCLI(t, "", "pki", "renew", file); code != ExitOK || !strings.Contains(errOut, "nothing to renew") {
		t.Errorf("pki renew of fresh certificates: exit %d\n%s", code, errOut)
	}
	before := mustRead(t, filepath.Join(dir, "nodes", "etcd-01", "cert.pem"))
	if code, _, errOut := runCLI(t, "", "pki", "renew", "--force", file); code != ExitOK || !strings.Contains(errOut, "renewed 6 node certificates, each for the key its node holds") {
		t.Errorf("pki renew --force: exit %d\n%s", code, errOut)
	}
	if mustRead(t, filepath.Join(dir, "nodes", "etcd-01", "cert.pem")) == before {
		t.Error("pki renew --force kept etcd-01's certificate")
	}
	for _, args := range [][]string{{"pki"}, {"pki", "rotate", file}, {"pki", "init"}} {
		if code, _, errOut := runCLI(t, "", args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want a usage error\n%s", args, code, errOut)
		}
	}
	if code, _, errOut := runCLI(t, "", "pki", "init", seedPath(t)); code != ExitInvalid || !strings.Contains(errOut, "need no certificates") {
		t.Errorf("pki init of the plain seed: exit %d\n%s", code, errOut)
	}
	if code, out, _ := runCLI(t, "", "pki", "--help"); code != ExitOK || !strings.Contains(out, "Examples:\n  swarmboot pki init cluster.yaml") {
		t.Errorf("pki --help: exit %d\n%s", code, out)
	}
}

// TestRenderTLS: the first render makes the PKI and says so; the next
// renders reuse it byte for byte; a render that fails leaves no PKI.
func TestRenderTLS(t *testing.T) {
	file := secureDesc(t)
	dir := filepath.Join(filepath.Dir(file), "pki")
	out1, out2 := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	code, _, errOut := runCLI(t, "", "render", file, "-o", out1, "--pki", dir)
	if code != ExitOK || !strings.Contains(errOut, "created the cluster CA") || !strings.Contains(errOut, "9 files hold a node's private TLS key") {
		t.Fatalf("first render: exit %d\n%s", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "render", file, "-o", out2, "--pki", dir)
	if code != ExitOK || strings.Contains(errOut, "created") || strings.Contains(errOut, "issued") {
		t.Fatalf("second render: exit %d\n%s", code, errOut)
	}
	for _, f := range []string{"etcd-01/user-data", "docker-01/config.ign", "docker-01/config.bu"} {
		if mustRead(t, filepath.Join(out1, f)) != mustRead(t, filepath.Join(out2, f)) {
			t.Errorf("%s differs between two renders", f)
		}
	}
	// A new node is issued its certificate; the others stay as they were.
	grown := strings.Replace(mustRead(t, file), "nodes:\n", "nodes:\n  - {name: docker-04, ip: 192.168.101.114, roles: [docker], profile: flatcar}\n", 1)
	if err := os.WriteFile(file, []byte(grown), 0o644); err != nil {
		t.Fatal(err)
	}
	out3 := filepath.Join(t.TempDir(), "c")
	if code, _, errOut = runCLI(t, "", "render", file, "-o", out3, "--pki", dir); code != ExitOK || !strings.Contains(errOut, "issued 1 node certificate") {
		t.Fatalf("render with a new node: exit %d\n%s", code, errOut)
	}
	if mustRead(t, filepath.Join(out1, "etcd-01/user-data")) != mustRead(t, filepath.Join(out3, "etcd-01/user-data")) {
		t.Error("adding a Docker host changed etcd-01's user-data")
	}
	// A failing render (a forced format two nodes cannot read is refused
	// before anything is issued; a snippet conflict after) writes no PKI.
	fresh := filepath.Join(t.TempDir(), "pki")
	conflict := mustRead(t, file) + "snippets:\n  cloud-config: [bad.yaml]\n"
	if err := os.WriteFile(filepath.Join(filepath.Dir(file), "bad.yaml"), []byte("hostname: other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(conflict), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "", "render", file, "-o", filepath.Join(t.TempDir(), "d"), "--pki", fresh); code != ExitInvalid || !strings.Contains(errOut, "swarmboot sets this") {
		t.Fatalf("render with a conflicting snippet: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a failed render made a PKI: %v", err)
	}
}

// TestPKIInsideOutputRefused: a PKI inside the output directory would be
// replaced with it by the next render.
func TestPKIInsideOutputRefused(t *testing.T) {
	file := secureDesc(t)
	out := filepath.Join(filepath.Dir(file), "out")
	for _, pkiDir := range []string{out, filepath.Join(out, "pki")} {
		if code, _, errOut := runCLI(t, "", "render", file, "-o", out, "--pki", pkiDir); code != ExitUsage || !strings.Contains(errOut, "every render replaces whole") {
			t.Errorf("--pki %s: exit %d\n%s", pkiDir, code, errOut)
		}
	}
	if code, _, errOut := runCLI(t, "", "render", file, "-o", out+"-2", "--pki", out); code != ExitOK {
		t.Errorf("a sibling named like the output: exit %d\n%s", code, errOut)
	}
}

// pki renew says what reaches running nodes through publish (same key)
// and what needs new user-data (a new key); flags that belong to another
// subcommand are usage errors.
func TestPKIRenewAndPublishUsage(t *testing.T) {
	file := secureDesc(t)
	dir := filepath.Join(filepath.Dir(file), "pki")
	if code, _, errOut := runCLI(t, "", "pki", "init", file); code != ExitOK {
		t.Fatalf("pki init: exit %d\n%s", code, errOut)
	}
	// docker-03 moves: its certificate needs a new key, the others are
	// renewed for theirs.
	moved := strings.Replace(mustRead(t, file), "192.168.101.113", "192.168.101.123", 1)
	if err := os.WriteFile(file, []byte(moved), 0o644); err != nil {
		t.Fatal(err)
	}
	key := mustRead(t, filepath.Join(dir, "nodes", "etcd-01", "key.pem"))
	code, _, errOut := runCLI(t, "", "pki", "renew", "--force", file)
	if code != ExitOK || !strings.Contains(errOut, "docker-03: re-issued (SANs changed: +192.168.101.123 -192.168.101.113)\n") ||
		!strings.Contains(errOut, "etcd-01: renewed (forced)\n") ||
		!strings.Contains(errOut, "renewed 5 node certificates, each for the key its node holds: `swarmboot pki publish "+file+"` hands them to the running nodes") ||
		!strings.Contains(errOut, "issued 1 node certificate with a new key: those nodes need their new user-data") {
		t.Errorf("pki renew --force: exit %d\n%s", code, errOut)
	}
	if mustRead(t, filepath.Join(dir, "nodes", "etcd-01", "key.pem")) != key {
		t.Error("pki renew changed etcd-01's key")
	}
	for _, args := range [][]string{
		{"pki", "init", file, "--publish"}, {"pki", "publish", file, "--publish"}, {"pki", "renew", file, "--nodes", "etcd-01"},
		{"pki", "publish", file, "--force"}, {"pki", "publish", file, "--nodes", "etcd-09"}, {"pki", "publish", file, "--nodes", "role=dockr"},
		{"pki", "publish", file, "--timeout", "0s"}, {"pki", "status", file, "--publish"},
	} {
		if code, _, errOut := runCLI(t, "", args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want a usage error\n%s", args, code, errOut)
		}
	}
	if code, _, errOut := runCLI(t, "", "pki", "publish", seedPath(t)); code != ExitInvalid || !strings.Contains(errOut, "need no certificates") {
		t.Errorf("pki publish of the plain seed: exit %d\n%s", code, errOut)
	}
}
