package profiles

import (
	"regexp"
	"slices"
	"sort"
	"testing"
)

// TestEveryProfileHasAContract: each built-in profile's facts come from a
// contract, and no contract is left without its profile.
func TestEveryProfileHasAContract(t *testing.T) {
	for _, p := range Families() {
		if _, ok := ContractOf(p); !ok {
			t.Errorf("profile %s has no contracts/%s.yaml", p.Name, p.Name)
		}
	}
	for name := range contracts {
		if _, ok := Lookup(name); !ok {
			t.Errorf("contracts/%s.yaml: no profile %s", name, name)
		}
	}
}

// TestProfilesSayWhatTheirContractsRead: the facts a profile states (the
// engine's unit and command line, etcd's unit and user, how its wrapper
// shows the TLS directory, the NIC names, SELinux, the shell and the
// docker CLI, the releases and their engines) are the contract's, which
// were read from the system's sources.
func TestProfilesSayWhatTheirContractsRead(t *testing.T) {
	for _, p := range Families() {
		c, ok := ContractOf(p)
		if !ok {
			continue
		}
		t.Run(p.Name, func(t *testing.T) {
			docker, ok := c.Unit(p.Docker.Unit)
			switch {
			case !ok || c.Docker.Unit != p.Docker.Unit:
				t.Errorf("the contract ships no engine unit %s", p.Docker.Unit)
			case docker.ExecStart != p.Docker.ExecStart:
				// The drop-in repeats it: anything else loses a flag
				// the system passes, or adds one it refuses.
				t.Errorf("engine command line\n got %s\nwant %s (the system's own docker.service)", p.Docker.ExecStart, docker.ExecStart)
			}
			etcd, shipped := c.Unit(p.Etcd.Unit)
			if shipped == (p.Etcd.Config == EtcdContainerUnit) {
				t.Errorf("etcd unit %s: shipped by the system %v, but the profile's etcd config is %q", p.Etcd.Unit, shipped, p.Etcd.Config)
			}
			if tls := p.Etcd.TLS; tls.Files == EtcdTLSCopy {
				if _, ok := c.User(tls.User); !ok {
					t.Errorf("the TLS copies' owner %s is no user of the system", tls.User)
				}
				if shipped && etcd.Container != nil && !containerShows(etcd.Container, tls) {
					t.Errorf("%s's container does not show %s (named by %s) at %s: %+v", etcd.Name, tls.Dir, tls.DirVar, tls.SeenAs, etcd.Container.Mounts)
				}
			}
			if !slices.Equal(p.NICNames, c.NIC.Names) {
				t.Errorf("NIC names %v, the system names NICs %v", p.NICNames, c.NIC.Names)
			}
			if p.SELinux != c.SELinux.Mode {
				t.Errorf("SELinux %q, the system boots %q", p.SELinux, c.SELinux.Mode)
			}
			for _, cmd := range []string{p.Shell, p.Docker.CLI} {
				if !c.HasTool(cmd, false) {
					t.Errorf("%s is not among the system's tools", cmd)
				}
			}
			var releases []string
			for _, r := range p.Releases {
				releases = append(releases, r.Version)
			}
			var claimed []string
			for r, engines := range c.Docker.Releases {
				claimed = append(claimed, r)
				for _, v := range engines {
					if _, ok := dockerd.Versions[v]; !ok {
						t.Errorf("release %s: Docker %s is not read in contracts/dockerd.yaml", r, v)
					}
				}
			}
			sort.Strings(releases)
			sort.Strings(claimed)
			if !slices.Equal(releases, claimed) {
				t.Errorf("releases %v, the contract's engines are for %v", releases, claimed)
			}
			for r, v := range c.Systemd.releases() {
				if !slices.Contains(releases, r) {
					t.Errorf("systemd %d of release %s, which the profile does not cover", v, r)
				}
			}
		})
	}
}

func (s *SystemdFact) releases() map[string]int {
	if s == nil {
		return nil
	}
	return s.Releases
}

// containerShows reports whether the wrapper's container mounts the
// directory the variable names at the path etcd reads.
func containerShows(c *Container, tls EtcdTLS) bool {
	for _, m := range c.Mounts {
		if m.Host == "$"+tls.DirVar && m.Path == tls.SeenAs {
			return true
		}
	}
	return false
}

// TestContractSources: every source is pinned (a full commit, a package
// version with its hash, a module version or a public thread), and every
// contract was read on a real day.
func TestContractSources(t *testing.T) {
	hash := regexp.MustCompile(`^[0-9a-f]{40}$`)
	day := regexp.MustCompile(`^20[0-9]{2}-[01][0-9]-[0-3][0-9]$`)
	for name, c := range contracts {
		if !day.MatchString(c.Read) {
			t.Errorf("%s: read %q, want YYYY-MM-DD", name, c.Read)
		}
		for sname, s := range c.Sources {
			switch {
			case s.Repo != "" && s.Repo == "swarmboot/swarmboot": // this repository: the boot test
			case s.Repo != "" && !hash.MatchString(s.Commit):
				t.Errorf("%s: source %s: repo %s without a full commit", name, sname, s.Repo)
			case s.Package != "" && (s.Version == "" || s.Suite == "" || (s.SHA256 == "")):
				t.Errorf("%s: source %s: package %s without version, suite and hash", name, sname, s.Package)
			case s.Module != "" && s.Version == "":
				t.Errorf("%s: source %s: module without a version", name, sname)
			case s.Repo == "" && s.Package == "" && s.Module == "" && s.Issue == "":
				t.Errorf("%s: source %s names nothing", name, sname)
			}
		}
	}
	if !day.MatchString(dockerd.Read) {
		t.Errorf("dockerd.yaml: read %q", dockerd.Read)
	}
	for v, read := range dockerd.Versions {
		if read.Tag == "" || !hash.MatchString(read.Commit) || len(read.Flags) == 0 {
			t.Errorf("dockerd.yaml: %s: tag %q, commit %q, %d flags", v, read.Tag, read.Commit, len(read.Flags))
		}
	}
}

func TestDockerdAccepts(t *testing.T) {
	d := DockerdFlags()
	for _, tc := range []struct {
		version, flag string
		want          bool
	}{
		{"1.12.6", "--host=fd://", true},
		{"1.12.6", "-H", true},
		{"29.5.2", "--tls=false", true},
		{"29.5.2", "--selinux-enabled=true", true},
		{"1.12.6", "--daemon", false},
		{"18.01.0", "-d", false},
		{"9.9.9", "--host", false},
	} {
		if got := d.Accepts(tc.version, tc.flag); got != tc.want {
			t.Errorf("Docker %s takes %s: %v, want %v", tc.version, tc.flag, got, tc.want)
		}
	}
}
