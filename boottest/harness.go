package boottest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Cluster is a booted (or booting) set of VMs, one per node of the
// description, on one bridge in a private namespace.
type Cluster struct {
	Desc    *Description
	NS      *Netns
	VMs     map[string]*VM // by node name
	Check   *Checker
	WorkDir string
	Prep    Prepared // how it was rendered: the description, the PKI, swarmboot
	// PredictableNames: the VMs keep udev's predictable NIC names.
	PredictableNames bool
}

// Prepared is what a boot needs from the host side: the image and each
// node's rendered user-data directory.
type Prepared struct {
	Image       Image
	Rendered    string // DIR/<node>/{user-data,meta-data,network-config}
	PKI         string // the render's --pki: the operator's client material is in PKI/client
	Swarmboot   string // the swarmboot binary that rendered it (and verifies)
	Description string // the description's absolute path
}

// Prepare builds (or finds cached) the swarm archive and the VM image
// variant and renders the description with swarmboot. It runs outside the
// namespace: building the image needs the Debian mirror.
func Prepare(ctx context.Context, t testing.TB, description, variant, workDir string) Prepared {
	t.Helper()
	cache := Env(EnvCache, DefaultCache)
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	archive, err := SwarmArchive(ctx, "..", cache)
	if err != nil {
		t.Fatalf("swarm image archive: %v", err)
	}
	t.Logf("swarm archive %s ready in %s", archive, time.Since(start).Round(time.Second))

	start = time.Now()
	img, err := BuildImage(ctx, ".", cache, archive, variant)
	if err != nil {
		t.Fatalf("VM image %s: %v", variant, err)
	}
	t.Logf("VM image %s (%s) ready in %s", variant, img.Dir, time.Since(start).Round(time.Second))

	swarmboot := filepath.Join(workDir, "swarmboot")
	if err := BuildSwarmboot(ctx, "..", swarmboot); err != nil {
		t.Fatalf("building swarmboot: %v", err)
	}
	rendered, pkiDir := os.Getenv(EnvRendered), os.Getenv(EnvPKI)
	if rendered == "" {
		rendered, pkiDir = filepath.Join(workDir, "rendered"), filepath.Join(workDir, "pki")
		start = time.Now()
		if err := Render(ctx, swarmboot, description, rendered, pkiDir); err != nil {
			t.Fatalf("swarmboot render: %v", err)
		}
		t.Logf("rendered %s into %s (PKI in %s) in %s", description, rendered, pkiDir, time.Since(start).Round(time.Second))
	} else {
		t.Logf("using user-data rendered beforehand in %s ($%s), PKI %q ($%s)", rendered, EnvRendered, pkiDir, EnvPKI)
	}
	abs, err := filepath.Abs(description)
	if err != nil {
		t.Fatal(err)
	}
	return Prepared{Image: img, Rendered: rendered, PKI: pkiDir, Swarmboot: swarmboot, Description: abs}
}

// WorkDir makes the run's directory. It is removed when the test passes
// and kept (its path logged) when it fails, for the VMs' full logs.
func WorkDir(t testing.TB, name string) string {
	t.Helper()
	if dir := os.Getenv(EnvWork); dir != "" {
		dir = filepath.Join(dir, name)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	dir, err := os.MkdirTemp("", "swarmboot-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("VM logs kept in %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return dir
}

// NewCluster makes the namespace, the bridge and one VM per node (seed ISO
// included), without starting them. Cleanup stops every VM and the
// namespace, and on failure prints each VM's console and journal.
func NewCluster(ctx context.Context, t testing.TB, desc *Description, prep Prepared, workDir string, predictableNames bool) *Cluster {
	t.Helper()
	ns, err := NewNetns()
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{Desc: desc, NS: ns, VMs: map[string]*VM{}, WorkDir: workDir, Prep: prep, PredictableNames: predictableNames,
		Check: &Checker{NS: ns, Desc: desc, Client: filepath.Join(prep.PKI, "client")}}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range c.Desc.Nodes { // the grown description, if it grew
				if v := c.VMs[n.Name]; v != nil {
					t.Log("\n" + Diagnose(v))
				}
			}
		}
		c.Stop()
	})
	if desc.UsesTLS() && prep.PKI == "" {
		t.Fatalf("%s uses TLS: set $%s to the PKI its user-data was rendered with", desc.File, EnvPKI)
	}
	host, err := desc.HostAddr()
	if err != nil {
		t.Fatal(err)
	}
	if err := ns.SetupBridge(ctx, host); err != nil {
		t.Fatal(err)
	}
	for _, n := range desc.Nodes {
		if err := c.addVM(ctx, n.Name, prep.Rendered); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// addVM makes the VM of a node from its rendered folder, on the bridge,
// without starting it.
func (c *Cluster) addVM(ctx context.Context, name, rendered string) error {
	dir := filepath.Join(c.WorkDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	v := &VM{Name: name, Index: len(c.VMs) + 1, Dir: dir, Image: c.Prep.Image, PredictableNames: c.PredictableNames}
	if err := attachConfig(ctx, v, filepath.Join(rendered, name)); err != nil {
		return err
	}
	c.VMs[name] = v
	return nil
}

// addVMWithDrive adds a VM that boots with a drive swarmboot packed (an
// OpenStack config drive) as its only configuration.
func (c *Cluster) addVMWithDrive(name, drive string) error {
	if _, err := os.Stat(drive); err != nil {
		return err
	}
	dir := filepath.Join(c.WorkDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	c.VMs[name] = &VM{Name: name, Index: len(c.VMs) + 1, Dir: dir, Image: c.Prep.Image, PredictableNames: c.PredictableNames, Seed: drive}
	return nil
}

// Stop kills every VM this cluster started and the namespace holder.
func (c *Cluster) Stop() {
	for _, v := range c.VMs {
		v.Kill()
	}
	c.NS.Close()
}

// StartAll powers every VM on.
func (c *Cluster) StartAll(ctx context.Context) error {
	for _, n := range c.Desc.Nodes {
		if err := c.VMs[n.Name].Start(ctx, c.NS); err != nil {
			return err
		}
	}
	return nil
}

// Running returns the nodes whose VM is up.
func (c *Cluster) Running(role string) []Node {
	var out []Node
	for _, n := range c.Desc.WithRole(role) {
		if c.VMs[n.Name].Running() {
			out = append(out, n)
		}
	}
	return out
}

// logSays reports whether the VM's console or journal says s since its
// last power-on.
func logSays(v *VM, s string) bool {
	return strings.Contains(v.ThisBoot(v.Console()), s) || strings.Contains(v.ThisBoot(v.Journal()), s)
}

// Milestones are the moments, after power-on, a VM reached each stage.
type Milestones struct {
	CloudInit  time.Duration // cloud-init's final stage reported "finished" (if it runs)
	Etcd       time.Duration // its etcd member answered endpoint health
	Engine     time.Duration // its engine answered GET /version on TCP
	Registered time.Duration // its swarm registration appeared in etcd
	Manager    time.Duration // (manager) GET /info listed every engine
	Ready      time.Duration // all of the above that apply
}

func (m Milestones) String() string {
	f := func(d time.Duration) string {
		if d == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0fs", d.Seconds())
	}
	return fmt.Sprintf("cloud-init %6s  etcd %6s  engine %6s  registered %6s  manager %6s  READY %6s",
		f(m.CloudInit), f(m.Etcd), f(m.Engine), f(m.Registered), f(m.Manager), f(m.Ready))
}

// attachConfig hands a node's rendered config to its VM the way its target
// system reads it: an Ignition config through QEMU's fw_cfg (the qemu
// platform, as on Flatcar/FCOS; cloud-init is switched off, as it is absent
// there), anything else as a NoCloud seed ISO.
func attachConfig(ctx context.Context, v *VM, nodeDir string) error {
	ign := filepath.Join(nodeDir, "config.ign")
	if _, err := os.Stat(ign); err == nil {
		v.Extra = append(v.Extra, "-fw_cfg", "name=opt/com.coreos/config,file="+ign)
		// No cloud-init and no interactive first-boot wizard, as on Flatcar.
		v.Append = "cloud-init=disabled systemd.firstboot=off"
		return nil
	}
	v.Seed = filepath.Join(v.Dir, "seed.iso")
	return SeedISO(ctx, nodeDir, v.Seed)
}
