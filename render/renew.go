package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/pki/publish"
	"github.com/swarmboot/swarmboot/profiles"
	"github.com/swarmboot/swarmboot/templates"
)

// The certificate agent every node with TLS gets: a script and a oneshot
// service a timer runs, which install the node's renewed certificate from
// etcd (`swarmboot pki publish` puts it there) and restart what reads it
// only at start. The script is the same on every node; the service's
// environment says what differs (see templates/swarmboot-cert-renew.tmpl).
const (
	agentScript  = "/etc/swarmboot/cert-renew" // /etc: /usr is read-only on Flatcar and Fedora CoreOS
	agentService = "swarmboot-cert-renew.service"
	agentTimer   = "swarmboot-cert-renew.timer"
)

// AgentTools are the commands the agent's script runs besides the shell's
// built-ins, found on PATH: chown only where it keeps etcd's copy
// (SWARMBOOT_ETCD_COPY), chcon only where it relabels (SWARMBOOT_RELABEL).
// The contract tests hold every profile to them; the script's tests run it
// with exactly these on PATH.
func AgentTools(etcdCopy, relabel bool) []string {
	tools := []string{"base64", "curl", "date", "mv", "openssl", "rm", "sed", "systemctl"}
	if etcdCopy {
		tools = append(tools, "chown")
	}
	if relabel {
		tools = append(tools, "chcon")
	}
	return tools
}

// AgentPeriod is how often the agent looks: a quarter of renewBefore, at
// least a minute and at most an hour, in whole seconds. A certificate
// published when it enters renew_before reaches its node in at most two
// periods (the timer's random delay is one period too).
func AgentPeriod(renewBefore time.Duration) time.Duration {
	return min(max(renewBefore/4, time.Minute), time.Hour).Truncate(time.Second)
}

func (x *clusterContext) addCertAgent(p *Plan, n *cluster.Node) error {
	prof := p.Profile
	env := []KV{
		{"SWARMBOOT_ETCD", x.clientURLs},
		{"SWARMBOOT_CERT_KEY", publish.Key(x.c.Name, n.Name)},
		{"SWARMBOOT_TLS_DIR", tlsDir},
	}
	if t := prof.Etcd.TLS; n.Has(cluster.RoleEtcd) && x.c.Etcd.TLS && t.Files == profiles.EtcdTLSCopy {
		// The copy keeps its owner (etcd's user): the agent takes it from
		// the file it replaces.
		env = append(env, KV{"SWARMBOOT_ETCD_COPY", t.Dir})
	}
	if restart := x.agentRestarts(prof, n); len(restart) > 0 {
		env = append(env, KV{"SWARMBOOT_RESTART", strings.Join(restart, " ")})
	}
	if prof.SELinux == profiles.SELinuxEnforcing {
		env = append(env, KV{"SWARMBOOT_RELABEL", "1"})
	}
	if x.agentErr != nil {
		return x.agentErr
	}
	p.Files = append(p.Files, File{Path: agentScript, Mode: 0o755, Contents: x.agentScript})
	service, err := templates.Execute(agentService, map[string]any{"Env": env, "Shell": prof.Shell, "Script": agentScript})
	if err != nil {
		return err
	}
	p.Units = append(p.Units,
		Unit{Name: agentService, Contents: service},
		Unit{Name: agentTimer, Contents: x.agentTimer, Enable: true, Action: Start})
	return nil
}

// agentFiles are the agent's script and timer, the same for every node.
func agentFiles(renewBefore time.Duration) (script, timer string, err error) {
	if script, err = templates.Execute("swarmboot-cert-renew", nil); err != nil {
		return "", "", err
	}
	period := AgentPeriod(renewBefore)
	timer, err = templates.Execute(agentTimer, map[string]any{"Period": fmt.Sprintf("%ds", int(period.Seconds()))})
	return script, timer, err
}

// agentRestarts are the units that read the node's certificate only when
// they start: dockerd (it does not reload TLS, moby#23936), the swarm
// containers, and etcd where it does not read it again per connection.
func (x *clusterContext) agentRestarts(prof *profiles.Profile, n *cluster.Node) []string {
	var units []string
	if n.Has(cluster.RoleEtcd) && x.c.Etcd.TLS && !prof.Etcd.ReloadsTLS {
		units = append(units, prof.Etcd.Unit)
	}
	if n.Has(cluster.RoleDocker) {
		if x.c.Docker.TLS {
			units = append(units, prof.Docker.Unit)
		}
		units = append(units, "swarm-join.service")
	}
	if n.Has(cluster.RoleManager) {
		units = append(units, "swarm-manage.service")
	}
	return units
}
