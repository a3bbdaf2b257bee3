package swarmmodel

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBinary builds boottest/cmd/swarm as the boot test's image needs it
// (CGO_ENABLED=0: no ELF interpreter, nothing from a libc, since it runs
// alone in a scratch image) and checks that it registers and then exits 0
// on SIGTERM, as `docker stop` of the swarm-join container sends.
func TestBinary(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "swarm")
	build := exec.Command(goTool, "build", "-o", bin, "github.com/swarmboot/swarmboot/boottest/cmd/swarm")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has an ELF interpreter: not static", bin)
		}
	}
	f.Close()
	if out, err := exec.Command(bin, "--version").Output(); err != nil || string(out) != "swarm version 1.2.9 (model)\n" {
		t.Errorf("--version: %q %v", out, err)
	}

	etcd := startEtcd(t, 1)
	cl := etcd.client()
	var out lockedBuffer
	join := exec.Command(bin, "join", "--addr=10.77.0.11:2375", "--heartbeat=1s", "--ttl=3s", etcd.url("bin"))
	join.Env = []string{} // a scratch image has no environment to speak of
	join.Stdout, join.Stderr = &out, &out
	join.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := join.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- join.Wait() }()
	t.Cleanup(func() { join.Process.Kill() })
	eventually(t, 5*time.Second, "the binary's registration", func() (bool, string) {
		_, ok, _ := tryGet(cl, "/bin/docker/swarm/nodes/10.77.0.11:2375")
		return ok, out.String()
	})
	join.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit on SIGTERM: %v\n%s", err, out.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no exit 5 s after SIGTERM:\n%s", out.String())
	}
	if !strings.Contains(out.String(), `msg="Registering on the discovery service every 1s..."`) {
		t.Errorf("output:\n%s", out.String())
	}
}
