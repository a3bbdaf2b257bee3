package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY opens a pseudo-terminal and returns its terminal side, which a
// program sees as a terminal (as on a desktop), and its controller side.
func openPTY(t *testing.T) (terminal, controller *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatal(e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatal(e)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pts.Close() })
	return pts, ptmx
}

// TestBinaryNotToTerminal: gzip or a seed image printed with --node would
// garble a terminal; it is refused there and written to a file or pipe.
func TestBinaryNotToTerminal(t *testing.T) {
	pts, _ := openPTY(t)
	for _, args := range [][]string{
		{"--node", "etcd-01", "--encode", "gzip"},
		{"--node", "etcd-01", "--format", "nocloud-iso"},
		{"--node", "etcd-01", "--format", "ubuntu=nocloud-iso"},           // per profile
		{"--node", "etcd-01", "--format", "flatcar=ignition,nocloud-iso"}, // the rest
	} {
		all := append([]string{"render", seedPath(t), "--pki", testPKI(t)}, args...)
		var errb bytes.Buffer
		if code := Main(all, strings.NewReader(""), pts, &errb); code != ExitUsage || !strings.Contains(errb.String(), "is binary") || !strings.Contains(errb.String(), "redirect standard output to a file") {
			t.Errorf("%v to a terminal: exit %d\n%s", args, code, errb.String())
		}
		file := filepath.Join(t.TempDir(), "out")
		f, err := os.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		code := Main(all, strings.NewReader(""), f, &errb)
		f.Close()
		if data, _ := os.ReadFile(file); code != ExitOK || len(data) == 0 {
			t.Errorf("%v to a file: exit %d, %d bytes\n%s", args, code, len(data), errb.String())
		}
	}
	// Text goes to a terminal as ever.
	var errb bytes.Buffer
	if code := Main([]string{"render", seedPath(t), "--pki", testPKI(t), "--node", "etcd-01"}, strings.NewReader(""), pts, &errb); code != ExitOK {
		t.Errorf("cloud-config to a terminal: exit %d\n%s", code, errb.String())
	}
}

// TestInitKeepsAFile: init over an existing file keeps it and fails as a
// refusal (exit 1), not as a mistake on the command line.
func TestInitKeepsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(file, []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, msg := runCLI(t, "", "init", file)
	if data, _ := os.ReadFile(file); code != ExitInvalid || string(data) != "mine\n" || !strings.Contains(msg, "exists and was kept") {
		t.Errorf("init over a file: exit %d, file %q\n%s", code, data, msg)
	}
	if code, _, _ := runCLI(t, "", "init", "-f", file); code != ExitUsage {
		t.Errorf("-f is no short for --force (it is --format elsewhere): exit %d", code)
	}
	if code, _, msg := runCLI(t, "", "init", "--force", file); code != ExitOK {
		t.Errorf("init --force: exit %d\n%s", code, msg)
	}
}

// TestFindingsAsJSON: validate --json (and render --json) print every
// finding as data with its position, and the exit code says the verdict.
func TestFindingsAsJSON(t *testing.T) {
	var got findingsJSON
	decode := func(out string) {
		t.Helper()
		got = findingsJSON{}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
	}
	code, out, msg := runCLI(t, "", "validate", "--json", seedPath(t))
	decode(out)
	if code != ExitOK || !got.Valid || len(got.Findings) != 2 || msg != "" {
		t.Fatalf("seed: exit %d, %+v, stderr %q", code, got, msg)
	}
	f := got.Findings[0]
	if f.File != seedPath(t) || f.Line != 16 || f.Column != 8 || f.Path != "$.etcd.tls" || f.Severity != "warning" || !strings.Contains(f.Message, "plain HTTP") {
		t.Errorf("first finding %+v", f)
	}
	code, out, _ = runCLI(t, "", "validate", "--json", "--strict", seedPath(t))
	decode(out)
	if code != ExitInvalid || got.Valid || got.Summary != "2 warnings, fatal with --strict" {
		t.Errorf("strict: exit %d, %+v", code, got)
	}
	bad := "version: 1\ncluster: Bad_Name\nnodes:\n  - {name: a, ip: 10.0.0.1, roles: [etcd, docker]}\nssh_authorized_keys: []\n"
	code, out, _ = runCLI(t, bad, "validate", "--json", "-")
	decode(out)
	if code != ExitInvalid || got.Valid || len(got.Findings) == 0 || got.Findings[0].Line != 2 || got.Findings[0].Severity != "error" || got.File != "<stdin>" {
		t.Errorf("invalid: exit %d, %+v", code, got)
	}
	dir := filepath.Join(t.TempDir(), "out")
	code, out, msg = runCLI(t, "", "render", "--json", seedPath(t), "-o", dir)
	decode(out)
	if _, err := os.Stat(filepath.Join(dir, "etcd-01", "user-data")); code != ExitOK || !got.Valid || len(got.Findings) != 2 || err != nil {
		t.Errorf("render --json: exit %d, %+v, %v\n%s", code, got, err, msg)
	}
	if code, _, _ := runCLI(t, "", "render", "--json", seedPath(t), "--node", "etcd-01"); code != ExitUsage {
		t.Errorf("render --json --node: exit %d", code)
	}
}

// TestSelectionKeepsOthers: rendering some nodes into a folder that holds
// the others' output is refused (it would drop them without a word); one
// run gives each profile its format instead.
func TestSelectionKeepsOthers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mixed")
	args := func(more ...string) []string { return append([]string{"render", seedPath(t), "-o", dir}, more...) }
	if code, _, msg := runCLI(t, "", args("--nodes", "profile=flatcar", "--format", "butane")...); code != ExitOK {
		t.Fatalf("flatcar nodes into a new folder: exit %d\n%s", code, msg)
	}
	code, _, msg := runCLI(t, "", args("--nodes", "profile=ubuntu", "--format", "cloud-config")...)
	if code != ExitUsage || !strings.Contains(msg, "holds the output of docker-01, docker-02, docker-03, which this selection leaves out") {
		t.Errorf("ubuntu nodes over the flatcar ones: exit %d\n%s", code, msg)
	}
	if _, err := os.Stat(filepath.Join(dir, "docker-01", "config.bu")); err != nil {
		t.Errorf("the refused render touched the folder: %v", err)
	}
	if code, _, msg := runCLI(t, "", args("--format", "flatcar=butane,ubuntu=cloud-config")...); code != ExitOK {
		t.Fatalf("one run, each profile its format: exit %d\n%s", code, msg)
	}
	for _, f := range []string{"docker-01/config.bu", "etcd-01/user-data"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("one run: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "docker-01", "config.ign")); err == nil {
		t.Error("flatcar=butane rendered Ignition too")
	}
}
