package cluster

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkLoad10k: decoding, each key's rules, defaults and the rules
// spanning keys, for a 10,000-node description (render's benchmarks have
// the same cluster), every node with a name of its own on its certificate.
func BenchmarkLoad10k(b *testing.B) {
	var s strings.Builder
	s.WriteString("version: 1\ncluster: big\nprofile: ubuntu\nnetwork: {prefix: 8, gateway: 10.0.0.1}\n" +
		"ssh_authorized_keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKZGePaSh4ubTK9UavI4Z5FLgPGTmdMKCwyyhocrgBfS ops@bench\"]\n" +
		"tls: {sans: [swarm.example.com]}\nnodes:\n")
	first := []string{"etcd", "etcd", "etcd", "docker, manager"} // then Docker hosts
	for i := range 10_000 {
		roles := "docker"
		if i < len(first) {
			roles = first[i]
		}
		fmt.Fprintf(&s, "  - {name: node-%05d, ip: 10.%d.%d.%d, roles: [%s], sans: [n%d.example.com]}\n", i, 1+i/65536, (i/256)%256, i%256, roles, i)
	}
	data := []byte(s.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, rep := Load("big.yaml", data); rep.IsFatal(false) {
			b.Fatal(rep)
		}
	}
}
