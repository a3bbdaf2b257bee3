package profiles_test

import (
	"slices"
	"strings"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/profiles"
	"github.com/swarmboot/swarmboot/render"
)

const agentService = "swarmboot-cert-renew.service"

// checkAgent: every node with TLS gets the certificate agent, and what it
// relies on holds on the system: each command its script runs is there
// (or comes with the packages the node gets); it renews the very file
// etcd reads its certificate from, never a credential (systemd's copy,
// made when etcd starts); it restarts etcd exactly where etcd does not
// read its certificate again for each connection; and the engine it
// restarts keeps its containers (--live-restore).
func (s *subject) checkAgent() {
	svc := s.serviceOf(agentService)
	if !s.c.UsesTLS() {
		if svc != nil {
			s.errorf("%s on a node without TLS", agentService)
		}
		return
	}
	if svc == nil {
		s.errorf("TLS is on but the node gets no %s", agentService)
		return
	}
	if _, ok := s.v.units["swarmboot-cert-renew.timer"]; !ok {
		s.errorf("%s has no timer to run it", agentService)
	}
	env := svc.env
	for _, tool := range render.AgentTools(env["SWARMBOOT_ETCD_COPY"] != "", env["SWARMBOOT_RELABEL"] == "1") {
		s.tally.count("agent tools shipped", s.p.Name)
		if !s.k.HasCommand(tool, s.packages()) {
			s.errorf("the certificate agent runs %s, which the system does not ship and the node does not install", tool)
		}
	}
	restart := strings.Fields(env["SWARMBOOT_RESTART"])
	if s.n.Has(cluster.RoleEtcd) && s.c.Etcd.TLS {
		s.checkAgentEtcd(env, restart)
	}
	if slices.Contains(restart, s.k.Docker.Unit) {
		s.tally.count("engine restarted with live-restore", s.p.Name)
		d := s.serviceOf(s.k.Docker.Unit)
		if d == nil || !slices.Contains(expand(d.execStart, d.env), "--live-restore") {
			s.errorf("the certificate agent restarts %s, whose engine runs without --live-restore: its containers would stop", s.k.Docker.Unit)
		}
	} else if s.n.Has(cluster.RoleDocker) && s.c.Docker.TLS {
		s.errorf("the engine serves the node's certificate, but the agent does not restart %s (SWARMBOOT_RESTART=%s)", s.k.Docker.Unit, env["SWARMBOOT_RESTART"])
	}
}

func (s *subject) checkAgentEtcd(env map[string]string, restart []string) {
	svc := s.serviceOf(s.p.Etcd.Unit)
	if svc == nil {
		return // checkEtcdTLS says so
	}
	r := s.etcdRuntime(svc, s.withEnvFiles(svc))
	if r == nil {
		return
	}
	renewed := []string{env["SWARMBOOT_TLS_DIR"] + "/cert.pem"}
	if dir := env["SWARMBOOT_ETCD_COPY"]; dir != "" {
		renewed = append(renewed, dir+"/cert.pem")
	}
	s.tally.count("agent renews what etcd reads", s.p.Name)
	for _, key := range []string{"ETCD_CERT_FILE", "ETCD_PEER_CERT_FILE"} {
		host, how, problem := s.hostFile(svc, r, r.env[key])
		switch {
		case problem != "":
		case how == "credential":
			s.errorf("%s=%s is a credential, a copy systemd makes when etcd starts: a renewed certificate never reaches etcd", key, r.env[key])
		case !slices.Contains(renewed, host):
			s.errorf("%s=%s is %s on the host, which the certificate agent does not renew (it renews %v)", key, r.env[key], host, renewed)
		}
	}
	reload := s.k.EtcdTLSReload
	switch restarts := slices.Contains(restart, s.p.Etcd.Unit); {
	case reload == nil:
		s.errorf("the contract does not say whether etcd reads its certificate again for each connection")
	case reload.Reloads != s.p.Etcd.ReloadsTLS:
		s.errorf("the profile says etcd reloads its certificate: %v; the contract: %v", s.p.Etcd.ReloadsTLS, reload.Reloads)
	case restarts == reload.Reloads:
		s.errorf("etcd reloads its certificate per connection: %v, yet the agent restarts it: %v", reload.Reloads, restarts)
	}
}

// packages are what the node would install with its profile: the image
// must bring them when the description says install_packages: false.
func (s *subject) packages() []string {
	var all []*profiles.Packages
	if s.p.Packages != nil {
		all = append(all, s.p.Packages)
	}
	for _, r := range s.p.Releases {
		if r.Packages != nil {
			all = append(all, r.Packages)
		}
	}
	var out []string
	for _, p := range all {
		out = append(out, p.Agent...)
		if s.n.Has(cluster.RoleEtcd) {
			out = append(out, p.Etcd...)
		}
		if s.n.Has(cluster.RoleDocker) || s.n.Has(cluster.RoleManager) {
			out = append(out, p.Docker...)
		}
	}
	return out
}
