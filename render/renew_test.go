package render

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/unit"
)

func TestAgentPeriod(t *testing.T) {
	for rb, want := range map[time.Duration]time.Duration{
		720 * time.Hour:                time.Hour, // the default: at most an hour
		4 * time.Hour:                  time.Hour,
		40 * time.Minute:               10 * time.Minute,
		4 * time.Minute:                time.Minute,
		2 * time.Minute:                time.Minute, // at least a minute
		6*time.Minute + time.Second:    90 * time.Second,
		10*time.Minute + 3*time.Second: 150 * time.Second, // whole seconds
	} {
		if got := AgentPeriod(rb); got != want {
			t.Errorf("AgentPeriod(%s) = %s, want %s", rb, got, want)
		}
	}
}

// agentEnv is the environment the agent's service gives its script.
func agentEnv(t *testing.T, p *Plan) map[string]string {
	t.Helper()
	u := unitNamed(p, agentService)
	if u == nil {
		t.Fatalf("%s has no %s", p.Node, agentService)
	}
	opts, err := unit.DeserializeOptions(strings.NewReader(u.Contents))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, o := range opts {
		if o.Name == "Environment" {
			for _, w := range unitWords(t, o.Value) {
				k, v, _ := strings.Cut(w, "=")
				env[k] = v
			}
		}
	}
	return env
}

const agentLike = `version: 1
cluster: t
profile: %s
%s
nodes:
  - {name: a, ip: 10.0.0.1, roles: [etcd, docker, manager]}
  - {name: e, ip: 10.0.0.2, roles: [etcd]}
  - {name: d, ip: 10.0.0.3, roles: [docker]}
  - {name: m, ip: 10.0.0.4, roles: [manager]}
`

// Every node with TLS gets the agent: its script, its service (run only
// by the timer) and its timer (enabled, started). The service says where
// to look, what to renew and what to restart: what reads the node's
// certificate only when it starts, on that node.
func TestCertAgent(t *testing.T) {
	const etcdURLs = "https://10.0.0.1:2379 https://10.0.0.2:2379"
	for _, tc := range []struct {
		profile, extra, node string
		want                 map[string]string // "" means: not set
	}{
		{"debian-12", "", "a", map[string]string{"SWARMBOOT_ETCD": etcdURLs, "SWARMBOOT_CERT_KEY": "/swarmboot/t/certs/a", "SWARMBOOT_TLS_DIR": "/etc/swarmboot/tls",
			"SWARMBOOT_RESTART": "docker.service swarm-join.service swarm-manage.service", "SWARMBOOT_ETCD_COPY": "", "SWARMBOOT_RELABEL": ""}},
		// etcd 3.2+ reads its certificate per connection: nothing to restart.
		{"debian-12", "", "e", map[string]string{"SWARMBOOT_CERT_KEY": "/swarmboot/t/certs/e", "SWARMBOOT_RESTART": ""}},
		{"ubuntu", "", "d", map[string]string{"SWARMBOOT_RESTART": "docker.service swarm-join.service"}},
		// A manager's own engine stays local, without TLS: only swarm manage.
		{"debian-12", "", "m", map[string]string{"SWARMBOOT_RESTART": "swarm-manage.service"}},
		// etcd2 reads its certificate only at start; its copy is etcd's own.
		{"coreos", "", "a", map[string]string{"SWARMBOOT_RESTART": "etcd2.service docker.service swarm-join.service swarm-manage.service",
			"SWARMBOOT_ETCD_COPY": "/etc/ssl/etcd"}},
		{"flatcar", "", "e", map[string]string{"SWARMBOOT_RESTART": "", "SWARMBOOT_ETCD_COPY": "/etc/ssl/etcd"}},
		{"flatcar", "", "d", map[string]string{"SWARMBOOT_ETCD_COPY": ""}},
		{"fcos", "", "a", map[string]string{"SWARMBOOT_RELABEL": "1", "SWARMBOOT_ETCD_COPY": ""}},
		// The engine without TLS is not restarted; swarm still reads the
		// certificate for etcd.
		{"debian-12", "docker: {tls: false}", "a", map[string]string{"SWARMBOOT_RESTART": "swarm-join.service swarm-manage.service"}},
		// etcd without TLS is asked over http.
		{"debian-12", "etcd: {tls: false}", "d", map[string]string{"SWARMBOOT_ETCD": "http://10.0.0.1:2379 http://10.0.0.2:2379"}},
		{"debian-12", "tls: {validity: 1h, renew_before: 10m}", "d", map[string]string{"SWARMBOOT_ETCD": etcdURLs}},
	} {
		t.Run(fmt.Sprintf("%s/%s/%s", tc.profile, tc.extra, tc.node), func(t *testing.T) {
			c := mustLoad(t, fmt.Sprintf(agentLike, tc.profile, tc.extra))
			p := planOf(t, c, tc.node)
			env := agentEnv(t, p)
			for k, want := range tc.want {
				if got, ok := env[k]; got != want || ok != (want != "") {
					t.Errorf("%s = %q (set: %v), want %q", k, got, ok, want)
				}
			}
			if f := fileAt(p, agentScript); f == nil || f.Mode != 0o755 || !strings.HasPrefix(f.Contents, "#!/bin/sh\n") {
				t.Errorf("the agent's script: %+v", f)
			}
			svc, timer := unitNamed(p, agentService), unitNamed(p, agentTimer)
			if svc.Enable || svc.Action != NoAction || !strings.Contains(svc.Contents, "\nExecStart=/bin/sh "+agentScript+"\n") {
				t.Errorf("the service is run by its timer alone: %+v", svc)
			}
			period := fmt.Sprintf("%ds", int(AgentPeriod(c.TLS.RenewBefore).Seconds()))
			if timer == nil || !timer.Enable || timer.Action != Start ||
				!strings.Contains(timer.Contents, "\nOnUnitActiveSec="+period+"\n") || !strings.Contains(timer.Contents, "\nRandomizedDelaySec="+period+"\n") {
				t.Errorf("the timer must be enabled, started, and run every %s with as much jitter: %+v", period, timer)
			}
		})
	}
}

// Without TLS there is nothing to renew: no agent, no curl or openssl to
// install, an engine without --live-restore.
func TestNoAgentWithoutTLS(t *testing.T) {
	tls := mustLoad(t, fmt.Sprintf(agentLike, "debian-12", ""))
	plain := mustLoad(t, fmt.Sprintf(agentLike, "debian-12", "docker: {tls: false}\netcd: {tls: false}"))
	for _, n := range []string{"a", "e", "d", "m"} {
		p := planOf(t, plain, n)
		if unitNamed(p, agentService) != nil || unitNamed(p, agentTimer) != nil || fileAt(p, agentScript) != nil {
			t.Errorf("%s: an agent on a plain cluster", n)
		}
		if slices.Contains(p.Packages, "curl") || strings.Contains(planText(p), "--live-restore") {
			t.Errorf("%s: packages %v; %s", n, p.Packages, planText(p))
		}
		if got := planOf(t, tls, n).Packages; !slices.Contains(got, "curl") || !slices.Contains(got, "openssl") {
			t.Errorf("%s with TLS: packages %v lack the agent's curl and openssl", n, got)
		}
	}
	if text := planText(planOf(t, tls, "d")); !strings.Contains(text, "--tlskey=/etc/swarmboot/tls/key.pem --live-restore\nKillMode=process\n") {
		t.Errorf("the engine the agent restarts must keep its containers:\n%s", text)
	}
}
