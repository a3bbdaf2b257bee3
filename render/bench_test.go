package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/internal/consumers"
	"github.com/swarmboot/swarmboot/profiles"
)

// bigDescription is a cluster of n nodes: 3 etcd members, the rest Docker
// hosts (the first also the manager), all on profile.
func bigDescription(n int, profile string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\ncluster: big\nprofile: %s\nnetwork: {prefix: 8, gateway: 10.0.0.1}\n", profile)
	b.WriteString("ssh_authorized_keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKZGePaSh4ubTK9UavI4Z5FLgPGTmdMKCwyyhocrgBfS ops@example\"]\nnodes:\n")
	for i := 0; i < n; i++ {
		role := "docker"
		switch {
		case i < 3:
			role = "etcd"
		case i == 3:
			role = "docker, manager"
		}
		fmt.Fprintf(&b, "  - {name: node-%05d, ip: 10.%d.%d.%d, roles: [%s]}\n", i, 1+i/65536, (i/256)%256, i%256, role)
	}
	return []byte(b.String())
}

// benchRender is the whole pipeline of `swarmboot render`, without the
// disk: load and validate the YAML, plan, emit every node.
func benchRender(b *testing.B, profile string, format profiles.Format) {
	data := bigDescription(10_000, profile)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var total int
	for b.Loop() {
		c, rep := cluster.Load("big.yaml", data)
		if err := rep.Err(false); err != nil {
			b.Fatal(err)
		}
		jobs := AllJobs(c)
		for i := range jobs {
			jobs[i].Formats = []profiles.Format{format}
		}
		outs, err := Render(c, Options{Jobs: jobs, TLS: testTLS(c)})
		if err != nil {
			b.Fatal(err)
		}
		total = 0
		for _, o := range outs {
			total += len(o.Artifacts)
		}
	}
	b.ReportMetric(float64(total), "files")
}

func BenchmarkRender10kCloudConfig(b *testing.B) { benchRender(b, "ubuntu", profiles.CloudConfig) }
func BenchmarkRender10kIgnition(b *testing.B)    { benchRender(b, "flatcar", profiles.Ignition) }

// BenchmarkIgnitionPerNode and BenchmarkButaneTranslatePerNode compare
// building one node's Ignition directly with translating its Butane
// through Butane, the design's reason for building Ignition types.
func BenchmarkIgnitionPerNode(b *testing.B) {
	p := benchPlan(b)
	for b.Loop() {
		if _, err := Emit(p, profiles.Ignition); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkButaneTranslatePerNode(b *testing.B) {
	p := benchPlan(b)
	bu, err := Emit(p, profiles.Butane)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := consumers.Butane(bu); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPlan(b *testing.B) *Plan {
	c := mustLoad(b, string(bigDescription(8, "flatcar")))
	plans, err := Plans(c, Options{TLS: testTLS(c)})
	if err != nil {
		b.Fatal(err)
	}
	return plans[3]
}
