//go:build boot

package boottest

import (
	"context"
	"crypto/x509"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/verify"
)

// shortValidity is how long the first renewal's certificates last: both
// pick-ups fit before their end (on two TCG cores, with two nodes
// restarting their engines at once, the first took 3.5 minutes and the
// second, the manager's node among them, 7.5; with all three at once the
// manager's node took over 10), and the test then waits out the rest.
const shortValidity = 15 * time.Minute

// checkRenewal renews the certificates of a running TLS cluster the way
// an operator does (`swarmboot pki renew --force`, then `swarmboot pki
// publish`), twice. First the Docker hosts other than the manager's node
// get certificates that end minutes from now (a copy of the description
// with tls.validity 15m: how long a TCG boot takes varies by ten minutes,
// so a validity fixed at render would leave the test waiting that long,
// or expire before the renewal on a slow day); then every node but one
// (the manager's node among them) gets the description's. Each published
// node's agent must install its certificate (verify sees the PKI's
// certificate served on every endpoint; each pick-up is logged),
// dockerd's restarts must keep a container started through the manager
// running (same ID, same start), and past the first renewal's not-after
// the renewed nodes must be healthy, the manager listing each engine
// Healthy. The node left out of the second renewal is the negative
// control: past that not-after verify finds every endpoint of it serving
// an expired certificate.
func checkRenewal(ctx context.Context, t *testing.T, c *Cluster) {
	desc := c.Desc
	manager := *desc.Manager()

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

	// first: every node but the manager's (which restarts the most, so it
	// renews once); renewed: every node but the stale one.
	var first, renewed []string
	stale := pickNode(desc, "docker", manager.Name, probe.Node)
	for _, n := range desc.Nodes {
		if n.Name != manager.Name {
			first = append(first, n.Name)
		}
		if n.Name != stale.Name {
			renewed = append(renewed, n.Name)
		}
	}

	// Certificates that end soon: issued after the render's, so each
	// agent takes them though they end sooner. At most 6 minutes for it,
	// and 9 left for the second renewal.
	short, err := WithValidity(c.Prep.Description, c.WorkDir, shortValidity)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.swarmboot(ctx, "pki", "renew", "--force", short, "--pki", c.Prep.PKI); err != nil {
		t.Fatalf("pki renew: %v\n%s", err, out)
	}
	want, notAfter := c.pkiCerts(t, first)
	c.publishAndPickUp(ctx, t, want, min(6*time.Minute, time.Until(notAfter)-9*time.Minute))
	probeKept(ctx, t, c, probeNode, before)

	// The description's certificates, for every node but the stale one,
	// picked up before the short ones end.
	if _, err := c.Swarmboot(ctx, "pki", "renew", "--force"); err != nil {
		t.Fatal(err)
	}
	want, _ = c.pkiCerts(t, renewed)
	c.publishAndPickUp(ctx, t, want, time.Until(notAfter)-30*time.Second)
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
		return c.managerLists(ctx, renewed)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%.0fs past the first renewal's not-after: every renewed node healthy, the manager lists each renewed engine Healthy; %s serves its expired certificate (verify: %s)",
		time.Since(notAfter).Seconds(), stale.Name, CertChecks(mustReport(ctx, t, c), stale.Name)[0].Detail)
	probeKept(ctx, t, c, probeNode, before)
	for _, n := range renewed {
		if failed := FailedClusterUnits(c.VMs[n].ThisBoot(c.VMs[n].Journal())); len(failed) > 0 {
			t.Errorf("%s: the journal says %v failed", n, failed)
		}
	}
}

// pkiCerts are the certificates the PKI holds for the nodes, and the end
// of the last of them.
func (c *Cluster) pkiCerts(t *testing.T, nodes []string) (map[string]*x509.Certificate, time.Time) {
	t.Helper()
	want := map[string]*x509.Certificate{}
	var end time.Time
	for _, n := range nodes {
		cert, err := c.PKICert(n)
		if err != nil {
			t.Fatal(err)
		}
		want[n] = cert
		if cert.NotAfter.After(end) {
			end = cert.NotAfter
		}
	}
	return want, end
}

// publishAndPickUp publishes the nodes' certificates (want: what the PKI
// holds for each) and waits up to budget until every one of them serves
// its own on every endpoint, logging each pick-up.
func (c *Cluster) publishAndPickUp(ctx context.Context, t *testing.T, want map[string]*x509.Certificate, budget time.Duration) {
	t.Helper()
	if budget < 2*time.Minute {
		t.Fatalf("%s left to pick certificates up: the installed ones end too soon (the pick-ups before took too long for %s)", budget.Round(time.Second), shortValidity)
	}
	nodes := slices.Sorted(maps.Keys(want))
	published := time.Now()
	out, err := c.Swarmboot(ctx, "pki", "publish", "--nodes", strings.Join(nodes, ","))
	if err != nil {
		t.Fatalf("pki publish: %v\n%s", err, out)
	}
	t.Logf("swarmboot pki publish --nodes %s:\n%s", strings.Join(nodes, ","), out)
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
}

// managerLists: the manager lists every renewed Docker host Healthy.
func (c *Cluster) managerLists(ctx context.Context, renewed []string) error {
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
