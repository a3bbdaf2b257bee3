//go:build boot

package boottest

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/render"
	"github.com/swarmboot/swarmboot/verify"
)

// shortValidity is how long the first renewal's certificates last: two
// pick-ups (a few minutes each on TCG) fit before their end, and the
// test then waits out the rest.
const shortValidity = 10 * time.Minute

// checkRenewal renews the certificates of a running TLS cluster the way
// an operator does (`swarmboot pki renew --force`, then `swarmboot pki
// publish`), twice. First every node gets certificates that end minutes
// from now (a copy of the description with tls.validity 10m: how long a
// TCG boot takes varies by minutes, so a validity fixed at render would
// leave the test waiting up to 20 minutes for it); then every node but
// one gets the description's. Each published node's agent must install
// its certificate (verify sees it served on every endpoint; each pick-up
// is logged), dockerd's restart must keep a container started through the
// manager running (same ID, same start), and the swarm must stay Healthy
// past the first renewal's not-after. The node left out of the second is
// the negative control: past its not-after verify finds its certificates
// expired, and once the manager reconnects (a third renewal, published to
// the manager's node only, restarts it) the manager refuses that node's
// engine, or has dropped it, its registration expired (its join cannot
// refresh it).
func checkRenewal(ctx context.Context, t *testing.T, c *Cluster) {
	desc := c.Desc
	manager := *desc.Manager()
	period := render.AgentPeriod(desc.TLS.RenewBefore)
	// A run at most two periods after publishing, and the restarts: on a
	// TCG VM the manager's node took over 4 minutes to restart docker and
	// both swarm units.
	pickUp := 2*period + 6*time.Minute

	// A long-running container, through the manager; it must survive its
	// engine's restarts.
	id, err := c.Check.DockerVia(ctx, manager, "run", "-d", "--name", "renewal-probe", "swarm:1.2.9",
		"join", "--heartbeat=1h", "--ttl=2h", "--addr=127.0.0.1:1", "etcd://127.0.0.1:1/renewal-probe")
	if err != nil {
		t.Fatalf("docker run -d through the manager: %v", err)
	}
	id = strings.TrimSpace(id)
	probe, err := c.Check.ManagerContainer(ctx, id)
	if err != nil || !probe.Running {
		t.Fatalf("the probe container: %+v %v", probe, err)
	}
	probeNode := nodeNamed(desc, probe.Node)
	before, err := c.Check.EngineContainer(ctx, probeNode, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("probe container %.12s runs on %s, started %s", id, probe.Node, before.StartedAt)

	var all, renewed []string
	stale := pickNode(desc, "docker", manager.Name, probe.Node)
	for _, n := range desc.Nodes {
		all = append(all, n.Name)
		if n.Name != stale.Name {
			renewed = append(renewed, n.Name)
		}
	}

	// Every node onto certificates that end soon: issued after the
	// render's, so each agent takes them though they end sooner.
	short, err := WithValidity(c.Prep.Description, c.WorkDir, shortValidity)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.swarmboot(ctx, "pki", "renew", "--force", short, "--pki", c.Prep.PKI); err != nil {
		t.Fatalf("pki renew: %v\n%s", err, out)
	}
	notAfter := c.publishAndPickUp(ctx, t, all, time.Time{})
	probeKept(ctx, t, c, probeNode, before)

	// The description's certificates, for every node but the stale one,
	// before those end.
	if _, err := c.Swarmboot(ctx, "pki", "renew", "--force"); err != nil {
		t.Fatal(err)
	}
	c.publishAndPickUp(ctx, t, renewed, notAfter)
	probeKept(ctx, t, c, probeNode, before)

	// Past the short not-after: the renewed nodes carry on, the other
	// serves an expired certificate.
	wait := time.Until(notAfter) + 30*time.Second
	t.Logf("waiting %s, past the first renewal's not-after (%s)", wait.Round(time.Second), notAfter.Format(time.TimeOnly))
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	err = Eventually(ctx, 2*time.Minute, "the renewed nodes healthy and "+stale.Name+" expired, past the first renewal's not-after", t.Logf, func(ctx context.Context) error {
		r, err := c.VerifyReport(ctx)
		if err != nil {
			return err
		}
		for _, ch := range r.Checks {
			if ch.Node != stale.Name && !ch.OK {
				return fmt.Errorf("%s %s: %s", ch.Node, ch.What, ch.Detail)
			}
		}
		if err := Expired(r, stale.Name); err != nil {
			return err
		}
		return c.managerLists(ctx, renewed, stale)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%.0fs past the first renewal's not-after: every renewed node healthy, the manager lists each renewed engine Healthy; %s serves its expired certificate (verify: %s)",
		time.Since(notAfter).Seconds(), stale.Name, CertChecks(mustReport(ctx, t, c), stale.Name)[0].Detail)
	probeKept(ctx, t, c, probeNode, before)

	// A third renewal, published to the manager's node alone: its agent
	// restarts the manager, which must then refuse the expired engine.
	if _, err := c.Swarmboot(ctx, "pki", "renew", "--force"); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Swarmboot(ctx, "pki", "publish", "--nodes", manager.Name); err != nil {
		t.Fatalf("pki publish: %v\n%s", err, out)
	}
	again := time.Now()
	want, err := c.PKICert(manager.Name)
	if err != nil {
		t.Fatal(err)
	}
	err = Eventually(ctx, pickUp, manager.Name+" serving its third renewal, and the manager refusing "+stale.Name, t.Logf, func(ctx context.Context) error {
		r, err := c.VerifyReport(ctx)
		if err != nil {
			return err
		}
		if err := PickedUp(r, manager.Name, want); err != nil {
			return err
		}
		nodes, _, err := c.Check.ManagerNodes(ctx)
		if err != nil {
			return err
		}
		listed := false
		for _, sn := range nodes {
			if sn.Addr != c.engineAddr(stale) {
				continue
			}
			listed = true
			if sn.Status != "Healthy" {
				t.Logf("%.0fs after the third publication, the restarted manager lists %s as %s: %s", time.Since(again).Seconds(), stale.Name, sn.Status, sn.Error)
				return nil
			}
		}
		// Or it is gone: its join can no longer refresh its key in etcd
		// with an expired certificate, so the key expired and the manager
		// dropped the engine.
		regs, err := c.Check.SwarmRegistrations(ctx, c.Running("etcd"))
		if err != nil {
			return err
		}
		if _, registered := regs[c.engineAddr(stale)]; !listed && !registered {
			t.Logf("%.0fs after the third publication, %s is out of the swarm: its registration expired and the restarted manager does not list it (%+v)",
				time.Since(again).Seconds(), stale.Name, nodes)
			return nil
		}
		return fmt.Errorf("the manager lists %s Healthy, or still has its registration: %+v", stale.Name, nodes)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.managerLists(ctx, renewed, stale); err != nil {
		t.Fatal(err)
	}
	probeKept(ctx, t, c, probeNode, before)
	for _, n := range renewed {
		if failed := FailedClusterUnits(c.VMs[n].ThisBoot(c.VMs[n].Journal())); len(failed) > 0 {
			t.Errorf("%s: the journal says %v failed", n, failed)
		}
	}
}

// publishAndPickUp publishes what the PKI holds for the nodes and waits
// until every one of them serves it on every endpoint, logging each
// pick-up; the nodes must pick it up before their installed certificates
// end (by: zero for the render's, which end long after). It returns the
// end of the published certificates.
func (c *Cluster) publishAndPickUp(ctx context.Context, t *testing.T, nodes []string, by time.Time) time.Time {
	t.Helper()
	budget := 2*render.AgentPeriod(c.Desc.TLS.RenewBefore) + 6*time.Minute
	if !by.IsZero() {
		if left := time.Until(by) - 30*time.Second; left < budget {
			budget = left
		}
		if budget < 2*time.Minute {
			t.Fatalf("the installed certificates end at %s: no time left to pick up renewed ones (the pick-ups before took too long for %s)", by.Format(time.TimeOnly), shortValidity)
		}
	}
	want := map[string]*x509.Certificate{}
	var end time.Time
	for _, n := range nodes {
		cert, err := c.PKICert(n)
		if err != nil {
			t.Fatal(err)
		}
		want[n], end = cert, cert.NotAfter
	}
	published := time.Now()
	out, err := c.Swarmboot(ctx, "pki", "publish", "--nodes", strings.Join(nodes, ","))
	if err != nil {
		t.Fatalf("pki publish: %v\n%s", err, out)
	}
	t.Logf("certificates until %s (%s from now) published: swarmboot pki publish --nodes %s:\n%s",
		end.Format(time.RFC3339), time.Until(end).Round(time.Second), strings.Join(nodes, ","), out)
	picked := map[string]bool{}
	err = Eventually(ctx, budget, "every published node serving its renewed certificate", t.Logf, func(ctx context.Context) error {
		r, err := c.VerifyReport(ctx)
		if err != nil {
			return err
		}
		var waiting []string
		for _, n := range nodes {
			if picked[n] {
				continue
			}
			if err := PickedUp(r, n, want[n]); err != nil {
				waiting = append(waiting, err.Error())
				continue
			}
			picked[n] = true
			t.Logf("%s serves its renewed certificate on every endpoint, %.0fs after publishing", n, time.Since(published).Seconds())
		}
		if len(waiting) > 0 {
			return fmt.Errorf("%s", strings.Join(waiting, "; "))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return end
}

// managerLists: the manager lists every renewed Docker host Healthy.
func (c *Cluster) managerLists(ctx context.Context, renewed []string, stale Node) error {
	nodes, _, err := c.Check.ManagerNodes(ctx)
	if err != nil {
		return err
	}
	status := map[string]string{}
	for _, sn := range nodes {
		status[sn.Addr] = sn.Status
	}
	for _, name := range renewed {
		n := nodeNamed(c.Desc, name)
		if n.Has("docker") && status[c.engineAddr(n)] != "Healthy" {
			return fmt.Errorf("the manager lists %s as %q", name, status[c.engineAddr(n)])
		}
	}
	return nil
}

// probeKept: the probe container still runs, the same one, never
// restarted.
func probeKept(ctx context.Context, t *testing.T, c *Cluster, n Node, before ContainerState) {
	t.Helper()
	now, err := c.Check.EngineContainer(ctx, n, before.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !now.Running || now.ID != before.ID || now.StartedAt != before.StartedAt {
		t.Fatalf("the probe container on %s: %+v, was %+v", n.Name, now, before)
	}
	t.Logf("probe container %.12s on %s still running, started %s", now.ID, n.Name, now.StartedAt)
}

func mustReport(ctx context.Context, t *testing.T, c *Cluster) *verify.Report {
	t.Helper()
	r, err := c.VerifyReport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func nodeNamed(d *Description, name string) Node {
	for _, n := range d.Nodes {
		if n.Name == name {
			return n
		}
	}
	panic("no node " + name)
}
