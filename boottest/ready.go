package boottest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// cloudInitDone is what cloud-init's final stage prints (to the journal).
const cloudInitDone = "finished at"

// WaitReady polls every running VM until each is ready — its etcd member
// healthy, its engine answering on TCP, its swarm registration in etcd and,
// on the manager, GET /info listing every running engine as Healthy — and
// records when each VM got to each stage, counted from its power-on. With
// names, only those VMs are awaited.
func (c *Cluster) WaitReady(ctx context.Context, timeout time.Duration, logf func(string, ...any), names ...string) (map[string]*Milestones, error) {
	ms := map[string]*Milestones{}
	for _, n := range c.Desc.Nodes {
		if c.VMs[n.Name].Running() && (len(names) == 0 || slices.Contains(names, n.Name)) {
			ms[n.Name] = &Milestones{}
		}
	}
	err := Eventually(ctx, timeout, "every VM ready", logf, func(ctx context.Context) error {
		var waiting []string
		// Registrations are read once a poll, and only while a node waits
		// for its own: every question is a TLS handshake on a VM that
		// shares two emulated cores with the others.
		var regs map[string]Registration
		var regErr error
		registrations := func() (map[string]Registration, error) {
			if regs == nil && regErr == nil {
				regs, regErr = c.Check.SwarmRegistrations(ctx, c.Running("etcd"))
			}
			return regs, regErr
		}
		for _, n := range c.Desc.Nodes {
			m := ms[n.Name]
			if m == nil {
				continue
			}
			v := c.VMs[n.Name]
			since := time.Since(v.Started)
			// mark asks ok only until the stage is reached: a stage once
			// reached stays so, and asking again only loads the VM.
			mark := func(d *time.Duration, ok func() bool) bool {
				if *d == 0 && ok() {
					*d = since
				}
				return *d != 0
			}
			// cloud-init's end is recorded, not required (Ignition nodes
			// have none; the checks below are what counts), also after a
			// node is ready.
			mark(&m.CloudInit, func() bool { return logSays(v, cloudInitDone) })
			if m.Ready != 0 {
				continue
			}
			ok := true
			if n.Has("etcd") && !mark(&m.Etcd, func() bool { return c.Check.EtcdHealthy(ctx, n) == nil }) {
				ok = false
			}
			if n.Has("docker") {
				if !mark(&m.Engine, func() bool { _, err := c.Check.DockerVersion(ctx, n); return err == nil }) {
					ok = false
				}
				if !mark(&m.Registered, func() bool { r, err := registrations(); _, in := r[c.engineAddr(n)]; return err == nil && in }) {
					ok = false
				}
			}
			if n.Has("manager") && !mark(&m.Manager, func() bool { return c.ManagerLists(ctx, false) == nil }) {
				ok = false
			}
			if ok {
				m.Ready = since
				logf("%s ready: %s", n.Name, m)
			} else {
				waiting = append(waiting, fmt.Sprintf("%s (%s)", n.Name, m))
			}
		}
		if len(waiting) > 0 {
			if regErr != nil {
				waiting = append(waiting, "registrations: "+regErr.Error())
			}
			return fmt.Errorf("waiting for %s", strings.Join(waiting, "; "))
		}
		return nil
	})
	return ms, err
}

func (c *Cluster) engineAddr(n Node) string {
	return fmt.Sprintf("%s:%d", n.IP, c.Desc.Docker.Port)
}

// ManagerLists checks the manager's view: every running Docker host listed
// and Healthy and, unless others is true, no other engine listed.
func (c *Cluster) ManagerLists(ctx context.Context, others bool) error {
	nodes, _, err := c.Check.ManagerNodes(ctx)
	if err != nil {
		return err
	}
	return c.listsRunning(nodes, others)
}

// ManagerListsVia is ManagerLists through one manager.
func (c *Cluster) ManagerListsVia(ctx context.Context, m Node) error {
	nodes, _, err := c.Check.ManagerNodesVia(ctx, m)
	if err != nil {
		return err
	}
	return c.listsRunning(nodes, false)
}

// DockerInfoLists is ManagerLists through the docker CLI: `docker info` on
// the manager (DockerInfo: --tlsverify with the operator's certificate
// where the manager uses TLS) must list every running Docker host, Healthy,
// and no other; it returns the CLI's output.
func (c *Cluster) DockerInfoLists(ctx context.Context) (string, error) {
	info, err := c.Check.DockerInfo(ctx)
	if err != nil {
		return "", err
	}
	return info, c.listsRunning(ParseDockerInfoNodes(info), false)
}

// listsRunning checks a manager's list of engines: every running Docker
// host listed and Healthy and, unless others is true, no other engine.
func (c *Cluster) listsRunning(nodes []SwarmNode, others bool) error {
	listed := map[string]SwarmNode{}
	var got []string
	for _, sn := range nodes {
		listed[sn.Addr] = sn
		got = append(got, sn.Addr)
	}
	slices.Sort(got)
	var want []string
	for _, n := range c.Running("docker") {
		addr := c.engineAddr(n)
		want = append(want, addr)
		sn, ok := listed[addr]
		if !ok {
			return fmt.Errorf("manager lists engines %v, not the running %s (%s)", got, n.Name, addr)
		}
		if sn.Status != "Healthy" {
			return fmt.Errorf("manager lists %s (%s) as %q", sn.Name, addr, sn.Status)
		}
	}
	if !others && len(got) != len(want) {
		return fmt.Errorf("manager lists engines %v, want only the running Docker hosts %v", got, want)
	}
	return nil
}

// CheckSteady asserts the cluster as a whole, once every running VM is
// ready: etcd's member list names every member (asked through the running
// ones) and each running member is healthy; every running engine answers;
// etcd holds one registration per running Docker host and no other; the
// manager lists exactly those engines, Healthy.
func (c *Cluster) CheckSteady(ctx context.Context) error {
	etcdUp := c.Running("etcd")
	members, err := c.Check.EtcdMembers(ctx, etcdUp)
	if err != nil {
		return fmt.Errorf("etcd member list: %w", err)
	}
	var want []string
	for _, n := range c.Desc.WithRole("etcd") {
		want = append(want, n.Name)
	}
	slices.Sort(want)
	if !slices.Equal(members, want) {
		return fmt.Errorf("etcd member list names %v, want %v", members, want)
	}
	for _, n := range etcdUp {
		if err := c.Check.EtcdHealthy(ctx, n); err != nil {
			return fmt.Errorf("etcd member %s not healthy: %w", n.Name, err)
		}
	}
	for _, n := range c.Running("docker") {
		if _, err := c.Check.DockerVersion(ctx, n); err != nil {
			return fmt.Errorf("engine of %s: %w", n.Name, err)
		}
	}
	regs, err := c.Check.SwarmRegistrations(ctx, etcdUp)
	if err != nil {
		return fmt.Errorf("swarm registrations: %w", err)
	}
	var wantRegs, gotRegs []string
	for _, n := range c.Running("docker") {
		wantRegs = append(wantRegs, c.engineAddr(n))
	}
	for addr := range regs {
		gotRegs = append(gotRegs, addr)
	}
	slices.Sort(wantRegs)
	slices.Sort(gotRegs)
	if !slices.Equal(gotRegs, wantRegs) {
		return fmt.Errorf("etcd holds swarm registrations %v under %s, want %v", gotRegs, c.Desc.Swarm.Path, wantRegs)
	}
	return c.ManagerLists(ctx, false)
}

// WaitUnregistered waits until the node's swarm registration is gone from
// etcd (its TTL ran out).
func (c *Cluster) WaitUnregistered(ctx context.Context, n Node, timeout time.Duration, logf func(string, ...any)) error {
	addr := c.engineAddr(n)
	return Eventually(ctx, timeout, "registration of "+addr+" expires", logf, func(ctx context.Context) error {
		regs, err := c.Check.SwarmRegistrations(ctx, c.Running("etcd"))
		if err != nil {
			return err
		}
		if _, ok := regs[addr]; ok {
			return fmt.Errorf("%s still registered", addr)
		}
		return nil
	})
}

// restartSigns are what systemd logs when a swarm unit's container exits
// or is started again: a crash-looping join or manager shows them.
var restartSigns = []string{
	"swarm-join.service: Main process exited", "swarm-join.service: Scheduled restart job",
	"swarm-manage.service: Main process exited", "swarm-manage.service: Scheduled restart job",
}

// SteadyAcross checks that the cluster stays as it is for d (at least one
// registration TTL): every running Docker host stays registered at every
// look, its key is refreshed meanwhile, no VM's journal says a swarm
// container exited or was restarted, and at the end the cluster is steady
// (CheckSteady). A join that crash-loops and re-registers passes a single
// look, not this one.
func (c *Cluster) SteadyAcross(ctx context.Context, d time.Duration, logf func(string, ...any)) error {
	before, err := c.Check.SwarmRegistrations(ctx, c.Running("etcd"))
	if err != nil {
		return err
	}
	marks := map[string]int64{}
	for name, v := range c.VMs {
		marks[name] = v.LogSize(v.Journal())
	}
	logf("watching the cluster for %s (registration TTL %s)", d, c.Desc.TTL)
	if err := c.StayRegistered(ctx, d, c.Running("docker")); err != nil {
		return err
	}
	if err := c.CheckSteady(ctx); err != nil {
		return err
	}
	if err := c.Refreshed(ctx, before, c.Running("docker")); err != nil {
		return err
	}
	for name, v := range c.VMs {
		log := v.LogSince(v.Journal(), marks[name])
		for _, sign := range restartSigns {
			if strings.Contains(log, sign) {
				return fmt.Errorf("%s: the journal says %q within %s of a steady cluster", name, sign, d)
			}
		}
	}
	return nil
}

// StayRegistered looks at the registrations every PollInterval for d: each
// host must be registered at every look.
func (c *Cluster) StayRegistered(ctx context.Context, d time.Duration, hosts []Node) error {
	end := time.Now().Add(d)
	for {
		regs, err := c.Check.SwarmRegistrations(ctx, c.Running("etcd"))
		if err != nil {
			return err
		}
		for _, n := range hosts {
			if _, ok := regs[c.engineAddr(n)]; !ok {
				return fmt.Errorf("%s (%s) dropped out of the registrations", n.Name, c.engineAddr(n))
			}
		}
		if time.Now().After(end) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(PollInterval):
		}
	}
}

// Refreshed checks that each host is registered and its key has been
// written since before (refreshed through whichever etcd members are up).
func (c *Cluster) Refreshed(ctx context.Context, before map[string]Registration, hosts []Node) error {
	now, err := c.Check.SwarmRegistrations(ctx, c.Running("etcd"))
	if err != nil {
		return err
	}
	for _, n := range hosts {
		addr := c.engineAddr(n)
		was, is := before[addr], now[addr]
		switch {
		case is.Addr == "":
			return fmt.Errorf("%s (%s) is no longer registered", n.Name, addr)
		case is.ModifiedIndex <= was.ModifiedIndex:
			return fmt.Errorf("%s (%s) was not refreshed (modifiedIndex %d)", n.Name, addr, is.ModifiedIndex)
		}
	}
	return nil
}
