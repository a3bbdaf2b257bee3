package cli

import (
	"crypto/sha256"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmboot/swarmboot/plan"
)

// treeSum is every file under dir with its content's digest and mode.
func treeSum(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		info, _ := d.Info()
		sum := sha256.Sum256(data)
		out[p] = string(sum[:]) + info.Mode().String()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPlan: render --plan says, node by node, what a changed description
// would change in an output and why, exits 3 on changes and 0 without,
// shows no key, and writes nothing: neither the output nor the PKI.
func TestPlan(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cluster.yaml")
	data, err := os.ReadFile("../../examples/secure.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write := func(text string) {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(string(data))
	out, pkiDir := filepath.Join(dir, "out"), filepath.Join(dir, "pki")
	if code, _, msg := runCLI(t, "", "render", file, "-o", out, "--pki", pkiDir); code != ExitOK {
		t.Fatalf("render: exit %d\n%s", code, msg)
	}
	if code, text, msg := runCLI(t, "", "render", file, "-o", out, "--pki", pkiDir, "--plan"); code != ExitOK || !strings.Contains(text, "Plan: 0 to add, 0 to change, 0 to remove, 6 unchanged.") {
		t.Fatalf("nothing changed: exit %d\n%s%s", code, text, msg)
	}
	before := treeSum(t, dir)
	moved := strings.Replace(string(data), "192.168.101.102", "192.168.101.122", 1)
	moved = strings.Replace(moved, "  - {name: docker-03", "  - {name: docker-04, ip: 192.168.101.114, roles: [docker], profile: flatcar}\n  - {name: docker-03x", 1)
	moved = strings.Replace(moved, "  - {name: docker-03x", "#", 1)
	write(moved)
	code, text, msg := runCLI(t, "", "render", file, "-o", out, "--pki", pkiDir, "--plan")
	if code != ExitChanges {
		t.Fatalf("changes: exit %d, want %d\n%s%s", code, ExitChanges, text, msg)
	}
	for _, want := range []string{
		"~ etcd-02: changed",
		"    why: $.nodes[etcd-02].ip: 192.168.101.102 -> 192.168.101.122\n",
		"    why: certificate re-issued (SANs changed: +192.168.101.122 -192.168.101.102)\n",
		"etcdctl member update ID --peer-urls=https://192.168.101.122:2380 first",
		"-      [private key sha256:",
		"+      ETCD_LISTEN_PEER_URLS=https://192.168.101.122:2380\n",
		"+ docker-04: new",
		"- docker-03: removed",
		"its registration in etcd stays until its TTL",
		"Plan: 1 to add, 5 to change, 1 to remove, 0 unchanged.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the plan lacks %q:\n%s", want, text)
		}
	}
	// No key material, old or new: keys show as digests.
	oldKey, err := os.ReadFile(filepath.Join(pkiDir, "nodes", "etcd-02", "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if line := strings.Split(string(oldKey), "\n")[1]; strings.Contains(text, line) || strings.Contains(text, "PRIVATE KEY-----") {
		t.Errorf("the plan shows a key:\n%s", text)
	}
	after := treeSum(t, dir)
	for p, sum := range before {
		if after[p] != sum && p != file {
			t.Errorf("the plan changed %s", p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok && p != file {
			t.Errorf("the plan wrote %s", p)
		}
	}
	// --json is the same plan, as data.
	code, text, _ = runCLI(t, "", "render", file, "-o", out, "--pki", pkiDir, "--plan", "--json")
	var p plan.Plan
	if err := json.Unmarshal([]byte(text), &p); code != ExitChanges || err != nil || p.Count(plan.Changed) != 5 || p.Nodes[1].Name != "etcd-02" || len(p.Nodes[1].Why) != 2 {
		t.Errorf("--json: exit %d, %v\n%s", code, err, text)
	}
	if code, _, _ := runCLI(t, "", "render", file, "--plan", "--node", "etcd-01"); code != ExitUsage {
		t.Errorf("--plan without -o: exit %d", code)
	}
}
