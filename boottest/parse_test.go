package boottest

import (
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
)

// The testdata answers were captured from a booted boot cluster.

func TestParseSwarmInfo(t *testing.T) {
	b, err := os.ReadFile("testdata/swarm-info.json")
	if err != nil {
		t.Fatal(err)
	}
	nodes, version, err := ParseSwarmInfo(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if version != "swarm/1.2.9" {
		t.Errorf("ServerVersion %q", version)
	}
	want := []SwarmNode{
		{Name: "node-1", Addr: "10.77.0.11:2375", Status: "Healthy"},
		{Name: "node-2", Addr: "10.77.0.12:2375", Status: "Healthy"},
		{Name: "node-3", Addr: "10.77.0.13:2375", Status: "Healthy"},
	}
	if !slices.Equal(nodes, want) {
		t.Errorf("nodes\n got %v\nwant %v", nodes, want)
	}
}

func TestParseRegistrations(t *testing.T) {
	b, err := os.ReadFile("testdata/etcd-v2-nodes.json")
	if err != nil {
		t.Fatal(err)
	}
	regs, err := ParseRegistrations(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(regs) != 3 || regs["10.77.0.12:2375"].CreatedIndex != 19 {
		t.Errorf("registrations %v", regs)
	}
	none, err := ParseRegistrations(`{"errorCode":100,"message":"Key not found","cause":"/swarm","index":11}`)
	if err != nil || len(none) != 0 {
		t.Errorf("missing key: %v, %v", none, err)
	}
	if _, err := ParseRegistrations(`{"errorCode":300,"message":"Raft Internal Error"}`); err == nil {
		t.Error("an etcd error passed for an empty listing")
	}
}

func TestFailedUnits(t *testing.T) {
	journal := []string{
		"[  110.06] systemd[1]: cloud-config.service: Failed with result 'exit-code'.",
		"[  110.10] systemd[1]: Failed to start cloud-config.service - Apply the settings specified in cloud-config.",
		"[  120.00] systemd[1]: swarm-join.service: Main process exited, code=exited, status=1/FAILURE",
		"[  121.00] systemd[1]: docker.service: Deactivated successfully.",
	}
	got := FailedUnits(journal)
	if want := []string{"cloud-config.service", "swarm-join.service"}; !slices.Equal(got, want) {
		t.Errorf("FailedUnits = %v, want %v", got, want)
	}
}

func TestDescriptionHostAddr(t *testing.T) {
	d, err := LoadDescription("testdata/cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	host, err := d.HostAddr()
	if err != nil {
		t.Fatal(err)
	}
	if host != netip.MustParsePrefix("10.77.0.1/24") {
		t.Errorf("host address %s", host)
	}
	if m := d.Manager(); m == nil || m.Name != "node-1" {
		t.Errorf("manager %v", m)
	}
	if got := d.EtcdEndpoints(d.WithRole("etcd")); got != "http://10.77.0.11:2379,http://10.77.0.12:2379,http://10.77.0.13:2379" {
		t.Errorf("endpoints %s", got)
	}
}

// The Ignition fixtures: a config swarmboot rendered for Flatcar and the
// agent's "[finished]" lines from the console of the VM that applied it.
func TestIgnitionLog(t *testing.T) {
	ops, err := IgnitionOps("testdata/ignition-config.ign")
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 10 { // 2 files, 2 units, 2 drop-ins, 4 enabled
		t.Errorf("%d ops: %v", len(ops), ops)
	}
	lines := readLines("testdata/ignition-console.log")
	if err := CheckIgnitionLog(lines, ops); err != nil {
		t.Fatal(err)
	}
	var without []string
	for _, l := range lines {
		if !strings.Contains(l, "docker.service.d/20-swarmboot-tcp.conf") {
			without = append(without, l)
		}
	}
	err = CheckIgnitionLog(without, ops)
	if err == nil || !strings.Contains(err.Error(), "docker.service.d/20-swarmboot-tcp.conf") {
		t.Errorf("a missing drop-in went unnoticed: %v", err)
	}
	if err := CheckIgnitionLog(lines[:len(lines)-1], ops); err == nil {
		t.Error("a missing success marker went unnoticed")
	}
}
