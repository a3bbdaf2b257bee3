package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bigDescription is a Flatcar cluster of n nodes: three etcd members, one
// manager, the rest Docker hosts; plain turns TLS off.
func bigDescription(n int, plain bool) string {
	var b strings.Builder
	b.WriteString("version: 1\ncluster: big\nprofile: flatcar\nnetwork: {prefix: 16, gateway: 10.1.0.1}\n")
	if plain {
		b.WriteString("etcd: {tls: false}\ndocker: {tls: false}\n")
	}
	b.WriteString("nodes:\n")
	for i := range n {
		roles := "docker"
		switch {
		case i < 3:
			roles = "etcd"
		case i == 3:
			roles = "docker, manager"
		}
		fmt.Fprintf(&b, "  - {name: n%05d, ip: 10.1.%d.%d, roles: [%s]}\n", i, 2+i/250, 1+i%250, roles)
	}
	return b.String()
}

// BenchmarkRenderProcess runs the swarmboot binary as users do, on a
// 10,000-node Flatcar description, the PKI on disk (/var/tmp) and the
// output on tmpfs (/dev/shm): the first TLS render (the CA and 10,000
// certificates issued), a render that reuses them, and the plain form.
// It reports wall time per render, CPU time and the peak RSS of the
// process.
//
//	go test ./internal/cli -run '^$' -bench RenderProcess -benchtime 3x
func BenchmarkRenderProcess(b *testing.B) {
	const nodes = 10000
	bin := filepath.Join(b.TempDir(), "swarmboot")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/swarmboot").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	disk, err := os.MkdirTemp("/var/tmp", "swarmboot-bench-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(disk)
	shm := "/dev/shm"
	if _, err := os.Stat(shm); err != nil {
		shm = b.TempDir()
	}
	outRoot, err := os.MkdirTemp(shm, "swarmboot-bench-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(outRoot)
	desc, plain := filepath.Join(disk, "big.yaml"), filepath.Join(disk, "plain.yaml")
	os.WriteFile(desc, []byte(bigDescription(nodes, false)), 0o644)
	os.WriteFile(plain, []byte(bigDescription(nodes, true)), 0o644)
	pkiDir, out := filepath.Join(disk, "pki"), filepath.Join(outRoot, "out")

	run := func(b *testing.B, file string) *os.ProcessState {
		b.Helper()
		cmd := exec.Command(bin, "render", file, "-o", out, "--pki", pkiDir)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, msg)
		}
		return cmd.ProcessState
	}
	measure := func(b *testing.B, file string, before func()) {
		var peak int64
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			before()
			b.StartTimer()
			st := run(b, file)
			cpu += st.UserTime() + st.SystemTime()
			peak = max(peak, st.SysUsage().(*syscall.Rusage).Maxrss) // KiB on Linux
		}
		b.ReportMetric(float64(peak)/1024, "peak-MiB")
		b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	}
	fresh := func() { os.RemoveAll(pkiDir); os.RemoveAll(out) }
	b.Run("first", func(b *testing.B) { measure(b, desc, fresh) })
	b.Run("again", func(b *testing.B) {
		fresh()
		run(b, desc)
		measure(b, desc, func() {})
	})
	b.Run("plain", func(b *testing.B) { measure(b, plain, fresh) })
}
