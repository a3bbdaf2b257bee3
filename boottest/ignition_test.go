//go:build boot

package boottest

import (
	"path/filepath"
	"testing"
)

// TestIgnition boots a node from swarmboot's Ignition output (profile
// flatcar, spec 3.3.0): QEMU hands the config over fw_cfg, the real
// Ignition agent applies it in the initramfs on first boot (platform qemu),
// and the node must then come up by itself as a one-node cluster — etcd
// member from the etcd-member drop-in, engine on TCP from the docker
// drop-in, swarm join and manage units enabled by Ignition's presets.
//
// The VM is the Debian test image standing in for Flatcar (see README.md):
// what is proven is that swarmboot's Ignition config is accepted and
// applied by the real agent and that the units it writes run.
func TestIgnition(t *testing.T) {
	ctx := testContext(t)
	c, prep, ms, ready := bootAndWait(ctx, t, Boot{Name: "ignition", Description: "testdata/ignition.yaml", Image: ImageBookworm})
	for _, n := range c.Desc.Nodes {
		ops, err := IgnitionOps(filepath.Join(prep.Rendered, n.Name, "config.ign"))
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckIgnitionLog(readLines(c.VMs[n.Name].Console()), ops); err != nil {
			t.Fatalf("%s: %v", n.Name, err)
		}
		t.Logf("%s: Ignition finished %d operations; %s", n.Name, len(ops), ms[n.Name])
	}
	t.Logf("Ignition node ready %.0fs after power-on", ready.Seconds())
}
