package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/internal/failpoint"
	"github.com/swarmboot/swarmboot/pki"
)

// step is one failpoint of a render and which time it is reached.
type step struct {
	name string
	n    int
}

// renderSteps runs a render in-process and lists the steps it reaches.
func renderSteps(t *testing.T, args ...string) []step {
	t.Helper()
	var steps []step
	seen := map[string]int{}
	failpoint.Hook = func(s string) error {
		seen[s]++
		steps = append(steps, step{s, seen[s]})
		return nil
	}
	defer func() { failpoint.Hook = nil }()
	if code, _, errOut := runCLI(t, "", args...); code != ExitOK {
		t.Fatalf("%v: exit %d\n%s", args, code, errOut)
	}
	return steps
}

// TestRenderStoppedAtEveryStep stops a render at each step of its
// transaction, by an injected failure and by SIGKILL, and checks: the PKI
// is as it was or fully committed (once the next run has completed what
// was decided), nothing is left behind, an output that is new names only
// certificates the PKI holds, no output holds the CA key, and the next
// render succeeds. Two renders: the first (the CA made), and one that
// issues a new node and re-issues a moved one.
func TestRenderStoppedAtEveryStep(t *testing.T) {
	first := t.TempDir()
	file := filepath.Join(first, "c.yaml")
	if err := os.WriteFile(file, []byte(mustRead(t, "../../examples/secure.yaml")), 0o644); err != nil {
		t.Fatal(err)
	}
	grown := t.TempDir()
	copyTree(t, first, grown)
	gfile := filepath.Join(grown, "c.yaml")
	if code, _, errOut := runCLI(t, "", "render", gfile, "-o", filepath.Join(grown, "out"), "--pki", filepath.Join(grown, "pki")); code != ExitOK {
		t.Fatal(errOut)
	}
	desc := strings.Replace(mustRead(t, gfile), "192.168.101.112", "192.168.101.122", 1)
	desc = strings.Replace(desc, "nodes:\n", "nodes:\n  - {name: docker-04, ip: 192.168.101.114, roles: [docker], profile: flatcar}\n", 1)
	if err := os.WriteFile(gfile, []byte(desc), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{first, grown} {
		name := map[string]string{first: "first render", grown: "grown render"}[base]
		t.Run(name, func(t *testing.T) {
			trial := t.TempDir()
			copyTree(t, base, trial)
			steps := renderSteps(t, "render", filepath.Join(trial, "c.yaml"), "-o", filepath.Join(trial, "out"), "--pki", filepath.Join(trial, "pki"))
			if len(steps) < 8 {
				t.Fatalf("a render reaches only %v", steps)
			}
			for _, s := range steps {
				for _, how := range []string{"fail", "kill"} {
					t.Run(fmt.Sprintf("%s %s #%d", how, s.name, s.n), func(t *testing.T) {
						stopAt(t, base, how, s)
					})
				}
			}
		})
	}
}

// stopAt copies base, stops a render of it at s, and checks what is left.
func stopAt(t *testing.T, base, how string, s step) {
	dir := t.TempDir()
	copyTree(t, base, dir)
	file, out, pkiDir := filepath.Join(dir, "c.yaml"), filepath.Join(dir, "out"), filepath.Join(dir, "pki")
	before := snapshot(t, pkiDir)
	outBefore := snapshot(t, out)
	cmd := child(t, []string{fmt.Sprintf("SWARMBOOT_TEST_FAILPOINT=%s:%s:%d", how, s.name, s.n)}, "render", file, "-o", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case how == "kill" && !ws.Signaled():
		t.Fatalf("not killed: %v\n%s", err, stderr.String())
	case how == "fail" && (cmd.ProcessState.ExitCode() != ExitInvalid || !strings.Contains(stderr.String(), "injected failure")):
		t.Fatalf("exit %v\n%s", err, stderr.String())
	}

	// The next run completes a decided commit before it reads anything.
	c, _, err := cluster.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r, err := pki.Status(c, pkiDir, time.Now())
	after := snapshot(t, pkiDir)
	switch {
	case len(before) == 0 && len(after) == 0:
		// A first render that stopped before its commit: no PKI.
	case fmt.Sprint(before) == fmt.Sprint(after):
		// Untouched.
	case err != nil || r.NeedsAction:
		t.Fatalf("the PKI is neither as it was nor committed: %v %+v", err, r)
	default:
		for p, v := range before {
			// client/env names the folder's absolute path, which the
			// copy changed.
			if !strings.Contains(p, "docker-02") && p != "client/env" && after[p] != v {
				t.Errorf("the commit changed %s, which it had no reason to", p)
			}
		}
	}
	if len(after) > 0 {
		noCAKey(t, out, keyBody(t, filepath.Join(pkiDir, "ca-key.pem")))
	}
	// An output that is new names the PKI's certificates.
	if now := snapshot(t, out); fmt.Sprint(now) != fmt.Sprint(outBefore) && len(now) > 0 {
		for _, node := range []string{"etcd-01", "docker-02"} {
			cert := keyBody(t, filepath.Join(pkiDir, "nodes", node, "cert.pem"))
			if !strings.Contains(fmt.Sprint(now), cert) {
				t.Errorf("the new output's %s does not carry the certificate the PKI holds", node)
			}
		}
	}
	if code, _, errOut := runCLI(t, "", "render", file, "-o", out, "--pki", pkiDir); code != ExitOK {
		t.Fatalf("the next render: exit %d\n%s", code, errOut)
	}
	noLeftovers(t, pkiDir)
	if r, err := pki.Status(c, pkiDir, time.Now()); err != nil || r.NeedsAction {
		t.Errorf("after the next render: %v %+v", err, r)
	}
}
