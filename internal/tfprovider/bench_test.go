package tfprovider

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// seedTopology is the seed's cluster (examples/seed.yaml, or secure.yaml
// with TLS) grown to n nodes of the same shape: its three Ubuntu etcd
// members, then Flatcar Docker hosts, the first of them the manager, in
// a /16 around the seed's addresses. n = 6 is the seed itself.
func seedTopology(t testing.TB, n int, tls bool) string {
	t.Helper()
	name := "seed.yaml"
	if tls {
		name = "secure.yaml"
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
	must(t, err)
	if n == 6 {
		return string(data)
	}
	head, _, ok := strings.Cut(string(data), "nodes:\n")
	if !ok || !strings.Contains(head, "prefix: 24") {
		t.Fatalf("%s changed shape: no nodes: or prefix: 24", name)
	}
	var b strings.Builder
	b.WriteString(strings.Replace(head, "prefix: 24", "prefix: 16", 1))
	b.WriteString("nodes:\n")
	for i := range 3 {
		fmt.Fprintf(&b, "  - {name: etcd-%02d, ip: 192.168.101.%d, roles: [etcd]}\n", i+1, 101+i)
	}
	for i := range n - 3 {
		roles := "docker"
		if i == 0 {
			roles = "docker, manager"
		}
		fmt.Fprintf(&b, "  - {name: docker-%04d, ip: 192.168.%d.%d, roles: [%s], profile: flatcar}\n", i+1, 102+i/200, 10+i%200, roles)
	}
	return b.String()
}

// BenchmarkRead is a data-source read as Terraform makes it (validate,
// then read, through the provider's protocol 6 server, the state
// decoded) of the seed's topology with target aws, as the example module
// reads it: the seed's 6 nodes and 1,000 nodes of its shape, in the
// seed's plain form and with TLS (the PKI rendered first, outside the
// timing). cpu-ms/op is the process's CPU time (user and system, every
// goroutine) per read: on shared machines it moves less than the wall time.
//
//	go test ./internal/tfprovider -run '^$' -bench Read -benchtime 10x
func BenchmarkRead(b *testing.B) {
	for _, c := range []struct {
		name  string
		nodes int
		tls   bool
	}{{"seed-6", 6, false}, {"seed-1000", 1000, false}, {"tls-6", 6, true}, {"tls-1000", 1000, true}} {
		b.Run(c.name, func(b *testing.B) {
			file := write(b, b.TempDir(), "cluster.yaml", seedTopology(b, c.nodes, c.tls))
			if c.tls {
				render(b, file)
			}
			p := newProvider(b)
			a := args{"path": file, "target": "aws"}
			if got, _ := p.mustRead(b, a); len(got.Nodes) != c.nodes {
				b.Fatalf("%d nodes, want %d", len(got.Nodes), c.nodes)
			}
			start := cpuTime(b)
			for b.Loop() {
				if _, diags := p.read(b, a); hasError(diags) {
					b.Fatal(diagText(diags))
				}
			}
			b.ReportMetric(float64((cpuTime(b)-start).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the CPU time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
