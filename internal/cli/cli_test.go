package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/examples"
	_ "github.com/swarmboot/swarmboot/internal/testutil"
	"github.com/swarmboot/swarmboot/output"
)

// runCLI runs the command line and returns exit status, stdout, stderr.
// A render of a TLS description gets a PKI in a temporary directory
// unless the test names one: a first render makes one beside the
// description (the working directory for stdin), never to be left in the
// source tree.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	if len(args) > 0 && (args[0] == "render" || args[0] == "vagrant") && !slices.Contains(args, "--pki") {
		args = append(args, "--pki", testPKI(t))
	}
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// testPKIs is one PKI folder per test: renders into one output must keep
// their CA, as the nodes of that output trust it.
var testPKIs sync.Map

func testPKI(t *testing.T) string {
	dir, ok := testPKIs.Load(t)
	if !ok {
		dir = filepath.Join(t.TempDir(), "pki")
		testPKIs.Store(t, dir)
		t.Cleanup(func() { testPKIs.Delete(t) })
	}
	return dir.(string)
}

func seedPath(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\ncluster: x\nnodez: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	warn := filepath.Join(dir, "warn.yaml")
	if err := os.WriteFile(warn, []byte("version: 1\ncluster: w\nnodes: [{name: a, ip: 10.0.0.1, roles: [etcd, docker]}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string // in stdout+stderr
	}{
		{"no args", nil, ExitUsage, "Commands:"},
		{"help", []string{"--help"}, ExitOK, "render"},
		{"command help", []string{"render", "--help"}, ExitOK, "--node"},
		{"unknown command", []string{"rendr"}, ExitUsage, `unknown command "rendr"`},
		{"unknown flag", []string{"validate", "--strikt", "x"}, ExitUsage, "unknown flag"},
		{"missing file arg", []string{"validate"}, ExitUsage, "missing FILE"},
		{"missing file", []string{"validate", filepath.Join(dir, "none.yaml")}, ExitInvalid, "no such file"},
		{"invalid", []string{"validate", bad}, ExitInvalid, "bad.yaml:3:1: error at $.nodez: unknown key \"nodez\"; did you mean \"nodes\"?"},
		{"valid", []string{"validate", seedPath(t)}, ExitOK, "valid: cluster demo, 6 nodes"},
		{"warning only", []string{"validate", warn}, ExitOK, "warning at $.nodes"},
		{"one node", []string{"validate", warn}, ExitOK, "valid: cluster w, 1 node (1 etcd, 1 docker)"},
		{"warning strict", []string{"validate", "--strict", warn}, ExitInvalid, "fatal with --strict"},
		{"render without destination", []string{"render", seedPath(t)}, ExitUsage, "-o DIR"},
		{"render both destinations", []string{"render", seedPath(t), "-o", dir, "--node", "etcd-01"}, ExitUsage, "exclude each other"},
		{"unknown node", []string{"render", seedPath(t), "--node", "etcd-9"}, ExitUsage, `no node "etcd-9" in ` + seedPath(t) + `; did you mean "etcd-01"?`},
		{"unknown node, nothing near", []string{"render", seedPath(t), "--node", "gateway"}, ExitUsage, "; nodes are etcd-01, etcd-02, etcd-03, docker-01, docker-02, docker-03\n"},
		{"unknown format", []string{"render", seedPath(t), "--node", "etcd-01", "--format", "json"}, ExitUsage, "unknown format"},
		{"format not read", []string{"render", seedPath(t), "--node", "etcd-01", "--format", "ignition"}, ExitUsage, "does not apply to etcd-01"},
		{"format advice per profile", []string{"render", seedPath(t), "-o", "x", "--format", "coreos-cloudconfig"}, ExitUsage, "in one run: --format flatcar=coreos-cloudconfig,ubuntu=cloud-config "},
		{"matchbox named as given", []string{"render", seedPath(t), "-o", "x", "--format", "matchbox"}, ExitUsage, "format matchbox does not apply to etcd-01"},
		{"matchbox flag without matchbox", []string{"render", seedPath(t), "-o", "x", "--flatcar-version", "1"}, ExitUsage, "--flatcar-version applies to matchbox only"},
		{"matchbox flag without a matchbox profile", []string{"render", seedPath(t), "-o", "x", "--format", "flatcar=butane", "--matchbox-url", "http://m"}, ExitUsage, "--matchbox-url applies to matchbox only"},
		{"encode butane", []string{"render", seedPath(t), "--node", "docker-01", "--format", "butane", "--encode", "gzip"}, ExitUsage, "Butane is source text"},
		{"encode base64 into a seed", []string{"render", seedPath(t), "-o", "x", "--format", "nocloud-iso", "--encode", "base64"}, ExitUsage, "does not base64-decode"},
		{"unknown node selected", []string{"render", seedPath(t), "-o", "x", "--nodes", "etcd-01,etcd-9"}, ExitUsage, `--nodes: no node "etcd-9"`},
		{"empty node selected", []string{"render", seedPath(t), "-o", "x", "--nodes", "etcd-01,"}, ExitUsage, "--nodes etcd-01,: an empty name (a stray comma?)"},
		{"unknown role selected", []string{"render", seedPath(t), "-o", "x", "--nodes", "role=db"}, ExitUsage, "roles are etcd, docker, manager"},
		{"nothing selected", []string{"render", seedPath(t), "-o", "x", "--nodes", "profile=fcos"}, ExitUsage, "selects no node"},
		{"version", []string{"version"}, ExitOK, "swarmboot "},
		{"profiles", []string{"profiles"}, ExitOK, "flatcar"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s%s", code, tc.code, tc.want, out, errOut)
			}
		})
	}
}

func TestRenderNodeToStdout(t *testing.T) {
	code, out, errOut := runCLI(t, "", "render", seedPath(t), "--node", "docker-01")
	if code != ExitOK || !strings.HasPrefix(out, `{"ignition":{"version":"3.3.0"}`) {
		t.Fatalf("exit %d; want Ignition JSON on stdout, got:\n%.200s\n%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "", "render", seedPath(t), "--node", "docker-01", "--format", "butane")
	if code != ExitOK || !strings.Contains(out, "variant: flatcar") {
		t.Fatalf("--format butane: exit %d\n%.200s", code, out)
	}
}

func TestRenderStdin(t *testing.T) {
	seed, err := os.ReadFile(seedPath(t))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, string(seed), "render", "-", "--node", "etcd-02")
	if code != ExitOK || !strings.HasPrefix(out, "#cloud-config\n") || !strings.Contains(out, "ETCD_NAME=etcd-02") {
		t.Fatalf("exit %d:\n%.300s\n%s", code, out, errOut)
	}
	// Snippet paths of a description on stdin resolve against the current
	// directory, and the message says so.
	code, _, errOut = runCLI(t, "version: 1\ncluster: x\nsnippets: {cloud-config: [nope.yaml]}\nnodes: [{name: a, ip: 10.0.0.1, roles: [etcd, docker]}]\n", "validate", "-")
	if code != ExitInvalid || !strings.Contains(errOut, "relative to the current directory, as the description comes from standard input") {
		t.Errorf("exit %d:\n%s", code, errOut)
	}
	code, _, errOut = runCLI(t, "version: 1\ncluster: [\n", "validate", "-")
	if code != ExitInvalid || !strings.Contains(errOut, "<stdin>:") {
		t.Errorf("stdin errors must name <stdin>: exit %d\n%s", code, errOut)
	}
}

func TestRenderDirIsAtomic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if code, _, errOut := runCLI(t, "", "render", seedPath(t), "-o", dir); code != ExitOK {
		t.Fatalf("render: %d\n%s", code, errOut)
	}
	want := []string{"docker-01/config.bu", "docker-01/config.ign", "etcd-01/meta-data", "etcd-01/network-config", "etcd-01/user-data"}
	for _, f := range want {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	before, _ := os.ReadFile(filepath.Join(dir, "etcd-01/user-data"))

	// A failing run (invalid description) leaves the old output alone.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\ncluster: demo\nnodes: [{name: x}]\n"), 0o644)
	if code, _, _ := runCLI(t, "", "render", bad, "-o", dir); code != ExitInvalid {
		t.Fatalf("invalid description: exit %d", code)
	}
	after, err := os.ReadFile(filepath.Join(dir, "etcd-01/user-data"))
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("old output changed by a failed run: %v", err)
	}
	// A second good run replaces the folder whole, and leaves no temporaries.
	if code, _, errOut := runCLI(t, "", "render", seedPath(t), "-o", dir); code != ExitOK {
		t.Fatalf("re-render: %d\n%s", code, errOut)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("temporaries left beside the output: %v", entries)
	}
}

func TestRenderRefusesForeignDir(t *testing.T) {
	dir := t.TempDir()
	precious := filepath.Join(dir, "precious.txt")
	os.WriteFile(precious, []byte("keep"), 0o644)
	code, _, errOut := runCLI(t, "", "render", seedPath(t), "-o", dir)
	if code != ExitInvalid || !strings.Contains(errOut, "not written by swarmboot") {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	if _, err := os.Stat(precious); err != nil {
		t.Error("a foreign folder was touched")
	}
	if _, err := os.Stat(filepath.Join(dir, output.Marker)); err == nil {
		t.Error("marker written into a foreign folder")
	}
}

func TestInitWritesAValidStarter(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	os.Mkdir(filepath.Join(home, ".ssh"), 0o700)
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKZGePaSh4ubTK9UavI4Z5FLgPGTmdMKCwyyhocrgBfS me@host: #1"
	if err := os.WriteFile(filepath.Join(home, ".ssh", "id_ecdsa.pub"), []byte(key+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "cluster.yaml")
	if code, _, errOut := runCLI(t, "", "init", file); code != ExitOK || !strings.Contains(errOut, "put ~/.ssh/id_ecdsa.pub into ssh_authorized_keys") {
		t.Fatalf("init: %d\n%s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "validate", "--strict", file); code != ExitOK {
		t.Fatalf("the starter must validate strictly: %d\n%s", code, errOut)
	}
	if c, _, err := cluster.LoadFile(file); err != nil || !slices.Equal(c.SSHAuthorizedKeys, []string{key}) {
		t.Errorf("the starter's keys: %v %v", c.SSHAuthorizedKeys, err)
	}
	if code, _, errOut := runCLI(t, "", "init", file); code != ExitInvalid || !strings.Contains(errOut, "--force") {
		t.Errorf("init over an existing file: %d\n%s", code, errOut)
	}
	// No key, or not a key: init says so, and --strict holds the starter
	// back until one is added.
	for _, junk := range []string{"", "ssh-ed25519 AAAA... you@example\n"} {
		if junk != "" {
			os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519.pub"), []byte(junk), 0o644)
		} else {
			os.Remove(filepath.Join(home, ".ssh", "id_ecdsa.pub"))
		}
		bare := filepath.Join(t.TempDir(), "bare.yaml")
		if code, _, errOut := runCLI(t, "", "init", bare); code != ExitOK || !strings.Contains(errOut, "nobody can log in") && !strings.Contains(errOut, "is not a public key the description takes") {
			t.Errorf("init with %q: %d\n%s", junk, code, errOut)
		}
		if code, _, errOut := runCLI(t, "", "validate", "--strict", bare); code != ExitInvalid || !strings.Contains(errOut, "warning at $.ssh_authorized_keys: no ssh_authorized_keys") {
			t.Errorf("validate --strict of a starter without a key (%q): %d\n%s", junk, code, errOut)
		}
	}
	if code, out, _ := runCLI(t, "", "init"); code != ExitOK || !strings.Contains(out, "version: 1") {
		t.Errorf("init to stdout: %d", code)
	}
}

// TestExamples: every bundled example validates strictly and renders.
func TestExamples(t *testing.T) {
	entries, err := examples.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			data, _ := examples.FS.ReadFile(e.Name())
			code, _, errOut := runCLI(t, string(data), "validate", "--strict", "-")
			if e.Name() == "seed.yaml" {
				// The seed's exact plain form: allowed, and warned about,
				// for etcd and for Docker, and for nothing else.
				if code != ExitInvalid || strings.Count(errOut, "warning at") != 2 || !strings.Contains(errOut, "warning at $.etcd.tls:") || !strings.Contains(errOut, "warning at $.docker.tls:") {
					t.Fatalf("validate --strict: %d\n%s", code, errOut)
				}
				code, _, errOut = runCLI(t, string(data), "validate", "-")
			}
			if e.Name() == examples.Starter {
				// No key until init puts the user's in.
				if code != ExitInvalid || strings.Count(errOut, "warning at") != 1 || !strings.Contains(errOut, "warning at $.ssh_authorized_keys:") {
					t.Fatalf("validate --strict: %d\n%s", code, errOut)
				}
				code, _, errOut = runCLI(t, string(data), "validate", "-")
			}
			if code != ExitOK {
				t.Fatalf("validate: %d\n%s", code, errOut)
			}
			if code, _, errOut := runCLI(t, string(data), "render", "-", "-o", filepath.Join(t.TempDir(), "o")); code != ExitOK {
				t.Fatalf("render: %d\n%s", code, errOut)
			}
		})
	}
}

// The README's compatibility table is the command's own output.
// validate runs render's checks too: a snippet conflict fails it.
func TestValidateMergesSnippets(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte("write_files:\n  - path: /etc/swarmboot/./etcd.env\n    content: x\n"), 0o644)
	desc := filepath.Join(dir, "c.yaml")
	os.WriteFile(desc, []byte("version: 1\ncluster: t\nprofile: debian-12\nsnippets: {cloud-config: [s.yaml]}\n"+
		"nodes: [{name: a, ip: 10.0.0.1, roles: [etcd, docker, manager]}]\n"), 0o644)
	code, _, errOut := runCLI(t, "", "validate", desc)
	if code != ExitInvalid || !strings.Contains(errOut, "s.yaml:2:11: error at $.write_files[0].path: /etc/swarmboot/./etcd.env is generated by swarmboot") {
		t.Errorf("exit %d:\n%s", code, errOut)
	}
}

// --nodes gives a delivery format to the nodes it fits; the others still
// count in the cluster-wide settings.
func TestRenderSelectedNodes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	code, _, errOut := runCLI(t, "", "render", seedPath(t), "-o", dir, "--nodes", "profile=flatcar", "--format", "coreos-cloudconfig")
	if code != ExitOK || !strings.Contains(errOut, "for 3 nodes") {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != ".swarmboot-description.yaml .swarmboot-output docker-01 docker-02 docker-03" {
		t.Errorf("folders %v, want the three Flatcar nodes", got)
	}
	ud, _ := os.ReadFile(filepath.Join(dir, "docker-02", "user-data"))
	if !strings.Contains(string(ud), "etcd://192.168.101.101:2379,192.168.101.102:2379,192.168.101.103:2379/swarm") {
		t.Errorf("a selected node lost the unselected etcd members:\n%s", ud)
	}
}

// The README's delivery sizes are what the command writes today.
func TestREADMEDeliverySizes(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	seed := mustRead(t, seedPath(t))
	asUbuntu := strings.Replace(seed, "roles: [docker, manager], profile: flatcar}", "roles: [docker, manager]}", 1)
	size := func(desc string, args ...string) int {
		t.Helper()
		code, out, errOut := runCLI(t, desc, append([]string{"render", "-", "--node", "docker-01"}, args...)...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, errOut)
		}
		return len(out)
	}
	want := fmt.Sprintf("raw / `--encode gzip`, in bytes: cloud-config (as ubuntu) %d / %d,\ncoreos-cloudconfig %d / %d, Butane %d / -, Ignition %d / %d (the",
		size(asUbuntu), size(asUbuntu, "--encode", "gzip"),
		size(seed, "--format", "coreos-cloudconfig"), size(seed, "--format", "coreos-cloudconfig", "--encode", "gzip"),
		size(seed, "--format", "butane"), size(seed, "--format", "ignition"), size(seed, "--format", "ignition", "--encode", "gzip"))
	if !strings.Contains(string(readme), want) {
		t.Errorf("README's delivery sizes are stale; they are now:\n%s", want)
	}
}
