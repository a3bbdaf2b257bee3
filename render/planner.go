package render

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/pki"
	"github.com/swarmboot/swarmboot/profiles"
	"github.com/swarmboot/swarmboot/templates"
)

// clusterContext holds what every node's plan shares, computed once: with
// 10,000 nodes the member list and the swarm discovery URL must not be
// rebuilt per node.
type clusterContext struct {
	c              *cluster.Cluster
	tls            map[string]pki.Material // by node name
	initialCluster string                  // ETCD_INITIAL_CLUSTER
	discovery      string                  // etcd://m1:2379,m2:2379/path for swarm
	clientURLs     string                  // every member's client URL, space-separated
	// apiFloor is the docker.service drop-in every joined engine gets (the
	// same text for all; a template error shows on the first Docker host).
	apiFloor    string
	apiFloorErr error
	// agentScript and agentTimer are the same on every node of a TLS
	// cluster (the timer's period is the cluster's), so made once.
	agentScript, agentTimer string
	agentErr                error
}

func newClusterContext(c *cluster.Cluster, tls map[string]pki.Material) *clusterContext {
	members := c.Members()
	peers := make([]string, len(members))
	clients := make([]string, len(members))
	urls := make([]string, len(members))
	for i, m := range members {
		peers[i] = m.Name + "=" + etcdURL(c, m.IP, c.Etcd.PeerPort)
		clients[i] = hostPort(m.IP, c.Etcd.ClientPort)
		urls[i] = etcdURL(c, m.IP, c.Etcd.ClientPort)
	}
	x := &clusterContext{
		c:              c,
		tls:            tls,
		initialCluster: strings.Join(peers, ","),
		// Every member is listed, so no node depends on one etcd member.
		discovery:  "etcd://" + strings.Join(clients, ",") + c.Swarm.Path,
		clientURLs: strings.Join(urls, " "),
	}
	x.apiFloor, x.apiFloorErr = templates.Execute("docker-api.conf", map[string]any{"MinAPIVersion": swarmAPIFloor})
	x.agentScript, x.agentTimer, x.agentErr = agentFiles(c.TLS.RenewBefore)
	return x
}

func hostPort(ip netip.Addr, port int) string {
	return netip.AddrPortFrom(ip, uint16(port)).String()
}

// etcdURL is an etcd URL: https when etcd uses TLS.
func etcdURL(c *cluster.Cluster, ip netip.Addr, port int) string {
	if c.Etcd.TLS {
		return "https://" + hostPort(ip, port)
	}
	return "http://" + hostPort(ip, port)
}

func (x *clusterContext) plan(n *cluster.Node) (*Plan, error) {
	prof := n.System
	if prof == nil {
		return nil, fmt.Errorf("node %s: unknown profile %q", n.Name, n.Profile)
	}
	p := &Plan{
		Cluster:  x.c.Name,
		Node:     n.Name,
		Hostname: n.Name,
		Profile:  prof,
		SSHKeys:  x.c.SSHAuthorizedKeys,
		Snippets: cluster.Snippets{
			CloudConfig:       concat(x.c.Snippets.CloudConfig, n.Snippets.CloudConfig),
			CoreOSCloudConfig: concat(x.c.Snippets.CoreOSCloudConfig, n.Snippets.CoreOSCloudConfig),
			Butane:            concat(x.c.Snippets.Butane, n.Snippets.Butane),
		},
	}
	if x.c.InstallPackages {
		p.Packages = packagesFor(prof, n, x.c.UsesTLS())
	}
	steps := []func(*Plan, *cluster.Node) error{x.addNetwork}
	if x.c.UsesTLS() {
		steps = append(steps, x.addTLSFiles)
	}
	if n.Has(cluster.RoleEtcd) {
		steps = append(steps, x.addEtcd)
	}
	if n.Has(cluster.RoleDocker) {
		steps = append(steps, x.addDockerTCP, x.addSwarmJoin)
	}
	if n.Has(cluster.RoleManager) {
		steps = append(steps, x.addSwarmManager)
	}
	if x.c.UsesTLS() {
		steps = append(steps, x.addCertAgent) // last: it restarts what the others run
	}
	for _, step := range steps {
		if err := step(p, n); err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	return p, nil
}

// concat returns a followed by b, sharing a when b is empty (the common case).
func concat(a, b []*cluster.Snippet) []*cluster.Snippet {
	if len(b) == 0 {
		return a
	}
	return append(append([]*cluster.Snippet(nil), a...), b...)
}

// packagesFor lists the profile's packages for the node's roles, once each:
// etcd's first, then Docker's (Docker hosts and managers), then the
// certificate agent's (every node, with TLS).
func packagesFor(prof *profiles.Profile, n *cluster.Node, tls bool) []string {
	var out []string
	if prof.Packages == nil {
		return nil
	}
	add := func(pkgs []string) {
		for _, pkg := range pkgs {
			if !slices.Contains(out, pkg) {
				out = append(out, pkg)
			}
		}
	}
	if n.Has(cluster.RoleEtcd) {
		add(prof.Packages.Etcd)
	}
	if n.Has(cluster.RoleDocker) || n.Has(cluster.RoleManager) {
		add(prof.Packages.Docker)
	}
	if tls {
		add(prof.Packages.Agent)
	}
	return out
}

// unit returns the plan's unit of that name, adding it if missing, so
// several steps can add to one unit (enable it, add a drop-in).
func (p *Plan) unit(name string) *Unit {
	for i := range p.Units {
		if p.Units[i].Name == name {
			return &p.Units[i]
		}
	}
	p.Units = append(p.Units, Unit{Name: name})
	return &p.Units[len(p.Units)-1]
}

func (x *clusterContext) addNetwork(p *Plan, n *cluster.Node) error {
	nw := x.c.Network
	if nw == nil {
		return nil
	}
	p.Network = &Network{
		Interface: nw.Interface,
		MAC:       n.MAC,
		Address:   netip.PrefixFrom(n.IP, nw.Prefix),
		Gateway:   n.GatewayIn(nw),
		DNS:       nw.DNS,
	}
	if nw.Interface == "" && n.MAC == "" {
		// Nothing names the NIC: match the names the system gives one.
		p.Network.Names = p.Profile.NICNames
	}
	data := struct {
		Name, Connection, Interface, MAC, Address, Gateway, Family string
		Names                                                      []string
		DNS                                                        []netip.Addr
	}{n.Name, staticConnection(nw), nw.Interface, n.MAC, p.Network.Address.String(), "", "ipv4", p.Network.Names, nw.DNS}
	if gw := n.GatewayIn(nw); gw.IsValid() {
		data.Gateway = gw.String()
	}
	if n.IP.Is6() {
		data.Family = "ipv6"
	}
	switch p.Profile.Network {
	case profiles.NetworkNetworkd:
		text, err := templates.Execute("static.network", data)
		p.Files = append(p.Files, File{Path: "/etc/systemd/network/10-swarmboot-static.network", Mode: 0o644, Contents: text})
		return err
	case profiles.NetworkManager:
		text, err := templates.Execute("static.nmconnection", data)
		// NetworkManager ignores keyfiles that others can read.
		p.Files = append(p.Files, File{Path: "/etc/NetworkManager/system-connections/" + data.Connection + ".nmconnection", Mode: 0o600, Contents: text})
		return err
	case profiles.NetworkCoreOSUnit:
		text, err := templates.Execute("static.network", data)
		p.Units = append(p.Units, Unit{Name: "10-swarmboot-static.network", Contents: text})
		return err
	}
	return nil // NetworkCloudInit: written beside user-data from p.Network
}

// staticConnection names the NetworkManager connection of the static
// address: after the interface when the description names one.
func staticConnection(nw *cluster.Network) string {
	if nw.Interface != "" {
		return nw.Interface
	}
	return "swarmboot-static"
}

// etcdEnv is the member's ETCD_* settings, in the order etcd documents them.
func (x *clusterContext) etcdEnv(prof *profiles.Profile, n *cluster.Node) []KV {
	e := x.c.Etcd
	loopback := netip.MustParseAddr("127.0.0.1")
	if n.IP.Is6() {
		loopback = netip.IPv6Loopback()
	}
	env := []KV{
		{"ETCD_NAME", n.Name},
		{"ETCD_DATA_DIR", x.etcdDataDir(prof, n)},
		{"ETCD_LISTEN_PEER_URLS", etcdURL(x.c, n.IP, e.PeerPort)},
		{"ETCD_LISTEN_CLIENT_URLS", etcdURL(x.c, n.IP, e.ClientPort) + "," + etcdURL(x.c, loopback, e.ClientPort)},
		{"ETCD_INITIAL_ADVERTISE_PEER_URLS", etcdURL(x.c, n.IP, e.PeerPort)},
		{"ETCD_ADVERTISE_CLIENT_URLS", etcdURL(x.c, n.IP, e.ClientPort)},
	}
	switch e.Discovery {
	case cluster.DiscoveryStatic:
		env = append(env,
			KV{"ETCD_INITIAL_CLUSTER", x.initialCluster},
			KV{"ETCD_INITIAL_CLUSTER_STATE", "new"},
			KV{"ETCD_INITIAL_CLUSTER_TOKEN", e.Token})
	case cluster.DiscoveryURL:
		env = append(env, KV{"ETCD_DISCOVERY", e.URL})
	case cluster.DiscoverySRV:
		env = append(env,
			KV{"ETCD_DISCOVERY_SRV", e.SRV},
			KV{"ETCD_INITIAL_CLUSTER_STATE", "new"},
			KV{"ETCD_INITIAL_CLUSTER_TOKEN", e.Token})
	}
	if prof.Etcd.EnableV2 {
		env = append(env, KV{"ETCD_ENABLE_V2", "true"})
	}
	if prof.Etcd.Config == profiles.EtcdDropin && prof.Etcd.FromImage {
		// Flatcar's etcd-member runs ${ETCD_IMAGE_URL}:${ETCD_IMAGE_TAG};
		// its own default may move past v3.5 and its v2 API.
		repo, tag := e.ImageRepoTag()
		env = append(env, KV{"ETCD_IMAGE_URL", repo}, KV{"ETCD_IMAGE_TAG", tag})
	}
	return env
}

func (x *clusterContext) etcdDataDir(prof *profiles.Profile, n *cluster.Node) string {
	if x.c.Etcd.DataDir != "" {
		return x.c.Etcd.DataDir
	}
	if strings.Contains(prof.Etcd.DataDir, "%s") {
		return fmt.Sprintf(prof.Etcd.DataDir, n.Name)
	}
	return prof.Etcd.DataDir
}

func (x *clusterContext) addEtcd(p *Plan, n *cluster.Node) error {
	prof := p.Profile
	env := x.etcdEnv(prof, n)
	tlsMount := ""
	var creds []credential
	if x.c.Etcd.TLS {
		dir, tlsEnv, c, err := x.etcdTLS(p, n)
		if err != nil {
			return err
		}
		env, creds = append(env, tlsEnv...), c
		if prof.Etcd.TLS.Files == profiles.EtcdTLSMount {
			tlsMount = bindMount(prof, dir, true)
		}
	}
	if len(creds) > 0 && prof.Etcd.Config != profiles.EtcdEnvFile {
		return fmt.Errorf("profile %s: etcd's TLS credentials need its settings in a drop-in's environment file", prof.Name)
	}
	dataDir := x.etcdDataDir(prof, n)
	data := struct {
		Name, Cluster, EnvFile, DataDir, DataMount, Image, Runtime, TLSMount string
		Env                                                                  []KV
	}{n.Name, x.c.Name, prof.Etcd.EnvFile, dataDir, bindMount(prof, dataDir, false), x.c.Etcd.Image, prof.Etcd.Runtime, tlsMount, env}
	u := p.unit(prof.Etcd.Unit)
	u.Enable = true
	// The unit may have started with package defaults before the config
	// landed, so cloud-init style agents restart it.
	u.Action = Restart
	switch prof.Etcd.Config {
	case profiles.EtcdEnvFile:
		text, err := templates.Execute("etcd.env", data)
		p.Files = append(p.Files, File{Path: prof.Etcd.EnvFile, Mode: 0o644, Contents: text})
		if err != nil {
			return err
		}
		// The same drop-in names the settings and loads the key, so
		// systemd takes both, or neither, at one daemon-reload.
		text, err = templates.Execute("etcd-env.conf", map[string]any{
			"Name": n.Name, "Cluster": x.c.Name, "EnvFile": prof.Etcd.EnvFile,
			"CredentialsDir": "/run/credentials/" + prof.Etcd.Unit, "Credentials": creds,
		})
		u.Dropins = append(u.Dropins, Dropin{Name: "20-swarmboot-etcd.conf", Contents: text})
		return err
	case profiles.EtcdDropin:
		text, err := templates.Execute("etcd-member.conf", data)
		u.Dropins = append(u.Dropins, Dropin{Name: "20-swarmboot-etcd.conf", Contents: text})
		return err
	case profiles.EtcdContainerUnit:
		envText, err := templates.Execute("etcd.env", data)
		if err != nil {
			return err
		}
		p.Files = append(p.Files, File{Path: prof.Etcd.EnvFile, Mode: 0o644, Contents: envText})
		u.Contents, err = templates.Execute("etcd-container.service", data)
		return err
	case profiles.EtcdCoreOSEtcd2:
		// coreos-cloudinit takes etcd's flag names: ETCD_INITIAL_CLUSTER
		// is initial-cluster. It writes each value unescaped into an
		// Environment="..." line of its etcd2 drop-in (system/env.go), so
		// the value is escaped for that line here.
		for _, kv := range env {
			key := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(kv.Key, "ETCD_"), "_", "-"))
			p.Etcd2 = append(p.Etcd2, KV{key, templates.UnitQuote(kv.Value)})
		}
		u.Enable = false // coreos-cloudinit enables etcd2 from coreos.etcd2
		u.Action = Start
		return nil
	}
	return fmt.Errorf("profile %s: unknown etcd config %q", prof.Name, prof.Etcd.Config)
}

// engineListen is the engine's TCP address for -H.
func (x *clusterContext) engineListen(n *cluster.Node) netip.AddrPort {
	ip := n.IP
	switch x.c.Docker.Bind {
	case cluster.BindAll:
		ip = netip.IPv4Unspecified()
	case cluster.BindAll6:
		ip = netip.IPv6Unspecified()
	}
	return netip.AddrPortFrom(ip, uint16(x.c.Docker.Port))
}

// swarmAPIFloor is the Docker API floor every joined engine gets: classic
// swarm pins API 1.31, and 1.24 is the lowest floor Docker accepts.
const swarmAPIFloor = "1.24"

func (x *clusterContext) addDockerTCP(p *Plan, n *cluster.Node) error {
	prof := p.Profile
	listen := x.engineListen(n)
	floor, err := x.apiFloor, x.apiFloorErr
	if err != nil {
		return err
	}
	if x.c.Docker.Activation == cluster.ActivationSocket {
		stream := listen.String()
		if listen.Addr().IsUnspecified() {
			stream = strconv.Itoa(int(listen.Port()))
		}
		text, err := templates.Execute("docker-tcp.socket", map[string]any{
			"Port": x.c.Docker.Port, "ListenStream": stream, "Service": prof.Docker.Unit,
		})
		// Listed before docker.service: the socket must be up when the
		// engine (re)starts, so that it takes the socket over.
		p.Units = append(p.Units, Unit{Name: "docker-tcp.socket", Contents: text, Enable: true, Action: Start})
		if err != nil {
			return err
		}
		docker := p.unit(prof.Docker.Unit)
		docker.Enable = true
		docker.Action = Restart
		docker.Dropins = append(docker.Dropins, Dropin{Name: "20-swarmboot-api.conf", Contents: floor})
		if !x.c.Docker.TLS {
			return nil
		}
		text, err = templates.Execute("docker-tls.conf", map[string]any{
			"ExecStart": prof.Docker.ExecStart, "TLSArgs": strings.Join(dockerTLSArgs(), " "),
		})
		docker.Dropins = append(docker.Dropins, Dropin{Name: "20-swarmboot-tls.conf", Contents: text})
		return err
	}
	docker := p.unit(prof.Docker.Unit)
	docker.Enable = true
	docker.Action = Restart
	text, err := templates.Execute("docker-tcp.conf", map[string]any{
		"ExecStart": prof.Docker.ExecStart, "Listen": "tcp://" + listen.String(),
		"TLS": x.c.Docker.TLS, "TLSArgs": strings.Join(dockerTLSArgs(), " "),
	})
	docker.Dropins = append(docker.Dropins,
		Dropin{Name: "20-swarmboot-api.conf", Contents: floor},
		Dropin{Name: "20-swarmboot-tcp.conf", Contents: text})
	return err
}

// swarmUnit is the data of swarm.service.tmpl.
type swarmUnit struct {
	Description, Container, Image, ImageArchive, CLI, Shell, DockerUnit string
	RunArgs, Args                                                       []string
}

func (x *clusterContext) newSwarmUnit(p *Plan, description, container string) swarmUnit {
	u := swarmUnit{
		Description:  description,
		Container:    container,
		Image:        x.c.Swarm.Image,
		ImageArchive: x.c.Swarm.ImageArchive,
		CLI:          p.Profile.Docker.CLI,
		Shell:        p.Profile.Shell,
		DockerUnit:   p.Profile.Docker.Unit,
	}
	if x.c.UsesTLS() {
		u.RunArgs = append(u.RunArgs, "-v", bindMount(p.Profile, tlsDir, true))
	}
	return u
}

// discoveryArgs end every swarm command: the TLS options for etcd, if
// any, then the etcd:// URL of every member.
func (x *clusterContext) discoveryArgs() []string {
	if !x.c.Etcd.TLS {
		return []string{x.discovery}
	}
	return append(discoveryTLSArgs(), x.discovery)
}

func (x *clusterContext) addSwarmJoin(p *Plan, n *cluster.Node) error {
	s := x.c.Swarm
	u := x.newSwarmUnit(p, "classic Swarm agent: registers this Docker engine in etcd", "swarm-join")
	u.Args = []string{"join", "--addr=" + hostPort(n.IP, x.c.Docker.Port)}
	if s.Heartbeat > 0 {
		u.Args = append(u.Args, "--heartbeat="+s.Heartbeat.String())
	}
	if s.TTL > 0 {
		u.Args = append(u.Args, "--ttl="+s.TTL.String())
	}
	u.Args = append(u.Args, x.discoveryArgs()...)
	return p.addSwarmUnit("swarm-join.service", u)
}

func (x *clusterContext) addSwarmManager(p *Plan, n *cluster.Node) error {
	if !n.Has(cluster.RoleDocker) {
		// The seed's third way out of the port conflict: this engine stays
		// local-only (no TCP, not joined) and only runs the manager.
		docker := p.unit(p.Profile.Docker.Unit)
		docker.Enable = true
		docker.Action = Start
	}
	u := x.newSwarmUnit(p, "classic Swarm manager: serves the Docker API of the whole swarm", "swarm-manage")
	// -H: the swarm binary listens on 127.0.0.1 unless told otherwise
	// (the upstream image set SWARM_HOST; an image built from the binary
	// does not), and a published port needs it on every address.
	u.RunArgs = append([]string{"-p", strconv.Itoa(x.c.Swarm.Manager.Port) + ":2375"}, u.RunArgs...)
	u.Args = []string{"manage", "-H", "tcp://0.0.0.0:2375"}
	if len(x.c.Managers()) > 1 {
		// Replicas elect a primary through etcd and forward to it at the
		// address it advertises: its host's published port.
		u.Args = append(u.Args, "--replication", "--advertise="+hostPort(n.IP, x.c.Swarm.Manager.Port))
	}
	if x.c.Docker.TLS {
		// The same flags secure the manager's own API and its calls to
		// the engines.
		u.Args = append(u.Args, dockerTLSArgs()...)
	}
	u.Args = append(u.Args, x.discoveryArgs()...)
	return p.addSwarmUnit("swarm-manage.service", u)
}

func (p *Plan) addSwarmUnit(name string, data swarmUnit) error {
	text, err := templates.Execute("swarm.service", data)
	p.Units = append(p.Units, Unit{Name: name, Contents: text, Enable: true, Action: Start})
	return err
}
