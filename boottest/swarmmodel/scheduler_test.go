package swarmmodel

import (
	"errors"
	"math/rand/v2"
	"testing"
)

func sn(name string, containers int, health int64) schedNode {
	return schedNode{name: name, addr: "10.0.0.1:2375", containers: containers, health: health, totalCPUs: 2, totalMemory: 2 << 30}
}

func pick(t *testing.T, s scheduler, nodes []schedNode, req resourceRequest) string {
	t.Helper()
	n, err := s.selectNode(nodes, req)
	if err != nil {
		t.Fatalf("selectNode: %v", err)
	}
	return n.name
}

var defaultFilters = filterNames

// TestSpread: the engine with the fewest containers; a recent failure
// weighs more than containers; ties go to the first name in natural order.
func TestSpread(t *testing.T) {
	spread := scheduler{strategy: "spread", filters: defaultFilters}
	tests := []struct {
		name  string
		nodes []schedNode
		want  string
	}{
		{"fewest containers", []schedNode{sn("node-01", 3, 100), sn("node-02", 1, 100), sn("node-03", 2, 100)}, "node-02"},
		{"stopped containers count too", []schedNode{sn("node-01", 0, 100), sn("node-02", 1, 100)}, "node-01"},
		{"tie: natural name order", []schedNode{sn("node-10", 1, 100), sn("node-9", 1, 100), sn("node-11", 1, 100)}, "node-9"},
		{"tie: same name, address order", []schedNode{
			{name: "n", addr: "10.0.0.2:2375", health: 100, totalCPUs: 1, totalMemory: 1},
			{name: "n", addr: "10.0.0.1:2375", health: 100, totalCPUs: 1, totalMemory: 1}}, "n"},
		{"a recent failure outweighs containers", []schedNode{sn("node-01", 0, 50), sn("node-02", 5, 100)}, "node-02"},
		{"unhealthy engines are filtered out", []schedNode{sn("node-01", 0, 0), sn("node-02", 9, 100)}, "node-02"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := spread.selectNode(tc.nodes, resourceRequest{})
			if err != nil || n.name != tc.want {
				t.Fatalf("picked %v (%v), want %s", n, err, tc.want)
			}
			if tc.name == "tie: same name, address order" && n.addr != "10.0.0.1:2375" {
				t.Errorf("picked %s, want the lower address", n.addr)
			}
		})
	}
}

// TestResources: CpuShares is a number of CPUs to swarm; nodes too small
// are skipped; spread takes the least used share, binpack the most used.
func TestResources(t *testing.T) {
	small := sn("small", 0, 100)
	small.totalCPUs, small.totalMemory = 1, 1<<30
	busy := sn("busy", 5, 100)
	busy.usedCPUs, busy.usedMemory = 1, 1<<30
	idle := sn("idle", 5, 100)
	spread := scheduler{strategy: "spread", filters: defaultFilters}
	binpack := scheduler{strategy: "binpack", filters: defaultFilters}
	nodes := []schedNode{small, busy, idle}
	if got := pick(t, spread, nodes, resourceRequest{cpus: 2}); got != "idle" {
		t.Errorf("spread, 2 CPUs: %s, want idle (small has 1 CPU, busy has 1 of 2 reserved)", got)
	}
	if got := pick(t, spread, nodes, resourceRequest{memory: 512 << 20}); got != "idle" {
		t.Errorf("spread, 512 MiB: %s, want idle (memory score 25, against 50 and 75; containers only break ties)", got)
	}
	if got := pick(t, binpack, nodes, resourceRequest{memory: 512 << 20}); got != "busy" {
		t.Errorf("binpack, 512 MiB: %s, want busy (memory score 75)", got)
	}
	if got := pick(t, binpack, []schedNode{sn("a", 1, 100), sn("b", 3, 100)}, resourceRequest{}); got != "b" {
		t.Errorf("binpack tie on weight: %s, want b (most containers)", got)
	}
	if _, err := spread.selectNode(nodes, resourceRequest{cpus: 3}); !errors.Is(err, errNoResources) {
		t.Errorf("3 CPUs: %v, want %v", err, errNoResources)
	}
	if errNoResources.Error() != "no resources available to schedule container" {
		t.Errorf("message %q", errNoResources)
	}
}

// TestNoNode: swarm's errors when nothing can take the container.
func TestNoNode(t *testing.T) {
	spread := scheduler{strategy: "spread", filters: defaultFilters}
	for _, nodes := range [][]schedNode{nil, {sn("node-01", 0, 0)}} {
		_, err := spread.selectNode(nodes, resourceRequest{})
		if err == nil || err.Error() != "No healthy node available in the cluster" {
			t.Errorf("%d nodes: %v", len(nodes), err)
		}
	}
	noHealth := scheduler{strategy: "spread", filters: []string{"constraint"}}
	if _, err := noHealth.selectNode(nil, resourceRequest{}); err == nil || err.Error() != "No nodes available in the cluster" {
		t.Errorf("without the health filter: %v", err)
	}
	// Without the health filter an unhealthy engine can be picked, last.
	if got := pick(t, noHealth, []schedNode{sn("node-01", 0, 0)}, resourceRequest{}); got != "node-01" {
		t.Errorf("without the health filter: %s", got)
	}
	if got := pick(t, noHealth, []schedNode{sn("node-01", 0, 0), sn("node-02", 9, 100)}, resourceRequest{}); got != "node-02" {
		t.Errorf("without the health filter, healthy first: %s", got)
	}
}

// TestRandom: every healthy engine gets containers, no unhealthy one does.
func TestRandom(t *testing.T) {
	s := scheduler{strategy: "random", filters: defaultFilters, rand: rand.New(rand.NewPCG(1, 2))}
	nodes := []schedNode{sn("a", 0, 100), sn("b", 0, 100), sn("c", 0, 100), sn("down", 0, 0)}
	seen := map[string]int{}
	for i := 0; i < 60; i++ {
		seen[pick(t, s, nodes, resourceRequest{})]++
	}
	if seen["down"] > 0 || seen["a"] == 0 || seen["b"] == 0 || seen["c"] == 0 {
		t.Errorf("random placements %v", seen)
	}
}
