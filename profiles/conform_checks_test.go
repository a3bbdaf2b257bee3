package profiles_test

import (
	"bufio"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/coreos/go-systemd/v22/unit"
	"gopkg.in/yaml.v3"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/internal/consumers"
	"github.com/swarmboot/swarmboot/internal/testutil"
	"github.com/swarmboot/swarmboot/profiles"
)

// subject is one node's config in one format, and what it is held to.
type subject struct {
	t     *testing.T
	c     *cluster.Cluster
	n     *cluster.Node
	p     *profiles.Profile
	k     *profiles.Contract
	v     *view
	files map[string][]byte // the render's files (network-config)
	tally *tally
}

func (s *subject) errorf(format string, args ...any) {
	s.t.Helper()
	s.t.Errorf(s.n.Name+" ("+s.p.Name+", "+string(s.v.format)+"): "+format, args...)
}

func (s *subject) checkAll() {
	s.checkEtcdTLS()
	s.checkMounts()
	s.checkDockerd()
	s.checkCommands()
	s.checkDropins()
	s.checkOwners()
	s.checkNetwork()
	s.checkAgent()
}

// The ETCD_* settings that name files etcd must open.
var etcdFileVars = []string{"ETCD_CERT_FILE", "ETCD_KEY_FILE", "ETCD_TRUSTED_CA_FILE",
	"ETCD_PEER_CERT_FILE", "ETCD_PEER_KEY_FILE", "ETCD_PEER_TRUSTED_CA_FILE"}

// checkEtcdTLS: every file an ETCD_* setting names is, where etcd runs
// (on the host, in the system's wrapper container given its mounts, in
// the config's own container), a file the config writes, and the user
// etcd runs as can read it.
func (s *subject) checkEtcdTLS() {
	if !s.n.Has(cluster.RoleEtcd) || !s.c.Etcd.TLS {
		return
	}
	svc := s.serviceOf(s.p.Etcd.Unit)
	if svc == nil {
		s.errorf("etcd's unit %s is neither the system's nor written by the config", s.p.Etcd.Unit)
		return
	}
	env := s.withEnvFiles(svc)
	r := s.etcdRuntime(svc, env)
	if r == nil {
		return
	}
	s.tally.count("etcd TLS files visible", s.p.Name)
	for _, key := range etcdFileVars {
		seen, ok := r.env[key]
		if !ok {
			s.errorf("TLS is on but etcd gets no %s", key)
			continue
		}
		host, how, problem := s.hostFile(svc, r, seen)
		if problem != "" {
			s.errorf("%s=%s%s", key, seen, problem)
			continue
		}
		if how == "credential" {
			for release, v := range s.k.Systemd.Releases {
				if v < 247 {
					s.errorf("%s relies on LoadCredential=, which systemd %d (release %s) lacks", key, v, release)
				}
			}
		}
		f, written := s.v.files[host]
		switch {
		case !written:
			s.errorf("%s=%s: etcd reads it from %s, which the config does not write", key, seen, host)
		case how == "credential" || isRoot(r.user):
		case !s.readable(f, r.user):
			s.errorf("%s=%s: %s is %04o owned by %q; etcd runs as %s and cannot read it", key, seen, host, f.mode, f.owner, r.user)
		}
	}
}

// hostFile is the host file behind a path etcd opens, and how it gets
// there: "" (etcd reads it where it is, or through its container's
// mounts) or "credential" (systemd's copy, made when the unit starts); a
// problem says why it cannot be found.
func (s *subject) hostFile(svc *service, r *process, seen string) (host, how, problem string) {
	switch {
	case r.mounts != nil:
		host, ok := r.hostPath(seen)
		if !ok {
			return "", "", fmt.Sprintf(" is not visible in etcd's container: it mounts %v", r.mounts)
		}
		return host, "", ""
	case strings.HasPrefix(seen, "/run/credentials/"+svc.name+"/"):
		src, ok := svc.credentials[path.Base(seen)]
		if !ok {
			return "", "", fmt.Sprintf(": no LoadCredential=%s in %s", path.Base(seen), svc.name)
		}
		return src, "credential", ""
	}
	return seen, "", ""
}

// withEnvFiles adds to the unit's environment its EnvironmentFile= files
// that the config writes (they override Environment=, as in systemd).
func (s *subject) withEnvFiles(svc *service) map[string]string {
	env := map[string]string{}
	for k, v := range svc.env {
		env[k] = v
	}
	prefix := strings.TrimSuffix(svc.name, path.Ext(svc.name))
	for _, ef := range svc.envFiles {
		p := strings.ReplaceAll(strings.TrimPrefix(ef, "-"), "%p", prefix)
		if f, ok := s.v.files[p]; ok {
			for k, v := range envFile(f.contents) {
				env[k] = v
			}
		}
	}
	return env
}

// envFile reads KEY=VALUE lines (an EnvironmentFile or --env-file).
func envFile(text string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			out[k] = strings.Trim(v, `"`)
		}
	}
	return out
}

// process is where etcd runs: its environment, its user and, in a
// container, what the container shows of the host (nil on the host).
type process struct {
	env    map[string]string
	user   string
	mounts []profiles.Mount
}

// hostPath is the host file behind a path in the container: the longest
// mount that holds it.
func (r *process) hostPath(p string) (string, bool) {
	best := -1
	for i, m := range r.mounts {
		if (p == m.Path || strings.HasPrefix(p, strings.TrimSuffix(m.Path, "/")+"/")) && (best < 0 || len(m.Path) > len(r.mounts[best].Path)) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	return r.mounts[best].Host + strings.TrimPrefix(p, r.mounts[best].Path), true
}

func (s *subject) etcdRuntime(svc *service, env map[string]string) *process {
	if svc.shipped != nil && svc.shipped.Container != nil {
		ct := svc.shipped.Container
		r := &process{env: map[string]string{}, user: resolve(ct.User, env)}
		if ct.InheritEnv {
			r.env = env
		}
		for _, m := range ct.Mounts {
			r.mounts = append(r.mounts, profiles.Mount{Host: resolve(m.Host, env), Path: m.Path, ReadOnly: m.ReadOnly})
		}
		return r
	}
	if run := containerRun(svc.execStart); run != nil {
		r := &process{env: run.env, user: run.user, mounts: run.mounts}
		for _, f := range run.envFiles {
			written, ok := s.v.files[f]
			if !ok {
				s.errorf("etcd's container reads --env-file=%s, which the config does not write", f)
				return nil
			}
			for k, v := range envFile(written.contents) {
				r.env[k] = v
			}
		}
		if r.user == "" {
			r.user = s.imageUser(run.image)
		}
		return r
	}
	return &process{env: env, user: svc.user}
}

// resolve reads "$VAR" from the unit's environment.
func resolve(s string, env map[string]string) string {
	if name, ok := strings.CutPrefix(s, "$"); ok {
		return env[name]
	}
	return s
}

func (s *subject) imageUser(image string) string {
	repo := image
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		repo = image[:i]
	}
	for _, img := range s.k.Images {
		if img.Name == repo {
			return img.User
		}
	}
	s.errorf("the contract does not say whom image %s runs as", image)
	return "?"
}

func isRoot(user string) bool { return user == "" || user == "root" || user == "0" }

// readable: the file's owner is the user (by name or id) and may read it,
// or everyone may.
func (s *subject) readable(f vfile, user string) bool {
	if f.mode&0o004 != 0 {
		return true
	}
	return f.mode&0o400 != 0 && s.sameUser(f.owner, user)
}

func (s *subject) sameUser(a, b string) bool {
	if a == b {
		return true
	}
	uid := func(x string) int {
		if n, err := strconv.Atoi(x); err == nil {
			return n
		}
		if u, ok := s.k.User(x); ok && u.UID >= 0 {
			return u.UID
		}
		return -2
	}
	return uid(a) >= 0 && uid(a) == uid(b)
}

// containerRun reads a `docker run` or `podman run` command line.
type run struct {
	image, user string
	env         map[string]string
	envFiles    []string
	mounts      []profiles.Mount
	options     map[string][]string // host path -> the mount's options
}

func containerRun(ws []string) *run {
	if len(ws) < 2 || !slices.Contains([]string{"docker", "podman"}, path.Base(command(ws))) || ws[1] != "run" {
		return nil
	}
	r := &run{env: map[string]string{}, options: map[string][]string{}}
	withValue := map[string]bool{"--name": true, "--net": true, "--network": true, "-v": true, "--volume": true,
		"--env-file": true, "-e": true, "--env": true, "-u": true, "--user": true, "-p": true, "--publish": true,
		"--entrypoint": true, "--ipc": true, "--restart": true}
	for i := 2; i < len(ws); i++ {
		flag, value, hasValue := strings.Cut(ws[i], "=")
		if !strings.HasPrefix(flag, "-") {
			r.image = ws[i]
			break
		}
		if withValue[flag] && !hasValue && i+1 < len(ws) {
			i++
			value = ws[i]
		}
		switch flag {
		case "-v", "--volume":
			parts := strings.SplitN(value, ":", 3)
			if len(parts) >= 2 {
				m := profiles.Mount{Host: parts[0], Path: parts[1]}
				if len(parts) == 3 {
					r.options[m.Host] = strings.Split(parts[2], ",")
					m.ReadOnly = slices.Contains(r.options[m.Host], "ro")
				}
				r.mounts = append(r.mounts, m)
			}
		case "--env-file":
			r.envFiles = append(r.envFiles, value)
		case "-e", "--env":
			k, v, _ := strings.Cut(value, "=")
			r.env[k] = v
		case "-u", "--user":
			r.user = value
		}
	}
	return r
}

// checkMounts: every container the config runs can read the host
// directories it mounts under the system's SELinux: where SELinux
// enforces and the engine labels containers (container_t), a bind mount
// must be relabelled for containers (z or Z).
func (s *subject) checkMounts() {
	for _, name := range sortedKeys(s.v.units) {
		svc := s.serviceOf(name)
		for _, cmd := range svc.commands {
			r := containerRun(cmd)
			if r == nil {
				continue
			}
			for _, m := range r.mounts {
				if m.Host == "/etc/swarmboot/tls" {
					s.tally.count("TLS mounts readable", s.p.Name)
				}
				opts := r.options[m.Host]
				if s.k.SELinux.Mode == profiles.SELinuxEnforcing && s.k.SELinux.Labels &&
					!slices.Contains(opts, "z") && !slices.Contains(opts, "Z") {
					s.errorf("%s: %s mounts %s without z: SELinux enforces and the container (container_t) cannot read it", name, r.image, m.Host)
				}
			}
		}
	}
}

// checkDockerd: the engine's command line after the config's drop-ins
// keeps everything the system's own unit passes, and each of its flags
// (the unit's variables expanded) exists in every engine the profile
// claims.
func (s *subject) checkDockerd() {
	if !s.n.Has(cluster.RoleDocker) && !s.n.Has(cluster.RoleManager) {
		return
	}
	svc := s.serviceOf(s.k.Docker.Unit)
	if svc == nil || svc.shipped == nil {
		s.errorf("the engine's unit %s is not the system's", s.k.Docker.Unit)
		return
	}
	if svc.reset {
		s.tally.count("engine command line kept", s.p.Name)
		if shipped := words(svc.shipped.ExecStart); len(svc.execStart) < len(shipped) || !slices.Equal(svc.execStart[:len(shipped)], shipped) {
			s.errorf("the drop-in's ExecStart=%s drops or changes what the system's %s runs: %s", strings.Join(svc.execStart, " "), svc.name, svc.shipped.ExecStart)
		}
	}
	line := expand(svc.execStart, svc.env)
	if len(line) == 0 {
		s.errorf("%s has no ExecStart", svc.name)
		return
	}
	s.tally.count("dockerd flags", s.p.Name)
	d := profiles.DockerdFlags()
	for _, v := range s.engines() {
		for _, w := range line[1:] {
			if strings.HasPrefix(w, "-") && !d.Accepts(v, w) {
				s.errorf("dockerd %s has no %s (ExecStart=%s)", v, w, strings.Join(line, " "))
			}
		}
	}
}

// engines are the Docker versions the node's profile claims.
func (s *subject) engines() []string {
	if r := s.p.Release; r != nil {
		return s.k.Docker.Releases[r.Version]
	}
	return s.k.Engines()
}

// checkCommands: every command the config's units and drop-ins run, and
// the commands a shell line runs, and cloud-config's runcmd, exists on
// the system.
func (s *subject) checkCommands() {
	if s.snippets() {
		return // the operator's snippets run what the operator knows is there
	}
	names := sortedKeys(s.v.units)
	for _, u := range sortedKeys(s.v.dropins) {
		if !slices.Contains(names, u) {
			names = append(names, u)
		}
	}
	for _, name := range names {
		svc := s.serviceOf(name)
		if svc == nil {
			continue // checkDropins says so
		}
		for _, cmd := range svc.commands {
			s.checkCommand(name, command(cmd))
			if sh := path.Base(command(cmd)); (sh == "sh" || sh == "bash") && len(cmd) > 2 && cmd[1] == "-c" {
				for _, inner := range shellCommands(cmd[2]) {
					s.checkCommand(name, inner)
				}
			}
		}
	}
	for _, argv := range s.v.runcmd {
		found := false
		for _, dir := range []string{"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"} {
			found = found || s.k.HasTool(dir+argv[0], false)
		}
		s.tally.count("commands exist", s.p.Name)
		if !found {
			s.errorf("runcmd runs %s, which no directory of PATH holds on the system", argv[0])
		}
	}
}

// snippets reports whether the operator's snippets reach this config.
func (s *subject) snippets() bool {
	kind := s.v.format.Snippets()
	return len(s.c.Snippets.Of(kind))+len(s.n.Snippets.Of(kind)) > 0
}

func (s *subject) checkCommand(unit, cmd string) {
	s.tally.count("commands exist", s.p.Name)
	if !strings.HasPrefix(cmd, "/") || !s.k.HasTool(cmd, false) {
		s.errorf("%s runs %s, which the system does not ship", unit, cmd)
	}
}

// shellCommands are the commands a `sh -c` line runs: the first word of
// each command between ||, &&, ; and |.
func shellCommands(script string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(strings.NewReplacer("||", ";", "&&", ";", "|", ";").Replace(script), func(r rune) bool { return r == ';' }) {
		if f := strings.Fields(part); len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}

// checkDropins: a drop-in extends a unit the config writes or one the
// system ships.
func (s *subject) checkDropins() {
	for _, u := range sortedKeys(s.v.dropins) {
		if _, own := s.v.units[u]; own {
			continue
		}
		if _, shipped := s.k.Unit(u); !shipped {
			s.errorf("drop-ins for %s, a unit the system does not ship", u)
			continue
		}
		s.tally.count("drop-ins on shipped units", s.p.Name)
	}
}

// checkOwners: every owner the config gives a file is a user of the system.
func (s *subject) checkOwners() {
	for _, p := range sortedKeys(s.v.files) {
		owner := s.v.files[p].owner
		if isRoot(owner) {
			continue
		}
		s.tally.count("owners exist", s.p.Name)
		if _, ok := s.k.User(owner); !ok {
			s.errorf("%s is owned by %s, no user of the system", p, owner)
		}
	}
}

// checkNetwork: the static address lands on the node's NIC: the one its
// MAC names, else the interface the description names (and no other),
// else every name the system gives a NIC (the contract's examples), never
// a link Docker makes.
func (s *subject) checkNetwork() {
	if s.c.Network == nil {
		return
	}
	selectors := s.networkSelectors()
	if len(selectors) == 0 {
		s.errorf("static network, but the config addresses no NIC")
		return
	}
	devices := sortedKeys(profiles.DockerdFlags().Devices)
	// What the description asks, not what loading made of it: an
	// interface it does not write must not come from a default.
	named := s.c.Pos("$.network.interface") != s.c.Pos("$.network")
	for _, sel := range selectors {
		switch {
		case s.n.MAC != "":
			s.tally.count("MAC selected", s.p.Name)
			if !sel.selects("ens3", s.n.MAC) || sel.selects("ens4", "52:54:00:ff:ff:ff") {
				s.errorf("%s does not select the NIC by its MAC %s", sel.what, s.n.MAC)
			}
		case named:
			s.tally.count("interface selected", s.p.Name)
			if !sel.selects(s.c.Network.Interface, "") {
				s.errorf("%s does not select interface %s", sel.what, s.c.Network.Interface)
			}
			for _, other := range append(slices.Clone(s.k.NIC.Examples), devices...) {
				if other != s.c.Network.Interface && sel.selects(other, "") {
					s.errorf("%s selects %s besides the interface %s", sel.what, other, s.c.Network.Interface)
				}
			}
		default:
			s.tally.count("NIC names selected", s.p.Name)
			for _, name := range s.k.NIC.Examples {
				if !sel.selects(name, "") {
					s.errorf("%s does not select %s, a NIC name of the system", sel.what, name)
				}
			}
			for _, dev := range devices {
				if sel.selects(dev, "") {
					s.errorf("%s selects %s, a link Docker makes", sel.what, dev)
				}
			}
		}
	}
}

// selector is one consumer's reading of the static network config.
type selector struct {
	what    string
	selects func(name, mac string) bool
}

func (s *subject) networkSelectors() []selector {
	var out []selector
	switch s.p.Network {
	case profiles.NetworkNetworkd, profiles.NetworkCoreOSUnit, profiles.NetworkManager:
		var files []selector
		for _, p := range sortedKeys(s.v.files) {
			switch {
			case strings.HasPrefix(p, "/etc/systemd/network/") && strings.HasSuffix(p, ".network"):
				files = append(files, networkdSelector(p, s.v.files[p].contents, false))
			case strings.HasPrefix(p, "/etc/NetworkManager/system-connections/"):
				files = append(files, nmSelector(p, s.v.files[p].contents))
			}
		}
		if len(files) > 0 {
			out = append(out, anyOf(string(s.p.Network)+" files", files))
		}
	case profiles.NetworkCloudInit:
		data := s.files[s.n.Name+"/network-config"]
		if data == nil {
			return nil
		}
		// netplan reads it on the images these profiles stand for
		// (Ubuntu's, Debian's from 12 on): it must take the document,
		// and select the NIC.
		out = append(out, netplanSelector(s.t, data))
		if _, err := consumers.Netplan(data); err != nil && !(errors.Is(err, consumers.ErrToolMissing) && !testutil.InCI()) &&
			!strings.Contains(err.Error(), "`gateway6` has been deprecated") {
			s.errorf("netplan refuses network-config: %v", err)
		}
		// cloud-init's own renderers (an image without netplan) take an
		// entry's key as the NIC's name: they serve a MAC or a named
		// interface, never NIC name globs (render/nocloud).
		if s.n.MAC == "" && s.c.Network.Interface == "" {
			return out
		}
		units, err := cloudInitNetwork(data)
		if errors.Is(err, consumers.ErrToolMissing) && !testutil.InCI() {
			s.t.Logf("outside CI only: %v", err)
			return out
		}
		if err != nil {
			s.errorf("cloud-init rejects network-config: %v", err)
			return out
		}
		var made []selector
		for _, name := range sortedKeys(units) {
			// On a node cloud-init names a MAC-matched entry after the
			// NIC with that MAC; here, with no such NIC, after its key:
			// only the MAC is held.
			made = append(made, networkdSelector(name, units[name], true))
		}
		out = append(out, anyOf("cloud-init's networkd files", made))
	}
	return out
}

// netConverted caches cloud-init's renderings: a node's network-config is
// the same in the TLS and the plain form, and each run starts Python.
var netConverted sync.Map // string(network-config) -> netConversion

type netConversion struct {
	units map[string]string
	err   error
}

func cloudInitNetwork(data []byte) (map[string]string, error) {
	if c, ok := netConverted.Load(string(data)); ok {
		return c.(netConversion).units, c.(netConversion).err
	}
	units, err := consumers.NetworkConfig(data)
	netConverted.Store(string(data), netConversion{units, err})
	return units, err
}

// anyOf selects a NIC any of the files selects: each is a config of its
// own (networkd applies the first file that matches a link).
func anyOf(what string, files []selector) selector {
	var names []string
	for _, f := range files {
		names = append(names, f.what)
	}
	return selector{what + " (" + strings.Join(names, ", ") + ")", func(name, mac string) bool {
		for _, f := range files {
			if f.selects(name, mac) {
				return true
			}
		}
		return false
	}}
}

// networkdSelector reads a .network file's [Match]: Name= is a white
// space separated list of globs (systemd.network(5)), MACAddress= a list
// of addresses; every key given must match.
func networkdSelector(what, text string, ignoreNameWithMAC bool) selector {
	opts, err := unit.DeserializeOptions(strings.NewReader(text))
	if err != nil {
		panic(err)
	}
	var names, macs []string
	for _, o := range opts {
		if o.Section != "Match" {
			continue
		}
		switch o.Name {
		case "Name":
			names = append(names, strings.Fields(o.Value)...)
		case "MACAddress":
			macs = append(macs, strings.Fields(o.Value)...)
		}
	}
	if ignoreNameWithMAC && len(macs) > 0 {
		names = nil
	}
	return selector{what, func(name, mac string) bool {
		return (len(names) == 0 || anyGlob(names, name)) && (len(macs) == 0 || slices.Contains(macs, mac)) && len(names)+len(macs) > 0
	}}
}

// nmSelector reads a NetworkManager keyfile: [connection] interface-name
// (exact), [ethernet] mac-address, [match] interface-name (a ;-separated
// list of globs, any of which selects: nm_wildcard_match_check).
func nmSelector(what, text string) selector {
	kv := map[string]string{}
	section := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		case strings.Contains(line, "=") && !strings.HasPrefix(line, "#"):
			k, v, _ := strings.Cut(line, "=")
			kv[section+"."+k] = v
		}
	}
	globs := strings.FieldsFunc(kv["match.interface-name"], func(r rune) bool { return r == ';' })
	return selector{what, func(name, mac string) bool {
		ok := kv["connection.interface-name"] != "" || kv["ethernet.mac-address"] != "" || len(globs) > 0
		if n := kv["connection.interface-name"]; n != "" {
			ok = ok && n == name
		}
		if m := kv["ethernet.mac-address"]; m != "" {
			ok = ok && strings.EqualFold(m, mac)
		}
		if len(globs) > 0 {
			ok = ok && anyGlob(globs, name)
		}
		return ok
	}}
}

// netplanSelector reads network-config v2 as netplan does (Ubuntu's and
// Debian's cloud images): an entry selects by match.name (a glob) and
// match.macaddress, and without a match by its key (netplan's
// src/networkd.c writes Name= from them).
func netplanSelector(t *testing.T, data []byte) selector {
	var doc struct {
		Ethernets map[string]struct {
			Match struct {
				Name string `yaml:"name"`
				MAC  string `yaml:"macaddress"`
			} `yaml:"match"`
		} `yaml:"ethernets"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return selector{"netplan's reading of network-config", func(name, mac string) bool {
		for key, e := range doc.Ethernets {
			byName := e.Match.Name == "" && e.Match.MAC == "" && key == name || e.Match.Name != "" && anyGlob([]string{e.Match.Name}, name)
			byMAC := e.Match.MAC != "" && strings.EqualFold(e.Match.MAC, mac) && (e.Match.Name == "" || anyGlob([]string{e.Match.Name}, name))
			if byName || byMAC {
				return true
			}
		}
		return false
	}}
}

func anyGlob(globs []string, name string) bool {
	for _, g := range globs {
		if ok, err := path.Match(g, name); err == nil && ok {
			return true
		}
	}
	return false
}
