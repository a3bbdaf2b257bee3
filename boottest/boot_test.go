//go:build boot

package boottest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/internal/testutil"
)

// Deadlines for the stages, sized for 3 TCG VMs on 2 cores (measured: the
// cluster is ready about 4 min after power-on; see README.md).
const (
	bootTimeout     = 20 * time.Minute
	shutdownTimeout = 3 * time.Minute
	rebootTimeout   = 10 * time.Minute
)

// testContext is cancelled on SIGINT/SIGTERM, so an interrupted run still
// goes through t.Cleanup and stops the VMs it started.
func testContext(t *testing.T) context.Context {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	t.Cleanup(stop)
	if d, ok := t.Deadline(); ok {
		// Fail with a report a minute before `go test -timeout` would
		// panic (a panic skips the cleanups).
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-time.Minute))
		t.Cleanup(cancel)
	}
	return ctx
}

// TestBoot boots the boot cluster from swarmboot's own user-data and checks
// it end to end, then breaks it: a Docker host is rebooted and must come
// back and re-register by itself; an etcd member (not the manager's node)
// is powered off and etcd must keep quorum while the manager still lists
// every running Docker host.
func TestBoot(t *testing.T) {
	ctx := testContext(t)
	total := time.Now()
	c := bootCluster(ctx, t, "testdata/cluster.yaml", "boot")
	desc := c.Desc

	// Reboot a Docker host that is not the manager: it must come back and
	// register again with no help (its old key expires first).
	victim := pickNode(desc, "docker", desc.Manager().Name, "")
	t.Run("reboot "+victim.Name, func(t *testing.T) {
		v := c.VMs[victim.Name]
		before, err := c.Check.SwarmRegistrations(ctx, c.Running("etcd"))
		if err != nil {
			t.Fatal(err)
		}
		down := time.Now()
		if err := v.Shutdown(shutdownTimeout); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s powered off cleanly in %.0fs", victim.Name, time.Since(down).Seconds())
		// Its key must expire first, or the old one would pass for the new.
		addr := c.engineAddr(victim)
		if err := c.WaitUnregistered(ctx, victim, 2*time.Minute, t.Logf); err != nil {
			t.Fatal(err)
		}
		t.Logf("registration of %s expired %.0fs after the power-off began", addr, time.Since(down).Seconds())
		if err := v.Start(ctx, c.NS); err != nil {
			t.Fatal(err)
		}
		ms, err := c.WaitReady(ctx, rebootTimeout, t.Logf, victim.Name)
		if err != nil {
			t.Fatalf("after reboot: %v", err)
		}
		after, err := c.Check.SwarmRegistrations(ctx, c.Running("etcd"))
		if err != nil {
			t.Fatal(err)
		}
		if after[addr].CreatedIndex <= before[addr].CreatedIndex {
			t.Fatalf("registration of %s was not written anew (createdIndex %d, before %d)",
				addr, after[addr].CreatedIndex, before[addr].CreatedIndex)
		}
		if err := Eventually(ctx, 2*time.Minute, "cluster steady after the reboot", t.Logf, c.CheckSteady); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s back %.0fs after power-on: %s", victim.Name, ms[victim.Name].Ready.Seconds(), ms[victim.Name])
	})

	// Power off an etcd member that is not the manager's node.
	victim = pickNode(desc, "etcd", desc.Manager().Name, victim.Name)
	t.Run("power off "+victim.Name, func(t *testing.T) {
		c.VMs[victim.Name].PowerOff()
		off := time.Now()
		// At once: quorum (a write through the remaining members), the
		// remaining members healthy, and the manager still serving every
		// running engine. It may still list the dead one for a while.
		err := Eventually(ctx, time.Minute, "quorum and the running engines with one member down", t.Logf,
			func(ctx context.Context) error {
				if err := c.Check.EtcdPut(ctx, c.Running("etcd"), "/boottest/quorum", time.Now().String()); err != nil {
					return err
				}
				for _, n := range c.Running("etcd") {
					if err := c.Check.EtcdHealthy(ctx, n); err != nil {
						return err
					}
				}
				return c.ManagerLists(ctx, true)
			})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s off: quorum kept and the manager lists the %d running engines, %.0fs after the power-off",
			victim.Name, len(c.Running("docker")), time.Since(off).Seconds())
		// Then the dead host drops out: its key expires after the TTL; the
		// manager lets go of it once discovery or its own health check says
		// so (measured: up to ~3 min, when its connections to the dead host
		// must time out).
		addr := c.engineAddr(victim)
		if err := c.WaitUnregistered(ctx, victim, 2*time.Minute, t.Logf); err != nil {
			t.Fatal(err)
		}
		t.Logf("registration of %s expired %.0fs after the power-off", addr, time.Since(off).Seconds())
		if err := Eventually(ctx, 6*time.Minute, "cluster steady without "+victim.Name, t.Logf, c.CheckSteady); err != nil {
			t.Fatal(err)
		}
		t.Logf("manager dropped %s %.0fs after the power-off", victim.Name, time.Since(off).Seconds())
	})
	t.Logf("TestBoot took %.0fs in all", time.Since(total).Seconds())
}

// TestBootSeparated boots the seed's separated topology (three etcd
// members, three Docker hosts, the manager on one of them) and checks it
// like TestBoot's first step.
func TestBootSeparated(t *testing.T) {
	ctx := testContext(t)
	bootCluster(ctx, t, "testdata/separated.yaml", "separated")
}

// bootCluster renders the description, boots one VM per node and waits
// until the cluster is steady and `docker info` on the manager counts every
// Docker host; it logs the timings.
func bootCluster(ctx context.Context, t *testing.T, description, name string) *Cluster {
	c, _, ms, clusterReady := bootAndWait(ctx, t, description, name)
	desc := c.Desc
	// The seed's own final check, with the docker CLI (CheckSteady asked
	// the manager's GET /info already). CI must have the CLI; elsewhere
	// the check is skipped without one.
	said := "(no docker CLI on this host)"
	if _, err := exec.LookPath("docker"); err == nil || testutil.InCI() {
		info, err := c.Check.DockerInfo(ctx)
		if err != nil {
			t.Fatalf("docker info on the manager: %v", err)
		}
		if want := fmt.Sprintf("Nodes: %d", len(desc.WithRole("docker"))); !containsLine(info, want) {
			t.Fatalf("docker -H tcp://manager info does not say %q:\n%s", want, info)
		}
		said = summarizeInfo(info)
	}
	t.Logf("%s: %d VMs, cluster ready %.0fs after power-on; docker info on the manager: %s",
		name, len(desc.Nodes), clusterReady.Seconds(), said)
	for _, n := range desc.Nodes {
		t.Logf("  %-8s %s", n.Name, ms[n.Name])
	}
	return c
}

// bootAndWait renders the description, boots one VM per node, waits until
// every node is ready and the cluster steady, and says how long that took
// from power-on.
func bootAndWait(ctx context.Context, t *testing.T, description, name string) (*Cluster, Prepared, map[string]*Milestones, time.Duration) {
	RequireTools(t)
	desc, err := LoadDescription(description)
	if err != nil {
		t.Fatal(err)
	}
	work := WorkDir(t, name)
	prep := Prepare(ctx, t, description, work)
	c := NewCluster(ctx, t, desc, prep, work)

	start := time.Now()
	if err := c.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	ms, err := c.WaitReady(ctx, bootTimeout, t.Logf)
	if err != nil {
		t.Fatalf("boot: %v", err)
	}
	ready := time.Since(start)
	if err := Eventually(ctx, 2*time.Minute, "cluster steady after boot", t.Logf, c.CheckSteady); err != nil {
		t.Fatal(err)
	}
	return c, prep, ms, ready
}

// pickNode returns the last node with role that is neither of the names.
func pickNode(d *Description, role, not1, not2 string) Node {
	nodes := d.WithRole(role)
	for i := len(nodes) - 1; i >= 0; i-- {
		if n := nodes[i]; n.Name != not1 && n.Name != not2 {
			return n
		}
	}
	panic(fmt.Sprintf("no %s node besides %s and %s", role, not1, not2))
}

func containsLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

// summarizeInfo picks the server version and node count out of docker info.
func summarizeInfo(info string) string {
	var out []string
	for _, l := range strings.Split(info, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "Server Version:") || strings.HasPrefix(l, "Nodes:") {
			out = append(out, l)
		}
	}
	return strings.Join(out, ", ")
}
