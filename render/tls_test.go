package render

import (
	"fmt"
	"strings"
	"testing"
)

const tlsLike = `version: 1
cluster: t
profile: %s
docker: {activation: %s}
nodes:
  - {name: a, ip: 10.0.0.1, roles: [etcd, docker, manager]}
  - {name: b, ip: 10.0.0.2, roles: [etcd, docker]}
  - {name: c, ip: 10.0.0.3, roles: [etcd, docker]}
`

func fileAt(p *Plan, path string) *File {
	for i := range p.Files {
		if p.Files[i].Path == path {
			return &p.Files[i]
		}
	}
	return nil
}

// TestTLSByDefault: every profile gets the node's TLS files, the engine
// with --tlsverify on 2376, swarm with TLS to the engines and to etcd,
// and etcd with https and client certificates, read the way its system
// lets it.
func TestTLSByDefault(t *testing.T) {
	for _, tc := range []struct {
		profile, activation string
		etcdDir             string // where etcd reads the files
		etcdFiles           string // "credentials", an owner, or "mount"
		mount               string // the swarm containers' TLS mount options
	}{
		// The key through a credential, the certificate where it is renewed.
		{"debian-12", "drop-in", "/etc/swarmboot/tls", "credentials", "ro"},
		{"ubuntu", "drop-in", "/etc/swarmboot/tls", "credentials", "ro"},
		{"flatcar", "drop-in", "/etc/ssl/certs", "etcd", "ro"},
		{"flatcar", "socket", "/etc/ssl/certs", "etcd", "ro"},
		// SELinux enforces: z relabels the directory for containers.
		{"fcos", "drop-in", "/etc/swarmboot/tls", "mount", "ro,z"},
		{"coreos", "socket", "/etc/ssl/etcd", "etcd", "ro"},
	} {
		t.Run(tc.profile+"/"+tc.activation, func(t *testing.T) {
			c := mustLoad(t, fmt.Sprintf(tlsLike, tc.profile, tc.activation))
			if c.Docker.Port != 2376 {
				t.Errorf("docker.port = %d, want 2376 with TLS", c.Docker.Port)
			}
			p := planOf(t, c, "a")
			if !p.Secret {
				t.Error("a plan with a key must be marked secret")
			}
			for name, mode := range map[string]int{"ca.pem": 0o644, "cert.pem": 0o644, "key.pem": 0o600} {
				f := fileAt(p, "/etc/swarmboot/tls/"+name)
				if f == nil || f.Mode != mode || f.Owner != "" || !strings.Contains(f.Contents, "-----BEGIN") {
					t.Errorf("%s: %+v, want mode %o owned by root", name, f, mode)
				}
			}
			if k := fileAt(p, "/etc/swarmboot/tls/key.pem"); k == nil || !strings.Contains(k.Contents, "\na\n") {
				t.Errorf("node a must get its own key: %+v", k)
			}
			text := planText(p)
			for _, want := range []string{
				"--tlsverify --tlscacert=/etc/swarmboot/tls/ca.pem --tlscert=/etc/swarmboot/tls/cert.pem --tlskey=/etc/swarmboot/tls/key.pem",
				"-v /etc/swarmboot/tls:/etc/swarmboot/tls:" + tc.mount + " swarm:1.2.9 join --addr=10.0.0.1:2376 --discovery-opt=kv.cacertfile=/etc/swarmboot/tls/ca.pem --discovery-opt=kv.certfile=/etc/swarmboot/tls/cert.pem --discovery-opt=kv.keyfile=/etc/swarmboot/tls/key.pem etcd://10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379/swarm",
				"-p 8333:2375 -v /etc/swarmboot/tls:/etc/swarmboot/tls:" + tc.mount + " swarm:1.2.9 manage -H tcp://0.0.0.0:2375 --tlsverify --tlscacert=/etc/swarmboot/tls/ca.pem",
				"https://10.0.0.1:2380",
				tc.etcdDir + "/cert.pem",
			} {
				if !strings.Contains(text, want) {
					t.Errorf("lacks %q:\n%s", want, text)
				}
			}
			if strings.Contains(text, "http://") || strings.Contains(text, "--tls=false") {
				t.Errorf("a plain endpoint is left:\n%s", text)
			}
			switch tc.etcdFiles {
			case "credentials":
				if !strings.Contains(text, "LoadCredential=key.pem:/etc/swarmboot/tls/key.pem") || strings.Contains(text, "LoadCredential=cert.pem") ||
					!strings.Contains(text, "ETCD_KEY_FILE=/run/credentials/etcd.service/key.pem\n") {
					t.Errorf("etcd gets its key as a credential, and only its key:\n%s", text)
				}
			case "mount":
				if !strings.Contains(text, "--volume=/etc/swarmboot/tls:/etc/swarmboot/tls:ro,z") {
					t.Errorf("etcd's container does not mount the files:\n%s", text)
				}
			default:
				if k := fileAt(p, "/etc/ssl/etcd/key.pem"); k == nil || k.Owner != tc.etcdFiles || k.Mode != 0o600 {
					t.Errorf("etcd's copy of the key: %+v, want 0600 owned by %s", k, tc.etcdFiles)
				}
			}
		})
	}
}

// planText is every file, unit, drop-in and etcd2 setting of a plan.
func planText(p *Plan) string {
	var b strings.Builder
	for _, f := range p.Files {
		b.WriteString(f.Contents + "\n")
	}
	for _, u := range p.Units {
		b.WriteString(u.Contents + "\n")
		for _, d := range u.Dropins {
			b.WriteString(d.Contents + "\n")
		}
	}
	for _, kv := range p.Etcd2 {
		b.WriteString(kv.Key + "=" + kv.Value + "\n")
	}
	return b.String()
}

// TestTLSNeedsMaterial: a TLS cluster without a node's certificate is an
// error naming the node, not a config that cannot start.
func TestTLSNeedsMaterial(t *testing.T) {
	c := mustLoad(t, fmt.Sprintf(tlsLike, "debian-12", "drop-in"))
	tls := testTLS(c)
	delete(tls, "b")
	_, err := Render(c, Options{Jobs: AllJobs(c), TLS: tls})
	if err == nil || !strings.Contains(err.Error(), "node b: TLS is on but no certificate") {
		t.Errorf("render without b's certificate: %v", err)
	}
}

// TestTLSPartly: each of docker.tls and etcd.tls works alone.
func TestTLSPartly(t *testing.T) {
	plainEtcd := mustLoad(t, strings.Replace(fmt.Sprintf(tlsLike, "debian-12", "drop-in"), "cluster: t\n", "cluster: t\netcd: {tls: false}\n", 1))
	text := planText(planOf(t, plainEtcd, "a"))
	if !strings.Contains(text, "--tlsverify") || strings.Contains(text, "kv.cacertfile") || !strings.Contains(text, "http://10.0.0.1:2380") {
		t.Errorf("docker TLS, etcd plain:\n%s", text)
	}
	plainDocker := mustLoad(t, strings.Replace(fmt.Sprintf(tlsLike, "debian-12", "drop-in"), "docker: {activation: drop-in}", "docker: {activation: drop-in, tls: false}", 1))
	text = planText(planOf(t, plainDocker, "a"))
	if strings.Contains(text, "--tlsverify") || !strings.Contains(text, "kv.cacertfile") || !strings.Contains(text, "-H tcp://10.0.0.1:2375 --tls=false") {
		t.Errorf("etcd TLS, docker plain:\n%s", text)
	}
	plain := mustLoad(t, strings.Replace(fmt.Sprintf(tlsLike, "debian-12", "drop-in"), "docker: {activation: drop-in}", "docker: {tls: false}\netcd: {tls: false}", 1))
	p, err := Plans(plain, Options{})
	if err != nil || p[0].Secret || fileAt(p[0], "/etc/swarmboot/tls/key.pem") != nil {
		t.Errorf("the plain form needs no certificates and writes none: %v", err)
	}
}

// TestHAManagers: with several managers each one runs with --replication
// and advertises its own published address; with one, neither flag.
func TestHAManagers(t *testing.T) {
	ha := mustLoad(t, strings.Replace(fmt.Sprintf(tlsLike, "debian-12", "drop-in"), "roles: [etcd, docker]}\n  - {name: c", "roles: [etcd, docker, manager]}\n  - {name: c", 1))
	for node, ip := range map[string]string{"a": "10.0.0.1", "b": "10.0.0.2"} {
		manage := unitNamed(planOf(t, ha, node), "swarm-manage.service")
		if manage == nil || !strings.Contains(manage.Contents, "manage -H tcp://0.0.0.0:2375 --replication --advertise="+ip+":8333 --tlsverify") {
			t.Errorf("%s: %v", node, manage)
		}
	}
	one := mustLoad(t, fmt.Sprintf(tlsLike, "debian-12", "drop-in"))
	if manage := unitNamed(planOf(t, one, "a"), "swarm-manage.service"); manage == nil || strings.Contains(manage.Contents, "--replication") {
		t.Errorf("a single manager needs no replication: %v", manage)
	}
}
