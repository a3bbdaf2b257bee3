package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/swarmboot/swarmboot/cluster"
	_ "github.com/swarmboot/swarmboot/internal/testutil"
	"github.com/swarmboot/swarmboot/pki"
	"github.com/swarmboot/swarmboot/profiles"
)

// mustLoad loads a description given as text; file, if given, names it
// (snippet paths are relative to its folder).
func mustLoad(t testing.TB, text string, file ...string) *cluster.Cluster {
	t.Helper()
	name := "t.yaml"
	if len(file) > 0 {
		name = file[0]
	}
	c, rep := cluster.Load(name, []byte(text))
	if err := rep.Err(false); err != nil {
		t.Fatalf("invalid test description:\n%v", err)
	}
	return c
}

// testTLS gives every node stand-in TLS files; render copies them
// without reading them (package pki makes and checks real ones).
func testTLS(c *cluster.Cluster) map[string]pki.Material {
	m := map[string]pki.Material{}
	for _, n := range c.Nodes {
		m[n.Name] = pki.Material{
			CA:   []byte("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"),
			Cert: []byte("-----BEGIN CERTIFICATE-----\n" + n.Name + "\n-----END CERTIFICATE-----\n"),
			Key:  []byte("-----BEGIN EC PRIVATE KEY-----\n" + n.Name + "\n-----END EC PRIVATE KEY-----\n"),
		}
	}
	return m
}

func planOf(t *testing.T, c *cluster.Cluster, name string) *Plan {
	t.Helper()
	plans, err := Plans(c, Options{TLS: testTLS(c)})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plans {
		if p.Node == name {
			return p
		}
	}
	t.Fatalf("no plan for %s", name)
	return nil
}

func unitNamed(p *Plan, name string) *Unit {
	for i := range p.Units {
		if p.Units[i].Name == name {
			return &p.Units[i]
		}
	}
	return nil
}

const seedLike = `version: 1
cluster: t
profile: %s
docker: {bind: "%s", tls: false}
etcd: {tls: false}
swarm: {image_archive: /srv/swarm.tar, heartbeat: 5s, ttl: 15s}
nodes:
  - {name: e1, ip: %s, roles: [etcd]}
  - {name: d1, ip: %s, roles: [docker]}
  - {name: m, ip: %s, roles: [manager]}
`

func TestPlanRoles(t *testing.T) {
	for _, tc := range []struct {
		profile, bind, e1, d1, m string
		wantListen, wantJoin     string
		wantEtcd                 string
	}{
		{"debian-12", "node", "10.0.0.1", "10.0.0.2", "10.0.0.3", "tcp://10.0.0.2:2375", "10.0.0.2:2375", "etcd://10.0.0.1:2379/swarm"},
		{"debian-13", "0.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3", "tcp://0.0.0.0:2375", "10.0.0.2:2375", "etcd://10.0.0.1:2379/swarm"},
		{"flatcar", "node", "fd00::1", "fd00::2", "fd00::3", "tcp://[fd00::2]:2375", "[fd00::2]:2375", "etcd://[fd00::1]:2379/swarm"},
		{"fcos", "::", "fd00::1", "fd00::2", "fd00::3", "tcp://[::]:2375", "[fd00::2]:2375", "etcd://[fd00::1]:2379/swarm"},
	} {
		t.Run(tc.profile+"/"+tc.bind, func(t *testing.T) {
			c := mustLoad(t, fmt.Sprintf(seedLike, tc.profile, tc.bind, tc.e1, tc.d1, tc.m))

			d1 := planOf(t, c, "d1")
			docker := unitNamed(d1, "docker.service")
			if docker == nil || len(docker.Dropins) != 2 || !strings.Contains(docker.Dropins[1].Contents, "-H "+tc.wantListen+" --tls=false\n") {
				t.Fatalf("docker host lacks the TCP drop-in for %s: %+v", tc.wantListen, docker)
			}
			if !strings.Contains(docker.Dropins[1].Contents, "ExecStart=\n") {
				t.Error("the drop-in must reset ExecStart= before setting it")
			}
			// Docker 29 refuses classic swarm's API 1.31 without it.
			if !strings.Contains(docker.Dropins[0].Contents, "\nEnvironment=DOCKER_MIN_API_VERSION=1.24\n") {
				t.Errorf("docker host lacks the API floor drop-in: %+v", docker.Dropins[0])
			}
			join := unitNamed(d1, "swarm-join.service")
			if join == nil || !strings.Contains(join.Contents, "join --addr="+tc.wantJoin+" ") {
				t.Errorf("join unit does not advertise the node's own address:\n%v", join)
			}
			for _, want := range []string{tc.wantEtcd, "--heartbeat=5s", "--ttl=15s", "load -i /srv/swarm.tar", "Restart=always"} {
				if join == nil || !strings.Contains(join.Contents, want) {
					t.Errorf("join unit lacks %q", want)
				}
			}
			if unitNamed(d1, "swarm-manage.service") != nil {
				t.Error("only the manager node runs swarm manage")
			}

			// The seed's third way out: a manager without the docker role
			// keeps its engine local-only and does not join.
			m := planOf(t, c, "m")
			if u := unitNamed(m, "docker.service"); u == nil || len(u.Dropins) != 0 || !u.Enable {
				t.Errorf("manager-only node: engine must be enabled and stay local-only: %+v", u)
			}
			if unitNamed(m, "swarm-join.service") != nil {
				t.Error("manager-only node must not join")
			}
			manage := unitNamed(m, "swarm-manage.service")
			if manage == nil || !strings.Contains(manage.Contents, "-p 8333:2375") || !strings.Contains(manage.Contents, "manage -H tcp://0.0.0.0:2375 "+tc.wantEtcd) {
				t.Errorf("manage unit wrong:\n%v", manage)
			}

			e1 := planOf(t, c, "e1")
			if unitNamed(e1, "docker.service") != nil || unitNamed(e1, "swarm-join.service") != nil {
				t.Error("an etcd-only node gets nothing of Docker")
			}
		})
	}
}

func TestEtcdEnv(t *testing.T) {
	c := mustLoad(t, `version: 1
cluster: t
profile: debian-12
etcd: {token: tok, tls: false}
nodes:
  - {name: a, ip: 10.0.0.1, roles: [etcd, docker, manager]}
  - {name: b, ip: 10.0.0.2, roles: [etcd]}
  - {name: c, ip: 10.0.0.3, roles: [etcd]}
`)
	p := planOf(t, c, "b")
	var env string
	for _, f := range p.Files {
		switch f.Path {
		case "/etc/swarmboot/etcd.env":
			env = f.Contents
		case "/etc/default/etcd":
			t.Errorf("the package's /etc/default/etcd is written: an etcd started before the drop-in is loaded would run these settings")
		}
	}
	for _, want := range []string{
		"ETCD_NAME=b\n",
		"ETCD_DATA_DIR=/var/lib/etcd/b\n",
		"ETCD_LISTEN_PEER_URLS=http://10.0.0.2:2380\n",
		"ETCD_LISTEN_CLIENT_URLS=http://10.0.0.2:2379,http://127.0.0.1:2379\n",
		"ETCD_ADVERTISE_CLIENT_URLS=http://10.0.0.2:2379\n",
		"ETCD_INITIAL_CLUSTER=a=http://10.0.0.1:2380,b=http://10.0.0.2:2380,c=http://10.0.0.3:2380\n",
		"ETCD_INITIAL_CLUSTER_STATE=new\n",
		"ETCD_INITIAL_CLUSTER_TOKEN=tok\n",
		"ETCD_ENABLE_V2=true\n",
	} {
		if !strings.Contains(env, want) {
			t.Errorf("/etc/swarmboot/etcd.env lacks %q:\n%s", want, env)
		}
	}
	u := unitNamed(p, "etcd.service")
	if u == nil || !u.Enable || u.Action != Restart {
		t.Fatalf("etcd.service must be enabled and restarted: %+v", u)
	}
	// Only swarmboot's drop-in names the settings.
	if len(u.Dropins) != 1 || !strings.Contains(u.Dropins[0].Contents, "\nEnvironmentFile=/etc/swarmboot/etcd.env\n") {
		t.Errorf("etcd.service's drop-ins do not name the settings: %+v", u.Dropins)
	}
}

func TestCoreOSEtcd2(t *testing.T) {
	c := mustLoad(t, `version: 1
cluster: t
profile: coreos
etcd: {discovery: srv, srv: example.com, tls: false}
nodes:
  - {name: a, ip: 10.0.0.1, roles: [etcd, docker]}
`)
	p := planOf(t, c, "a")
	got := map[string]string{}
	for _, kv := range p.Etcd2 {
		got[kv.Key] = kv.Value
	}
	if got["discovery-srv"] != "example.com" || got["initial-advertise-peer-urls"] != "http://10.0.0.1:2380" || got["name"] != "a" {
		t.Errorf("coreos.etcd2 = %v", got)
	}
	if _, v2 := got["enable-v2"]; v2 {
		t.Error("etcd2 speaks v2 natively; enable-v2 is not an etcd2 flag")
	}
}

func TestEmitRejectsForeignFormat(t *testing.T) {
	c := mustLoad(t, fmt.Sprintf(seedLike, "ubuntu", "node", "10.0.0.1", "10.0.0.2", "10.0.0.3"))
	p := planOf(t, c, "d1")
	if _, err := Emit(p, profiles.Ignition); err == nil || !strings.Contains(err.Error(), "reads cloud-config") {
		t.Errorf("ubuntu node rendered as Ignition: %v", err)
	}
}

func TestMetaDataFollowsConfig(t *testing.T) {
	c := mustLoad(t, fmt.Sprintf(seedLike, "debian-12", "node", "10.0.0.1", "10.0.0.2", "10.0.0.3"))
	p := planOf(t, c, "d1")
	companion := func(userData string) string {
		arts, err := noCloudCompanions(p, []byte(userData))
		if err != nil || arts[0].Kind != MetaData {
			t.Fatalf("companions %v, %v; want meta-data first", arts, err)
		}
		return string(arts[0].Data)
	}
	a, b := companion("one"), companion("two")
	if string(a) == string(b) || !strings.HasPrefix(string(a), "instance-id: t-d1-") || !strings.Contains(string(a), "local-hostname: d1\n") {
		t.Errorf("meta-data must name the node and change with its config:\n%s\n%s", a, b)
	}
}

// The docker CLI the swarm units run is its own package from Debian 13 on,
// and docker.io only recommends it.
func TestPackagesPerRelease(t *testing.T) {
	for _, tc := range []struct{ profile, want string }{
		{"debian-12", "docker.io"},
		{"debian-13", "docker.io docker-cli"},
		{"debian-14", "docker.io docker-cli"},
		{"ubuntu", "docker.io"},
	} {
		c := mustLoad(t, fmt.Sprintf(seedLike, tc.profile, "node", "10.0.0.1", "10.0.0.2", "10.0.0.3"))
		for node, want := range map[string]string{"e1": "etcd-server etcd-client", "d1": tc.want, "m": tc.want} {
			if got := strings.Join(planOf(t, c, node).Packages, " "); got != want {
				t.Errorf("%s %s: packages %q, want %q", tc.profile, node, got, want)
			}
		}
	}
}

// The socket form opens the port with a socket unit, and the engine still
// gets the API floor.
func TestSocketFormGetsAPIFloor(t *testing.T) {
	c := mustLoad(t, `version: 1
cluster: t
profile: flatcar
docker: {activation: socket, tls: false}
nodes: [{name: a, ip: 10.0.0.1, roles: [etcd, docker, manager]}]
`)
	p := planOf(t, c, "a")
	// The socket starts before networkd has put the address on the NIC.
	if sock := unitNamed(p, "docker-tcp.socket"); sock == nil || !strings.Contains(sock.Contents, "\nFreeBind=true\n") {
		t.Errorf("the socket must bind an address that may not exist yet: %+v", sock)
	}
	docker := unitNamed(p, "docker.service")
	if unitNamed(p, "docker-tcp.socket") == nil || docker == nil || len(docker.Dropins) != 1 ||
		!strings.Contains(docker.Dropins[0].Contents, "Environment=DOCKER_MIN_API_VERSION=1.24\n") {
		t.Fatalf("socket form without the API floor: %+v", docker)
	}
}

// etcd from an image is pinned: Flatcar's etcd-member through
// ETCD_IMAGE_URL/TAG, Fedora CoreOS's container unit by its image.
func TestEtcdImagePinned(t *testing.T) {
	c := mustLoad(t, `version: 1
cluster: t
etcd: {image: "registry.example/etcd:v3.5.30"}
nodes:
  - {name: f, ip: 10.0.0.1, roles: [etcd, docker, manager], profile: flatcar}
  - {name: o, ip: 10.0.0.2, roles: [etcd], profile: fcos}
  - {name: u, ip: 10.0.0.3, roles: [etcd]}
`)
	f := unitNamed(planOf(t, c, "f"), "etcd-member.service")
	if f == nil || len(f.Dropins) != 1 || !strings.Contains(f.Dropins[0].Contents, `Environment="ETCD_IMAGE_URL=registry.example/etcd"`) ||
		!strings.Contains(f.Dropins[0].Contents, `Environment="ETCD_IMAGE_TAG=v3.5.30"`) {
		t.Errorf("flatcar etcd-member is not pinned: %+v", f)
	}
	o := unitNamed(planOf(t, c, "o"), "etcd-member.service")
	if o == nil || !strings.Contains(o.Contents, " registry.example/etcd:v3.5.30\n") {
		t.Errorf("fcos etcd container is not pinned: %+v", o)
	}
	for _, f := range planOf(t, c, "u").Files {
		if strings.Contains(f.Contents, "ETCD_IMAGE") {
			t.Errorf("a packaged etcd gets no image setting: %s", f.Contents)
		}
	}
}
