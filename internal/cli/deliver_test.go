package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kdomanski/iso9660"

	"github.com/swarmboot/swarmboot/delivery/seediso"
	"github.com/swarmboot/swarmboot/internal/consumers"
	"github.com/swarmboot/swarmboot/internal/testutil"
	"github.com/swarmboot/swarmboot/output"
)

func TestRenderEncodeGzip(t *testing.T) {
	_, plain, _ := runCLI(t, "", "render", seedPath(t), "--node", "etcd-01")
	code, gz, errOut := runCLI(t, "", "render", seedPath(t), "--node", "etcd-01", "--encode", "gzip")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	zr, err := gzip.NewReader(strings.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	if string(got) != plain {
		t.Error("gzip user-data does not inflate to the plain user-data")
	}
	code, b64, _ := runCLI(t, "", "render", seedPath(t), "--node", "etcd-01", "--encode", "gzip+base64")
	raw, err := base64.StdEncoding.DecodeString(b64)
	if code != ExitOK || err != nil || !bytes.Equal(raw, []byte(gz)) {
		t.Errorf("gzip+base64 is not base64 of the gzip bytes: exit %d, %v", code, err)
	}
}

// For Ignition, gzip means a wrapper config that Ignition itself reads.
func TestRenderEncodeIgnitionWrapper(t *testing.T) {
	code, out, errOut := runCLI(t, "", "render", seedPath(t), "--node", "docker-01", "--encode", "gzip")
	if code != ExitOK || !strings.Contains(out, `"compression":"gzip"`) {
		t.Fatalf("exit %d: %.200s %s", code, out, errOut)
	}
	if _, err := consumers.IgnitionAny([]byte(out)); err != nil {
		t.Errorf("the wrapper is not a valid Ignition config: %v", err)
	}
}

func TestRenderTargetLimit(t *testing.T) {
	// 200 SSH keys make every node's user-data larger than AWS's 16 KiB.
	seed, _ := os.ReadFile(seedPath(t))
	keys := "ssh_authorized_keys:\n" + strings.Repeat("  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKZGePaSh4ubTK9UavI4Z5FLgPGTmdMKCwyyhocrgBfS ops@example\n", 200)
	big := strings.Replace(string(seed), "ssh_authorized_keys:\n", keys+"# was:\n", 1)
	big = strings.Replace(big, "  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKZGePaSh4ubTK9UavI4Z5FLgPGTmdMKCwyyhocrgBfS ops@example\n", "", 1)
	dir := filepath.Join(t.TempDir(), "out")
	code, _, errOut := runCLI(t, big, "render", "-", "-o", dir, "--target", "aws")
	if code != ExitInvalid || !strings.Contains(errOut, `node "etcd-01": cloud-config user-data is`) ||
		!strings.Contains(errOut, "over aws's limit of 16384 bytes") || !strings.Contains(errOut, "--encode gzip") {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("output written although a node does not fit")
	}
	// The README shows this run's first node.
	line := errOut[strings.Index(errOut, `  node "etcd-01"`):]
	line = line[:strings.Index(line, "\n")+1]
	if readme := mustRead(t, "../../README.md"); !strings.Contains(readme, line) {
		t.Errorf("README's --target aws example is stale; the line is now:\n%s", line)
	}
	if code, _, errOut := runCLI(t, big, "render", "-", "-o", dir, "--target", "aws", "--encode", "gzip"); code != ExitOK {
		t.Errorf("with gzip every node fits: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "render", seedPath(t), "-o", dir, "--target", "moon"); code != ExitUsage || !strings.Contains(errOut, "targets are") {
		t.Errorf("unknown target: exit %d\n%s", code, errOut)
	}
}

func TestRenderNoCloudISO(t *testing.T) {
	debian, _ := filepath.Abs("../../examples/debian.yaml")
	dir := filepath.Join(t.TempDir(), "out")
	pkiDir := filepath.Join(t.TempDir(), "pki") // one PKI: the same certificates in both renders
	if code, _, errOut := runCLI(t, "", "render", debian, "-o", dir, "--format", "nocloud-iso", "--pki", pkiDir); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	_, userData, _ := runCLI(t, "", "render", debian, "--node", "etcd-2", "--pki", pkiDir)
	f, err := os.Open(filepath.Join(dir, "etcd-2", "seed.iso"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := iso9660.OpenImage(f)
	if err != nil {
		t.Fatal(err)
	}
	if label, _ := img.Label(); label != "cidata" {
		t.Errorf("volume label %q, want cidata", label)
	}
	root, _ := img.RootDir()
	children, _ := root.GetChildren()
	files := map[string]string{}
	for _, c := range children {
		data, _ := io.ReadAll(c.Reader())
		files[c.Name()] = string(data)
	}
	if files["user-data"] != userData || !strings.Contains(files["meta-data"], "instance-id: bookworm-etcd-2-") ||
		!strings.Contains(files["network-config"], "172.20.0.12/24") {
		t.Errorf("seed image content wrong: %v", files)
	}
	if code, _, errOut := runCLI(t, "", "render", seedPath(t), "-o", dir, "--format", "nocloud-iso"); code != ExitUsage || !strings.Contains(errOut, "does not apply to docker-01") {
		t.Errorf("nocloud-iso for Flatcar nodes: exit %d\n%s", code, errOut)
	}
}

func TestRenderMatchbox(t *testing.T) {
	desc := `version: 1
cluster: pxe
profile: flatcar
nodes:
  - {name: n1, ip: 10.0.0.1, roles: [etcd, docker, manager], mac: "52:54:00:00:00:01"}
  - {name: n2, ip: 10.0.0.2, roles: [etcd, docker], mac: "52:54:00:00:00:02"}
  - {name: n3, ip: 10.0.0.3, roles: [etcd, docker], mac: "52:54:00:00:00:03"}
`
	dir := filepath.Join(t.TempDir(), "matchbox")
	args := []string{"render", "-", "-o", dir, "--format", "matchbox", "--matchbox-url", "http://matchbox.lan:8080", "--flatcar-version", "4081.2.0"}
	code, _, errOut := runCLI(t, desc, args...)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	// With TLS the configs hold keys, which matchbox serves over plain HTTP.
	if !strings.Contains(errOut, "matchbox serves them over plain HTTP") {
		t.Errorf("no warning that matchbox serves the keys:\n%s", errOut)
	}
	if err := consumers.Matchbox(os.DirFS(dir)); err != nil {
		t.Errorf("matchbox data directory does not verify: %v", err)
	}
	ign, err := os.ReadFile(filepath.Join(dir, "ignition", "n2.ign"))
	if err != nil {
		t.Fatal(err)
	}
	if err := consumers.Ignition(ign); err != nil {
		t.Error(err)
	}
	noMAC := strings.Replace(desc, `, mac: "52:54:00:00:00:03"`, "", 1)
	if code, _, errOut := runCLI(t, noMAC, args...); code != ExitInvalid || !strings.Contains(errOut, "matchbox needs `mac:` on n3 in <stdin>") {
		t.Errorf("node without MAC: exit %d\n%s", code, errOut)
	}
	// Everything missing is named in one run, as the usage error it is.
	fcos := strings.Replace(noMAC, "roles: [etcd, docker]}", "roles: [etcd, docker], profile: fcos}", 1)
	code, _, errOut = runCLI(t, fcos, "render", "-", "-o", dir, "--format", "matchbox")
	for _, want := range []string{"--matchbox-url", "--flatcar-version, the release to boot (e.g. 4593.2.5, stable)", "--fcos-version", "`mac:` on n3"} {
		if code != ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("every missing input at once: exit %d, want 2 naming %q\n%s", code, want, errOut)
		}
	}
}

func TestVagrant(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vagrant")
	if code, _, errOut := runCLI(t, "", "vagrant", seedPath(t), "-o", dir, "--box", "ubuntu=bento/ubuntu-24.04"); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	vf, err := os.ReadFile(filepath.Join(dir, "Vagrantfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"'bento/ubuntu-24.04'", "ip: '192.168.101.111', netmask: '255.255.255.0'", "path: 'etcd-01/user-data'", "source: 'docker-01/user-data'"} {
		if !strings.Contains(string(vf), want) {
			t.Errorf("Vagrantfile lacks %s", want)
		}
	}
	// The Flatcar nodes get coreos-cloudconfig without the static network
	// (Vagrant addresses the private network itself).
	ud, _ := os.ReadFile(filepath.Join(dir, "docker-01", "user-data"))
	if err := consumers.CoreOSCloudConfig(ud); err != nil || strings.Contains(string(ud), "10-swarmboot-static.network") {
		t.Errorf("docker-01 user-data: %v", err)
	}
	ruby := testutil.NeedTool(t, "ruby", "ruby")
	if out, err := exec.Command(ruby, "-c", filepath.Join(dir, "Vagrantfile")).CombinedOutput(); err != nil {
		t.Errorf("ruby -c: %v\n%s", err, out)
	}
	// A /22 stays one host-only network: Vagrant is told the netmask.
	wide := strings.Replace(mustRead(t, seedPath(t)), "prefix: 24", "prefix: 22", 1)
	if code, _, errOut := runCLI(t, wide, "vagrant", "-", "-o", dir); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if vf, _ := os.ReadFile(filepath.Join(dir, "Vagrantfile")); !strings.Contains(string(vf), "ip: '192.168.101.101', netmask: '255.255.252.0'") {
		t.Errorf("a /22 cluster's Vagrantfile lacks the netmask:\n%s", vf)
	}
	for _, args := range [][]string{{"--cpus", "0"}, {"--memory", "99999999999"}, {"--memory", "16"}} {
		if code, _, errOut := runCLI(t, "", append([]string{"vagrant", seedPath(t), "-o", dir}, args...)...); code != ExitUsage || !strings.Contains(errOut, args[0]) {
			t.Errorf("%v: exit %d, want a usage error:\n%s", args, code, errOut)
		}
	}
	fcos := "version: 1\ncluster: f\nprofile: fcos\nnodes: [{name: a, ip: 10.0.0.1, roles: [etcd, docker]}]\n"
	pkiDir := filepath.Join(t.TempDir(), "pki")
	if code, _, errOut := runCLI(t, fcos, "vagrant", "-", "-o", dir, "--pki", pkiDir); code != ExitInvalid || !strings.Contains(errOut, "cannot deliver") {
		t.Errorf("fcos under Vagrant: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(pkiDir); !os.IsNotExist(err) {
		t.Errorf("a refused render made a PKI: %v", err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRenderMixedPackagings: one command ships a mixed cluster's Flatcar
// nodes by matchbox and its Ubuntu nodes in NoCloud seeds, into one DIR,
// each file with its mode whatever the umask; a packaging forced on nodes
// it does not fit points at that command.
func TestRenderMixedPackagings(t *testing.T) {
	desc, _ := filepath.Abs("../../delivery/testdata/mixed.yaml")
	pxe := []string{"--matchbox-url", "http://matchbox.lan:8080", "--flatcar-version", "4593.2.5"}
	render := func(dir string, more ...string) (int, string, string) {
		return runCLI(t, "", append(append([]string{"render", desc, "-o", dir}, more...), pxe...)...)
	}
	dir := filepath.Join(t.TempDir(), "pxe")
	for _, umask := range []int{0o000, 0o077} {
		old := syscall.Umask(umask)
		code, _, errOut := render(dir, "--format", "flatcar=matchbox,ubuntu=nocloud-iso")
		syscall.Umask(old)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		if !strings.Contains(errOut, "wrote 9 files for 5 nodes of cluster mixed into "+dir) || !strings.Contains(errOut, "matchbox serves them over plain HTTP") {
			t.Errorf("stderr:\n%s", errOut)
		}
		got := map[string]os.FileMode{}
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				fi, _ := d.Info()
				rel, _ := filepath.Rel(dir, p)
				got[rel] = fi.Mode().Perm()
			}
			return err
		})
		want := map[string]os.FileMode{output.Marker: 0o644, output.Description: 0o600}
		for _, n := range []string{"etcd-1", "etcd-2", "etcd-3"} {
			want[n+"/seed.iso"] = 0o600
		}
		for _, n := range []string{"docker-1", "docker-2"} {
			want["profiles/"+n+".json"], want["groups/"+n+".json"], want["ignition/"+n+".ign"] = 0o644, 0o644, 0o644
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("umask %03o: files and modes (-want +got):\n%s", umask, diff)
		}
	}
	if err := consumers.Matchbox(os.DirFS(dir)); err != nil {
		t.Errorf("matchbox's tree: %v", err)
	}
	// --plan builds as render does: nothing to change, then the Ubuntu
	// nodes' seeds giving way to folders.
	if code, out, errOut := render(dir, "--plan", "--format", "flatcar=matchbox,ubuntu=nocloud-iso"); code != ExitOK || !strings.Contains(out, "Plan: 0 to add, 0 to change, 0 to remove, 5 unchanged.") {
		t.Errorf("--plan, the same --format: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := render(dir, "--plan", "--format", "flatcar=matchbox"); code != ExitChanges || !strings.Contains(out, "etcd-1/seed.iso (removed), etcd-1/user-data (added)") || !strings.Contains(out, "Plan: 0 to add, 3 to change, 0 to remove, 2 unchanged.") {
		t.Errorf("--plan, Ubuntu in folders: exit %d\n%s%s", code, out, errOut)
	}
	_, userData, _ := runCLI(t, "", "render", desc, "--node", "etcd-2")
	label, files, err := seediso.Read([]byte(mustRead(t, filepath.Join(dir, "etcd-2", "seed.iso"))))
	if err != nil || label != "cidata" || string(files["user-data"]) != userData {
		t.Errorf("etcd-2's seed: %q %v (%v)", label, slices.Sorted(maps.Keys(files)), err)
	}
	_, ign, _ := runCLI(t, "", "render", desc, "--node", "docker-1")
	if mustRead(t, filepath.Join(dir, "ignition", "docker-1.ign")) != ign {
		t.Error("matchbox serves other than docker-1's Ignition config")
	}
	// --node prints the file a node's packaging makes for it, if one.
	code, seed, errOut := runCLI(t, "", "render", desc, "--node", "etcd-2", "--format", "flatcar=matchbox,ubuntu=nocloud-iso")
	if label, _, err := seediso.Read([]byte(seed)); code != ExitOK || err != nil || label != "cidata" {
		t.Errorf("--node etcd-2: exit %d, %q %v\n%s", code, label, err, errOut)
	}
	if code, _, errOut := runCLI(t, "", "render", desc, "--node", "docker-1", "--format", "flatcar=matchbox,ubuntu=nocloud-iso"); code != ExitUsage || !strings.Contains(errOut, "docker-1: matchbox writes a directory, not a file per node: use -o DIR") {
		t.Errorf("--node docker-1: exit %d\n%s", code, errOut)
	}
	// A default for the profiles not named: the same tree.
	other := filepath.Join(t.TempDir(), "pxe")
	if code, _, errOut := render(other, "--format", "nocloud-iso,flatcar=matchbox"); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if diff := cmp.Diff(snapshot(t, dir), snapshot(t, other)); diff != "" {
		t.Errorf("nocloud-iso,flatcar=matchbox made another tree:\n%s", diff)
	}
	// One packaging for every node names each it does not fit, and the
	// command that fits; the output is left as it was.
	before := snapshot(t, dir)
	for format, nodes := range map[string]string{
		"matchbox":    "etcd-1 (ubuntu: cloud-config), etcd-2 (ubuntu: cloud-config), etcd-3 (ubuntu: cloud-config)",
		"nocloud-iso": "docker-1 (flatcar: ignition, butane, coreos-cloudconfig), docker-2 (flatcar: ignition, butane, coreos-cloudconfig)",
	} {
		code, _, errOut := runCLI(t, "", "render", desc, "-o", dir, "--format", format)
		if code != ExitUsage || !strings.Contains(errOut, "format "+format+" does not apply to "+nodes+"; give each profile its own in one run: --format flatcar=matchbox,ubuntu=nocloud-iso ") {
			t.Errorf("--format %s: exit %d\n%s", format, code, errOut)
		}
	}
	if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
		t.Errorf("a refused render changed the output:\n%s", diff)
	}
}

// TestRenderMixedRefusals: every packaging's refusals in one run, and
// what --format PROFILE=... cannot say.
func TestRenderMixedRefusals(t *testing.T) {
	desc := strings.Replace(mustRead(t, "../../delivery/testdata/mixed.yaml"), `, mac: "52:54:00:88:00:12"`, "", 1)
	desc = strings.Replace(desc, `, mac: "52:54:00:88:00:22"`, "", 1)
	dir := filepath.Join(t.TempDir(), "out")
	code, _, errOut := runCLI(t, desc, "render", "-", "-o", dir, "--format", "flatcar=matchbox,ubuntu=config-drive")
	for _, want := range []string{"add `mac:` to etcd-2 in <stdin>", "matchbox needs --matchbox-url", "--flatcar-version", "`mac:` on docker-2 in <stdin>"} {
		if code != ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, want 2 naming %q:\n%s", code, want, errOut)
		}
	}
	for _, tc := range []struct{ format, want string }{
		{"flatcar=matchbox,flatcar=ignition", "--format: flatcar is given twice"},
		{"matchbox,ignition,ubuntu=cloud-config", "matchbox and ignition both serve the profiles not named"},
		{"ubuntu=floppy", `--format ubuntu=floppy: unknown format "floppy"`},
		{"ubuntu=vagrant", `--format ubuntu=vagrant: unknown format "vagrant"`},
		{"flatcar=nocloud-iso", "--format flatcar=nocloud-iso: profile flatcar does not read cloud-config; flatcar's nodes take ignition, butane, coreos-cloudconfig, matchbox"},
		{"flatcar=matchbox,", "give PROFILE=FORMAT items separated by commas"},
	} {
		if code, _, errOut := runCLI(t, desc, "render", "-", "-o", dir, "--format", tc.format); code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("--format %s: exit %d\n%s", tc.format, code, errOut)
		}
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("a refused render wrote the output")
	}
	code, help, _ := runCLI(t, "", "render", "--help")
	for _, want := range []string{"--format flatcar=matchbox,ubuntu=nocloud-iso", "A profile not named keeps what it gets without --format", "(--format nocloud-iso,flatcar=matchbox)"} {
		if code != ExitOK || !strings.Contains(help, want) {
			t.Errorf("render --help lacks %q", want)
		}
	}
}
