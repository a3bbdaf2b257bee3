package boottest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/render"
)

// EngineEnvironment renders a one-node cluster for the profile with
// swarmboot and returns the environment its drop-ins give docker.service
// (every Environment= of every drop-in, as KEY=VALUE, read with systemd's
// unit syntax). The Docker 29 control runs a dockerd with exactly that.
func EngineEnvironment(profile string) ([]string, error) {
	desc := fmt.Sprintf("version: 1\ncluster: env\nprofile: %s\ninstall_packages: false\n"+
		"docker: {tls: false}\netcd: {tls: false}\nnodes: [{name: n, ip: 10.0.0.1, roles: [etcd, docker]}]\n", profile)
	c, rep := cluster.Load("engine-env.yaml", []byte(desc))
	if err := rep.Err(false); err != nil {
		return nil, err
	}
	plans, err := render.Plans(c, render.Options{})
	if err != nil {
		return nil, err
	}
	var env []string
	for _, u := range plans[0].Units {
		if u.Name != plans[0].Profile.Docker.Unit {
			continue
		}
		for _, d := range u.Dropins {
			opts, err := unit.DeserializeOptions(strings.NewReader(d.Contents))
			if err != nil {
				return nil, fmt.Errorf("drop-in %s: %w", d.Name, err)
			}
			for _, o := range opts {
				if o.Section == "Service" && o.Name == "Environment" {
					env = append(env, splitEnvironment(o.Value)...)
				}
			}
		}
	}
	return env, nil
}

// splitEnvironment splits an Environment= value into its assignments:
// space-separated, each optionally in double quotes (systemd.exec(5)).
func splitEnvironment(v string) []string {
	var out []string
	for rest := strings.TrimSpace(v); rest != ""; rest = strings.TrimSpace(rest) {
		if rest[0] == '"' {
			if s, err := strconv.QuotedPrefix(rest); err == nil {
				u, _ := strconv.Unquote(s)
				out = append(out, u)
				rest = rest[len(s):]
				continue
			}
		}
		f, tail, _ := strings.Cut(rest, " ")
		out = append(out, f)
		rest = tail
	}
	return out
}
