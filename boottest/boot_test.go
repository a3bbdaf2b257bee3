//go:build boot

package boottest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/internal/testutil"
)

// Deadlines for the stages, sized for 3 TCG VMs on 2 cores (measured: the
// cluster was ready 4 min after power-on in 2026-11, and the Docker 29
// cluster up to 19 min on a busy day in 2026-12; see README.md).
const (
	bootTimeout     = 30 * time.Minute
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

// TestBoot boots the boot cluster (three nodes with every role, the
// manager on node-1) from swarmboot's own user-data, gated on `swarmboot
// verify`, and checks it end to end. Its VMs keep udev's predictable NIC
// names (no net.ifnames=0) and the description names no interface, so
// the static addresses reach NICs named ens3 and the like through the
// profile's NIC names; that it stays steady across a
// registration TTL; then operates it: a Docker host is rebooted and must
// come back and re-register by itself; a fourth host is added to the
// description and booted alone, and joins; the first etcd member of the
// discovery URL (node-1, also the manager's node) is powered off and the
// surviving hosts must keep their registrations fresh through the other
// members.
func TestBoot(t *testing.T) {
	ctx := testContext(t)
	total := time.Now()
	c := bootCluster(ctx, t, Boot{Name: "boot", Description: "testdata/cluster.yaml", Image: ImageBookworm, PredictableNames: true})
	desc := c.Desc
	steadyAcrossTTL(ctx, t, c)

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

	// Grow the swarm: a Docker host added to the description is booted on
	// its own and joins the running cluster; no other node's user-data
	// changes.
	t.Run("grow", func(t *testing.T) {
		added, err := c.Grow(ctx, "testdata/cluster-grown.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if len(added) != 1 {
			t.Fatalf("grown description adds %v, want one node", added)
		}
		if r, _, err := c.Verify(ctx, 0); err != nil || r.Healthy {
			t.Fatalf("verify against the grown description must fail before %s boots: %v %v", added[0], err, r)
		}
		start := time.Now()
		if err := c.VMs[added[0]].Start(ctx, c.NS); err != nil {
			t.Fatal(err)
		}
		ms, err := c.WaitReady(ctx, bootTimeout, t.Logf, added[0])
		if err != nil {
			t.Fatal(err)
		}
		logNICNames(t, c, added...)
		// Its only drive was the config drive: cloud-init must say it
		// read that (cloud-final's last line names the datasource).
		journal, err := os.ReadFile(c.VMs[added[0]].Journal())
		if err != nil {
			t.Fatal(err)
		}
		ds := regexp.MustCompile(`Datasource DataSourceConfigDrive \[[^\]]*\]\[source=[^\]]+\]`).Find(journal)
		if ds == nil {
			t.Fatalf("%s: cloud-init did not name the ConfigDrive datasource in the journal", added[0])
		}
		t.Logf("%s booted from swarmboot's config drive: %s", added[0], ds)
		r, table, err := c.Verify(ctx, 3*time.Minute)
		if err != nil || !r.Healthy {
			t.Fatalf("after growing: %v %s\n%s", err, Failing(r), table)
		}
		t.Logf("%s joined %.0fs after power-on (%s); every other node's user-data unchanged; swarmboot verify:\n%s",
			added[0], time.Since(start).Seconds(), ms[added[0]], table)
	})

	// The discovery URL's first member is the manager's node here: with it
	// gone, nothing serves the swarm API, but every surviving join must
	// go on refreshing its key through the other members.
	first := desc.WithRole("etcd")[0]
	t.Run("power off "+first.Name+", the first etcd member", func(t *testing.T) {
		powerOffFirstMember(ctx, t, c, first)
	})
	t.Logf("TestBoot took %.0fs in all", time.Since(total).Seconds())
}

// TestBootSeparated boots the seed's separated topology (three etcd
// members, three Docker hosts, replicated managers on two of them), checks
// it like TestBoot's first step and across a TTL, then powers off the
// first etcd member of the discovery URL (the managers must go on serving
// every engine, whose keys stay fresh) and the primary manager's node (the
// replica must take over and drop it).
func TestBootSeparated(t *testing.T) {
	ctx := testContext(t)
	c := bootCluster(ctx, t, Boot{Name: "separated", Description: "testdata/separated.yaml", Image: ImageForky})
	desc := c.Desc
	steadyAcrossTTL(ctx, t, c)

	first := desc.WithRole("etcd")[0]
	t.Run("power off "+first.Name+", the first etcd member", func(t *testing.T) {
		powerOffFirstMember(ctx, t, c, first)
	})
	// Two managers (docker-01, docker-02) elected a primary through etcd.
	// Its node is powered off: the replica must take over, and the swarm's
	// API through it must list every remaining engine and drop the dead one.
	t.Run("power off the primary manager's node", func(t *testing.T) {
		managers := desc.WithRole("manager")
		if len(managers) != 2 {
			t.Fatalf("the separated cluster needs two managers, has %d", len(managers))
		}
		roles := managerRoles(ctx, t, c, managers)
		primary, replica := managers[0], managers[1]
		if roles[replica.Name] == "primary" {
			primary, replica = replica, primary
		}
		if roles[primary.Name] != "primary" || roles[replica.Name] != "replica" {
			t.Fatalf("want one primary and one replica, have %v", roles)
		}
		c.VMs[primary.Name].PowerOff()
		off := time.Now()
		err := Eventually(ctx, 3*time.Minute, replica.Name+" primary, listing every running engine", t.Logf, func(ctx context.Context) error {
			if role, err := c.Check.ManagerRole(ctx, replica); err != nil || role != "primary" {
				return fmt.Errorf("%s is %q (%v)", replica.Name, role, err)
			}
			return c.ManagerListsVia(ctx, replica)
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("fail-over: %s (replica) became primary and lists every running engine Healthy %.0fs after %s (primary) was powered off",
			replica.Name, time.Since(off).Seconds(), primary.Name)
		if err := c.WaitUnregistered(ctx, primary, 2*c.Desc.TTL, t.Logf); err != nil {
			t.Fatal(err)
		}
		info, err := c.Check.DockerInfoVia(ctx, replica)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("Nodes: %d", len(c.Running("docker"))); !containsLine(info, want) {
			t.Fatalf("docker info through %s does not say %q:\n%s", replica.Name, want, info)
		}
		t.Logf("%s's registration expired %.0fs after the power-off; docker info through %s: %s",
			primary.Name, time.Since(off).Seconds(), replica.Name, summarizeInfo(info))
	})
}

// steadyAcrossTTL checks that the booted cluster stays steady for one
// registration TTL and a bit: a crash-looping join fails here.
func steadyAcrossTTL(ctx context.Context, t *testing.T, c *Cluster) {
	t.Helper()
	start := time.Now()
	if err := c.SteadyAcross(ctx, c.Desc.TTL+10*time.Second, t.Logf); err != nil {
		t.Fatalf("not steady across a registration TTL: %v", err)
	}
	t.Logf("steady across %.0fs: no registration expired, every one refreshed, no swarm container restarted", time.Since(start).Seconds())
}

// powerOffFirstMember pulls the plug on the first etcd member of the
// discovery URL (the test used to spare it, so a URL naming only one
// member would have passed). Quorum must hold through the others, and
// every surviving Docker host must keep its registration fresh across a
// TTL; where the manager survives it must list every running engine.
func powerOffFirstMember(ctx context.Context, t *testing.T, c *Cluster, first Node) {
	t.Helper()
	before, err := c.Check.SwarmRegistrations(ctx, c.Running("etcd"))
	if err != nil {
		t.Fatal(err)
	}
	c.VMs[first.Name].PowerOff()
	off := time.Now()
	err = Eventually(ctx, 2*time.Minute, "quorum with the first member down", t.Logf, func(ctx context.Context) error {
		if err := c.Check.EtcdPut(ctx, c.Running("etcd"), "/boottest/quorum", time.Now().String()); err != nil {
			return err
		}
		for _, n := range c.Running("etcd") {
			if err := c.Check.EtcdHealthy(ctx, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s off: quorum kept through the other members, %.0fs after the power-off", first.Name, time.Since(off).Seconds())
	// For more than a TTL every surviving host must stay registered, its
	// key refreshed meanwhile through the remaining members.
	survivors := c.Running("docker")
	if err := c.StayRegistered(ctx, c.Desc.TTL+10*time.Second, survivors); err != nil {
		t.Fatalf("with %s down: %v", first.Name, err)
	}
	if err := c.Refreshed(ctx, before, survivors); err != nil {
		t.Fatalf("with %s down: %v", first.Name, err)
	}
	t.Logf("%d surviving Docker hosts kept their registrations fresh for %.0fs without %s",
		len(survivors), time.Since(off).Seconds(), first.Name)
	if c.VMs[c.Desc.Manager().Name].Running() {
		if err := Eventually(ctx, 2*time.Minute, "the manager lists every running engine", t.Logf,
			func(ctx context.Context) error { return c.ManagerLists(ctx, false) }); err != nil {
			t.Fatal(err)
		}
		t.Logf("the manager lists every running engine, Healthy, without %s", first.Name)
	}
}

// Boot is one boot: a description booted on an image variant.
type Boot struct {
	Name        string // names the run's directory
	Description string // testdata/*.yaml
	Image       string // an image variant (Image*)
	// PredictableNames boots without net.ifnames=0: udev names the NICs
	// (ens3), and every VM must say it did.
	PredictableNames bool
}

// bootCluster renders the description, boots one VM per node and waits
// until the cluster is steady and `docker info` on the manager counts every
// Docker host; it logs the timings.
func bootCluster(ctx context.Context, t *testing.T, b Boot) *Cluster {
	c, _, ms, clusterReady := bootAndWait(ctx, t, b)
	name := b.Name
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
	form := "plain"
	if desc.UsesTLS() {
		form = "TLS"
	}
	t.Logf("%s (%s): %d VMs, cluster ready %.0fs after power-on; docker info on the manager: %s",
		name, form, len(desc.Nodes), clusterReady.Seconds(), said)
	for _, n := range desc.Nodes {
		t.Logf("  %-8s %s", n.Name, ms[n.Name])
	}
	// A clean first boot: no unit of the cluster failed on the way.
	for _, n := range desc.Nodes {
		if failed := FailedClusterUnits(c.VMs[n.Name].ThisBoot(c.VMs[n.Name].Journal())); len(failed) > 0 {
			t.Errorf("%s: the journal of its first boot says %v failed", n.Name, failed)
		}
	}
	if b.PredictableNames {
		var names []string
		for _, n := range desc.Nodes {
			names = append(names, n.Name)
		}
		logNICNames(t, c, names...)
	}
	return c
}

// logNICNames says which name udev gave each VM's NIC; a VM whose NIC
// kept its kernel name (eth0) fails: the boot would not prove that the
// static address reaches a predictably named NIC.
func logNICNames(t *testing.T, c *Cluster, nodes ...string) {
	t.Helper()
	for _, name := range nodes {
		nics := c.VMs[name].NICNames()
		if len(nics) == 0 || strings.HasPrefix(nics[0], "eth") {
			t.Fatalf("%s: no NIC renamed from its kernel name (%v); predictable names are off", name, nics)
		}
		how := "the profile's NIC names"
		if n := nodeNamed(c.Desc, name); n.MAC != "" {
			how = "its MAC"
		}
		t.Logf("%s: its NIC is %s (udev's predictable name), addressed through %s", name, nics[0], how)
	}
}

// bootAndWait renders the description, boots one VM per node, waits until
// every node is ready and the cluster steady, and says how long that took
// from power-on.
func bootAndWait(ctx context.Context, t *testing.T, b Boot) (*Cluster, Prepared, map[string]*Milestones, time.Duration) {
	RequireTools(t)
	desc, err := LoadDescription(b.Description)
	if err != nil {
		t.Fatal(err)
	}
	work := WorkDir(t, b.Name)
	prep := Prepare(ctx, t, b.Description, b.Image, work)
	c := NewCluster(ctx, t, desc, prep, work, b.PredictableNames)

	start := time.Now()
	if err := c.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	ms, err := c.WaitReady(ctx, bootTimeout, t.Logf)
	if err != nil {
		t.Fatalf("boot: %v", err)
	}
	ready := time.Since(start)
	// The operator's own check gates every boot: swarmboot verify, run on
	// the segment with the operator's certificate.
	r, table, err := c.Verify(ctx, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Healthy {
		t.Fatalf("swarmboot verify: unhealthy: %s\n%s", Failing(r), table)
	}
	t.Logf("swarmboot verify, %.0fs after power-on:\n%s", time.Since(start).Seconds(), table)
	if err := Eventually(ctx, 2*time.Minute, "cluster steady after boot", t.Logf, c.CheckSteady); err != nil {
		t.Fatal(err)
	}
	checkEtcdTuned(t, c, prep)
	return c, prep, ms, ready
}

// etcdTookVariable is etcd's line (3.4's text and 3.6's JSON alike) for a
// setting it read from its environment.
var etcdTookVariable = regexp.MustCompile(`recognized and used environment variable.*ETCD_HEARTBEAT_INTERVAL`)

// checkEtcdTuned: where a node's user-data carries the operator's etcd
// drop-in (testdata/snippets/slow-etcd.yaml, merged as a snippet), its etcd
// must have read it. Without it, the etcd members of VMs sharing two
// emulated cores elect leaders over and over, and the boot fails on time.
func checkEtcdTuned(t *testing.T, c *Cluster, prep Prepared) {
	t.Helper()
	for _, n := range c.Desc.WithRole("etcd") {
		ud, err := os.ReadFile(filepath.Join(prep.Rendered, n.Name, "user-data"))
		if err != nil || !bytes.Contains(ud, []byte("ETCD_HEARTBEAT_INTERVAL")) {
			continue
		}
		if !etcdTookVariable.MatchString(c.VMs[n.Name].ThisBoot(c.VMs[n.Name].Journal())) {
			t.Errorf("%s: its user-data sets ETCD_HEARTBEAT_INTERVAL (a snippet's drop-in), but etcd's journal does not say it read it", n.Name)
		}
	}
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

// TestBootDocker29 boots three forky VMs whose engine is Docker 29, which
// refuses the API version classic swarm pins (1.31) unless told otherwise.
// Every engine must report the floor swarmboot's drop-in sets, and the
// manager must list each one Healthy (a Pending engine still counts in
// `Nodes:`, so the count alone proves nothing); then the cluster must stay
// so across a registration TTL. It is the TLS cluster (swarmboot's
// defaults): every check above went over mutual TLS, and then the seed's
// end state must hold through `docker --tlsverify ... info` and the
// cluster must refuse clients without a certificate of its CA, and plain
// http. Then the subtest renewal renews its certificates, twice, while it
// runs, and waits past their end (checkRenewal).
func TestBootDocker29(t *testing.T) {
	ctx := testContext(t)
	c := bootCluster(ctx, t, Boot{Name: "docker29", Description: "testdata/docker29.yaml", Image: ImageForkyDocker29})
	for _, n := range c.Desc.WithRole("docker") {
		v, err := c.Check.DockerVersion(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: engine %s, API %s, minimum API %s", n.Name, v.Version, v.APIVersion, v.MinAPIVersion)
		if v.MinAPIVersion != "1.24" || !apiAtLeast(v.APIVersion, 1, 52) {
			t.Errorf("%s: want a Docker 29 engine (API >= 1.52) whose floor the drop-in lowered to 1.24, got API %s, minimum %s",
				n.Name, v.APIVersion, v.MinAPIVersion)
		}
	}
	steadyAcrossTTL(ctx, t, c)
	t.Run("TLS", func(t *testing.T) { checkTLS(ctx, t, c) })
	t.Run("renewal", func(t *testing.T) { checkRenewal(ctx, t, c) })
}

// checkTLS asserts, on a booted TLS cluster, the seed's end state over TLS
// (the docker CLI with --tlsverify and the operator's certificate lists
// every Docker host Healthy through the manager) and that the cluster
// refuses a client without a certificate and one with another CA's on an
// engine (2376), the manager (8333) and an etcd member (2379), and plain
// http to etcd and to an engine; each refusal right after the operator's
// own request to the same server succeeded.
func checkTLS(ctx context.Context, t *testing.T, c *Cluster) {
	if !c.Desc.Docker.TLS || !c.Desc.Etcd.TLS {
		t.Fatalf("%s is not the TLS cluster (docker tls %v, etcd tls %v)", c.Desc.File, c.Desc.Docker.TLS, c.Desc.Etcd.TLS)
	}
	info, err := c.DockerInfoLists(ctx)
	if err != nil {
		t.Fatalf("docker --tlsverify -H tcp://manager info: %v\n%s", err, info)
	}
	t.Logf("docker --tlsverify (operator's certificate) -H tcp://manager info: %s, every Docker host Healthy", summarizeInfo(info))
	seedLastStep(ctx, t, c)

	other, err := OtherCA(filepath.Join(c.WorkDir, "other-pki"))
	if err != nil {
		t.Fatal(err)
	}
	engine := pickNode(c.Desc, "docker", c.Desc.Manager().Name, "")
	member := pickNode(c.Desc, "etcd", engine.Name, "")
	for _, r := range c.Check.TLSRefusals(engine, member, other) {
		said, err := c.Check.Refused(ctx, r)
		if err != nil {
			t.Error(err)
			continue
		}
		t.Logf("refused, %s (%s): %s", r.What, r.URL, said)
	}
}

// seedLastStep is the seed's last step, "other Docker commands, like
// docker run, docker ps, also work" through the manager: the docker CLI
// runs a container there (the manager places it on an engine, which runs
// it and hands its output back) and then lists every node's containers,
// each named node/name as swarm 1.2.9 names them.
func seedLastStep(ctx context.Context, t *testing.T, c *Cluster) {
	manager := *c.Desc.Manager()
	out, err := c.Check.DockerVia(ctx, manager, "run", "--rm", c.Desc.Swarm.Image, "--version")
	if err != nil || out != "swarm version 1.2.9 (model)\n" {
		t.Fatalf("docker run --rm %s --version through the manager: %v\n%q", c.Desc.Swarm.Image, err, out)
	}
	t.Logf("docker run --rm %s --version through the manager: %s", c.Desc.Swarm.Image, strings.TrimSpace(out))
	ps, err := c.Check.DockerVia(ctx, manager, "ps", "-a", "--format", "{{.Names}}")
	if err != nil {
		t.Fatalf("docker ps -a through the manager: %v\n%s", err, ps)
	}
	names := strings.Fields(ps)
	for _, n := range c.Desc.WithRole("docker") {
		if !slices.Contains(names, n.Name+"/swarm-join") {
			t.Errorf("docker ps -a through the manager lacks %s/swarm-join: %v", n.Name, names)
		}
	}
	t.Logf("docker ps -a through the manager: %s", strings.Join(names, " "))
}

// TestBootPackages boots the path users take by default: the image has no
// etcd and no Docker, and cloud-init's packages: installs them at first
// boot from the image's only apt source, a local repository.
func TestBootPackages(t *testing.T) {
	ctx := testContext(t)
	c := bootCluster(ctx, t, Boot{Name: "packages", Description: "testdata/packages.yaml", Image: ImageForkyLocalRepo})
	for _, n := range c.Desc.Nodes {
		if log := c.VMs[n.Name].ThisBoot(c.VMs[n.Name].Journal()); !strings.Contains(log, "Setting up docker-cli") {
			t.Errorf("%s: the journal does not show docker-cli being installed at boot", n.Name)
		}
	}
	steadyAcrossTTL(ctx, t, c)
}

// managerRoles asks each manager what it is; with t set a manager that
// does not answer fails the test, without it the role is "".
func managerRoles(ctx context.Context, t *testing.T, c *Cluster, managers []Node) map[string]string {
	roles := map[string]string{}
	for _, m := range managers {
		role, err := c.Check.ManagerRole(ctx, m)
		if err != nil && t != nil {
			t.Fatal(err)
		}
		roles[m.Name] = role
	}
	return roles
}

// apiAtLeast reports whether the API version "1.N" is at least major.minor.
func apiAtLeast(v string, major, minor int) bool {
	var a, b int
	if _, err := fmt.Sscanf(v, "%d.%d", &a, &b); err != nil {
		return false
	}
	return a > major || a == major && b >= minor
}
