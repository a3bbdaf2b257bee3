package plan

import (
	"strings"
	"testing"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/output"
)

func TestUnifiedDiff(t *testing.T) {
	old := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nm\n"
	new := "a\nb\nc\nd\nE\nf\ng\nh\ni\nj\nk\nm\nl\n"
	got := unifiedDiff("x", []byte(old), []byte(new))
	want := `--- x (now)
+++ x (this render)
@@ -2,7 +2,7 @@
 b
 c
 d
-e
+E
 f
 g
 h
@@ -10,3 +10,4 @@
 j
 k
 m
+l
`
	if got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	if d := unifiedDiff("x", []byte(old), []byte(old)); d != "" {
		t.Errorf("equal files: %q", d)
	}
	if d := unifiedDiff("seed.iso", []byte{0, 1}, []byte{0, 2}); !strings.HasPrefix(d, "binary file: 2 bytes (sha256:") {
		t.Errorf("binary: %q", d)
	}
}

const key = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIBvPpTY5IcN8eW4v6fVqYg4dbW5vK3P4lNvIrJbPNZ0joAoGCCqGSM49
-----END EC PRIVATE KEY-----`

// TestKeysRedacted: keys and certificates, in YAML block scalars or in
// Ignition's data URLs (plain or base64, gzip or not), show as digests.
func TestKeysRedacted(t *testing.T) {
	yamlOld := "write_files:\n  - content: |\n      " + strings.ReplaceAll(key, "\n", "\n      ") + "\n"
	yamlNew := strings.Replace(yamlOld, "MHcC", "MHcD", 1)
	d := unifiedDiff("n/user-data", []byte(yamlOld), []byte(yamlNew))
	if strings.Contains(d, "MHc") || strings.Count(d, "[private key sha256:") != 2 || !strings.Contains(d, "-      [private key") {
		t.Errorf("YAML key not redacted as one indented line:\n%s", d)
	}
	ign := func(k string) []byte {
		return []byte(`{"storage":{"files":[{"path":"/k","contents":{"source":"data:,` + strings.ReplaceAll(strings.ReplaceAll(k, "\n", "%0A"), " ", "%20") + `"}}]}}`)
	}
	d = unifiedDiff("n/config.ign", ign(key), ign(strings.Replace(key, "MHcC", "MHcD", 1)))
	if strings.Contains(d, "MHc") || !strings.Contains(d, `"source": "[private key sha256:`) {
		t.Errorf("Ignition key not redacted:\n%s", d)
	}
}

func TestChangedKeys(t *testing.T) {
	old := "version: 1\ncluster: c\nnodes:\n  - {name: a, ip: 10.0.0.1, roles: [etcd]}\n  - {name: b, ip: 10.0.0.2, roles: [docker]}\n"
	new := "version: 1\ncluster: c\ntls: {sans: [x.example.com]}\nnodes:\n  - {name: z, ip: 10.0.0.9, roles: [docker]}\n  - {name: a, ip: 10.0.0.1, roles: [etcd]}\n  - {name: b, ip: 10.0.0.3, roles: [docker, manager]}\n"
	keys, err := changedKeys([]byte(old), []byte(new))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.String())
	}
	want := []string{
		"$.nodes[b].ip: 10.0.0.2 -> 10.0.0.3",
		"$.nodes[b].roles: [docker] -> [docker, manager]",
		"$.nodes[z]: added",
		"$.tls.sans: added [x.example.com]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("keys:\n%s\nwant (a inserted before them shifts nothing):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCompareClassifies: new, removed, changed and unchanged nodes, by
// folder or by matchbox file name, and the cluster's own files.
func TestCompareClassifies(t *testing.T) {
	desc := "version: 1\ncluster: c\nnodes:\n  - {name: a, ip: 10.0.0.1, roles: [etcd, docker, manager]}\n  - {name: b, ip: 10.0.0.2, roles: [docker]}\n  - {name: d, ip: 10.0.0.4, roles: [docker]}\n"
	oldDesc := "version: 1\ncluster: c\nnodes:\n  - {name: a, ip: 10.0.0.1, roles: [etcd, docker, manager]}\n  - {name: b, ip: 10.0.0.2, roles: [docker]}\n  - {name: gone, ip: 10.0.0.3, roles: [etcd, docker]}\n"
	c, rep := cluster.Load("c.yaml", []byte(desc))
	if rep.IsFatal(false) {
		t.Fatal(rep)
	}
	old := output.Tree{
		output.Description: []byte(oldDesc),
		"a/user-data":      []byte("one\n"), "b/user-data": []byte("same\n"),
		"ignition/gone.ign": []byte("{}"), "Vagrantfile": []byte("v1\n"),
	}
	new := map[string][]byte{"a/user-data": []byte("two\n"), "b/user-data": []byte("same\n"), "ignition/d.ign": []byte("{}"), "Vagrantfile": []byte("v2\n")}
	p, err := Compare(Input{Output: "out", Old: old, New: new, Cluster: c, Description: []byte(desc)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Status{}
	for _, n := range p.Nodes {
		got[n.Name] = n.Status
	}
	want := map[string]Status{"a": Changed, "b": Unchanged, "d": New, "gone": Removed}
	for name, st := range want {
		if got[name] != st {
			t.Errorf("%s: %s, want %s", name, got[name], st)
		}
	}
	if len(p.Other) != 1 || p.Other[0].Path != "Vagrantfile" || !p.Changes() {
		t.Errorf("the cluster's own files: %+v", p.Other)
	}
	for _, n := range p.Nodes {
		if n.Name == "gone" && (len(n.Running) != 2 || !strings.Contains(n.Running[0], "etcdctl member remove") || !strings.Contains(n.Running[1], "TTL")) {
			t.Errorf("a removed member and host: %q", n.Running)
		}
		if n.Name == "a" && (len(n.Why) != 1 || !strings.HasPrefix(n.Why[0], "$.nodes[gone]: removed (etcd member gone: every node names the members")) {
			t.Errorf("a changed as an etcd member left: %q", n.Why)
		}
	}
	// The same description, a file changed all the same: no key says why.
	old[output.Description] = []byte(desc)
	p, err = Compare(Input{Output: "out", Old: old, New: new, Cluster: c, Description: []byte(desc)})
	if err != nil {
		t.Fatal(err)
	}
	if n := p.Nodes[0]; n.Name != "a" || len(n.Why) != 1 || !strings.Contains(n.Why[0], "no key of the description changed") {
		t.Errorf("a changed without a key: %+v", n)
	}
}
