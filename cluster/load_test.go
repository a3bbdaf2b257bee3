package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/swarmboot/swarmboot/internal/testutil"
)

// base is a valid description that the cases below break one way each.
const base = `version: 1
cluster: demo
profile: ubuntu
network: {prefix: 24, gateway: 10.0.0.254}
etcd: {discovery: static}
docker: {port: 2375}
swarm: {manager: {port: 8333}}
nodes:
  - {name: a, ip: 10.0.0.1, roles: [etcd, docker, manager]}
  - {name: b, ip: 10.0.0.2, roles: [etcd, docker]}
  - {name: c, ip: 10.0.0.3, roles: [etcd, docker]}
ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKZGePaSh4ubTK9UavI4Z5FLgPGTmdMKCwyyhocrgBfS ops@example"]
`

func TestLoadValid(t *testing.T) {
	c, rep := Load("base.yaml", []byte(base))
	if err := rep.Err(true); err != nil {
		t.Fatalf("valid description rejected:\n%v", err)
	}
	if c.Etcd.ClientPort != 2379 || c.Etcd.PeerPort != 2380 || c.Etcd.Token != "demo-etcd" ||
		c.Swarm.Image != DefaultSwarmImage || c.Swarm.Path != "/swarm" || c.Docker.Bind != BindNode ||
		!c.InstallPackages || c.Network.Interface != "" || c.Nodes[1].Profile != "ubuntu" {
		t.Errorf("defaults not applied: %+v", c)
	}
	if m := c.Manager(); m == nil || m.Name != "a" {
		t.Errorf("manager = %v, want a", m)
	}
}

// edit replaces old with new in base, failing the test if old is absent.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(base, old) {
		t.Fatalf("case does not apply: %q not in base", old)
	}
	return strings.Replace(base, old, new, 1)
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name      string
		old, new  string // edit of base; old == "" means new is the whole input
		kind      error
		pos       string // line:col
		path, msg string // substrings expected in the entry
	}{
		{"empty file", "", "", ErrEmpty, "1:1", "", "empty"},
		{"only comments", "", "# nothing\n", ErrEmpty, "1:1", "", "only comments"},
		{"syntax", "cluster: demo", "cluster: [demo", ErrSyntax, "3:1", "", "YAML syntax"},
		{"tab indentation", "profile: ubuntu", "profile: ubuntu\n\tfoo: 1", ErrSyntax, "4:1", "", "YAML syntax"},
		{"unclosed quote", "cluster: demo", "cluster: 'demo", ErrSyntax, "2:10", "", "YAML syntax"},
		{"two documents", "", base + "---\nversion: 1\n", ErrMultiDoc, "13:1", "", "second YAML document"},
		{"top-level list", "", "- a\n- b\n", ErrType, "1:1", "$", "expected a mapping"},
		{"unknown key with suggestion", "profile: ubuntu", "profle: ubuntu", ErrUnknownKey, "3:1", "$.profle", `did you mean "profile"`},
		{"unknown nested key", "docker: {port: 2375}", "docker: {prot: 2375}", ErrUnknownKey, "6:10", "$.docker.prot", `did you mean "port"`},
		{"duplicate key", "profile: ubuntu", "profile: ubuntu\nprofile: debian", ErrDuplicateKey, "4:1", "$.profile", "twice"},
		{"wrong type", "docker: {port: 2375}", "docker: {port: high}", ErrType, "6:16", "$.docker.port", "expected a whole number"},
		{"string expected", "cluster: demo", "cluster: 42", ErrType, "2:10", "$.cluster", "put it in quotes"},
		{"missing version", "version: 1\n", "", ErrRequired, "1:1", "$", "version: 1"},
		{"bad version", "version: 1", "version: 2", ErrVersion, "1:10", "$.version", "not supported"},
		{"bad cluster name", "cluster: demo", "cluster: Demo_1", ErrInvalidValue, "2:10", "$.cluster", "lower-case"},
		{"unknown profile", "profile: ubuntu", "profile: ubunto", ErrUnknownValue, "3:10", "$.profile", `did you mean "ubuntu"`},
		{"unknown node profile", "roles: [etcd, docker]}", "roles: [etcd, docker], profile: windows}", ErrUnknownValue, "10:61", "$.nodes[1].profile", "use one of"},
		{"duplicate name", "name: b,", "name: a,", ErrDuplicate, "10:12", "$.nodes[1].name", "already used by $.nodes[0]"},
		{"duplicate ip", "ip: 10.0.0.2", "ip: 10.0.0.1", ErrDuplicate, "10:19", "$.nodes[1].ip", "already used"},
		{"invalid ip", "ip: 10.0.0.2", "ip: 10.0.0.256", ErrInvalidValue, "10:19", "$.nodes[1].ip", "not an IP address"},
		{"loopback ip", "ip: 10.0.0.2", "ip: 127.0.0.1", ErrInvalidValue, "10:19", "$.nodes[1].ip", "loopback"},
		{"invalid hostname", "name: b,", "name: b_2,", ErrInvalidValue, "10:12", "$.nodes[1].name", "not a valid host name"},
		{"prefix out of range", "prefix: 24", "prefix: 33", ErrOutOfRange, "4:19", "$.network.prefix", "too long"},
		{"prefix missing", "network: {prefix: 24, gateway: 10.0.0.254}", "network: {gateway: 10.0.0.254}", ErrRequired, "4:10", "$.network", "prefix"},
		{"no etcd member", "roles: [etcd, docker, manager]}\n  - {name: b, ip: 10.0.0.2, roles: [etcd, docker]}\n  - {name: c, ip: 10.0.0.3, roles: [etcd, docker]}",
			"roles: [docker, manager]}", ErrTopology, "9:3", "$.nodes", "no node has the etcd role"},
		{"no docker host", "roles: [etcd, docker, manager]}\n  - {name: b, ip: 10.0.0.2, roles: [etcd, docker]}\n  - {name: c, ip: 10.0.0.3, roles: [etcd, docker]}",
			"roles: [etcd, manager]}", ErrTopology, "9:3", "$.nodes", "no node has the docker role"},
		{"manager port clash", "manager: {port: 8333}", "manager: {port: 2375}", ErrPortConflict, "7:25", "$.swarm.manager.port", "Ways out"},
		{"engine on etcd port", "docker: {port: 2375}", "docker: {port: 2379}", ErrPortConflict, "6:16", "$.docker.port", "both use port 2379"},
		{"port out of range", "docker: {port: 2375}", "docker: {port: 70000}", ErrOutOfRange, "6:16", "$.docker.port", "1-65535"},
		{"url without value", "etcd: {discovery: static}", "etcd: {discovery: url}", ErrRequired, "5:7", "$.etcd", "needs `url:`"},
		{"srv without value", "etcd: {discovery: static}", "etcd: {discovery: srv}", ErrRequired, "5:7", "$.etcd", "needs `srv:`"},
		{"unknown discovery", "etcd: {discovery: static}", "etcd: {discovery: dns}", ErrUnknownValue, "5:19", "$.etcd.discovery", "use one of"},
		{"url with static", "etcd: {discovery: static}", "etcd: {discovery: static, url: http://x}", ErrNotApplicable, "5:32", "$.etcd.url", "only read with"},
		{"unknown role", "roles: [etcd, docker]}", "roles: [etcd, dockr]}", ErrUnknownValue, "10:43", "$.nodes[1].roles[1]", `did you mean "docker"`},
		{"no roles", "roles: [etcd, docker]}", "roles: []}", ErrRequired, "10:5", "$.nodes[1]", "no roles"},
		{"node without ip", ", ip: 10.0.0.2", "", ErrRequired, "10:5", "$.nodes[1]", "no ip"},
		{"bad ssh key", "profile: ubuntu", "profile: ubuntu\nssh_authorized_keys: [hello]", ErrInvalidValue, "4:23", "$.ssh_authorized_keys[0]", "not an SSH public key"},
		{"bad duration", "swarm: {manager: {port: 8333}}", "swarm: {ttl: soon}", ErrInvalidValue, "7:14", "$.swarm.ttl", "duration"},
		{"ttl below heartbeat", "swarm: {manager: {port: 8333}}", "swarm: {ttl: 10s, heartbeat: 20s}", ErrInvalidValue, "7:14", "$.swarm.ttl", "longer than heartbeat"},
		{"socket on ubuntu", "docker: {port: 2375}", "docker: {activation: socket}", ErrNotApplicable, "6:22", "$.docker.activation", "socket-activated"},
		{"relative path", "swarm: {manager: {port: 8333}}", "swarm: {image_archive: swarm.tar}", ErrInvalidValue, "7:24", "$.swarm.image_archive", "absolute path"},
		{"merge key", "docker: {port: 2375}", "docker: {<<: {port: 2375}}", ErrUnknownKey, "6:10", "$", "merge keys"},
		{"invalid mac", "roles: [etcd, docker]}", "roles: [etcd, docker], mac: 52:54:00:zz:00:01}", ErrInvalidValue, "10:57", "$.nodes[1].mac", "not a MAC address"},
		{"duplicate mac", "roles: [etcd, docker]}\n  - {name: c, ip: 10.0.0.3, roles: [etcd, docker]}",
			"roles: [etcd, docker], mac: 52:54:00:00:00:01}\n  - {name: c, ip: 10.0.0.3, roles: [etcd, docker], mac: 52-54-00-00-00-01}", ErrDuplicate, "11:57", "$.nodes[2].mac", "already used"},
		{"data dir is the root", "etcd: {discovery: static}", "etcd: {data_dir: /}", ErrInvalidValue, "5:18", "$.etcd.data_dir", "of the system itself"},
		{"data dir in proc", "etcd: {discovery: static}", "etcd: {data_dir: /proc/etcd}", ErrInvalidValue, "5:18", "$.etcd.data_dir", "of the system itself"},
		{"interface alias", "gateway: 10.0.0.254}", "gateway: 10.0.0.254, interface: \"a:b\"}", ErrInvalidValue, "4:55", "$.network.interface", "not an interface name"},
		{"interface dot", "gateway: 10.0.0.254}", "gateway: 10.0.0.254, interface: \".\"}", ErrInvalidValue, "4:55", "$.network.interface", "not an interface name"},
		{"interface dotdot", "gateway: 10.0.0.254}", "gateway: 10.0.0.254, interface: \"..\"}", ErrInvalidValue, "4:55", "$.network.interface", "not an interface name"},
		{"interface empty", "gateway: 10.0.0.254}", "gateway: 10.0.0.254, interface: \"\"}", ErrInvalidValue, "4:55", "$.network.interface", "not an interface name"},
		{"srv is an address", "etcd: {discovery: static}", "etcd: {discovery: srv, srv: \"10.0.0.1\"}", ErrInvalidValue, "5:29", "$.etcd.srv", "not a DNS domain"},
		{"token with url discovery", "etcd: {discovery: static}", "etcd: {discovery: url, url: \"https://d.example/x\", token: t}", ErrNotApplicable, "5:59", "$.etcd.token", "not read with `discovery: url`"},
		{"link-local ip", "ip: 10.0.0.2", "ip: \"fe80::1\"", ErrInvalidValue, "10:19", "$.nodes[1].ip", "link-local"},
		{"limited broadcast", "ip: 10.0.0.2", "ip: 255.255.255.255", ErrInvalidValue, "10:19", "$.nodes[1].ip", "broadcast"},
		{"network address", "ip: 10.0.0.2", "ip: 10.0.0.0", ErrInvalidValue, "10:19", "$.nodes[1].ip", "network or broadcast address of 10.0.0.0/24"},
		{"subnet broadcast", "ip: 10.0.0.2", "ip: 10.0.0.255", ErrInvalidValue, "10:19", "$.nodes[1].ip", "network or broadcast address"},
		{"node is the gateway", "ip: 10.0.0.2", "ip: 10.0.0.254", ErrInvalidValue, "10:19", "$.nodes[1].ip", "gateway's address"},
		{"multicast mac", "roles: [etcd, docker]}", "roles: [etcd, docker], mac: \"01:00:5e:00:00:01\"}", ErrInvalidValue, "10:57", "$.nodes[1].mac", "multicast or broadcast MAC"},
		{"broadcast mac", "roles: [etcd, docker]}", "roles: [etcd, docker], mac: \"ff:ff:ff:ff:ff:ff\"}", ErrInvalidValue, "10:57", "$.nodes[1].mac", "multicast or broadcast MAC"},
		{"float for a whole number", "docker: {port: 2375}", "docker: {port: 23.75}", ErrType, "6:16", "$.docker.port", "expected a whole number, got the number 23.75"},
		{"invalid UTF-8", "cluster: demo", "cluster: \"de\xffmo\"", ErrSyntax, "2:13", "", "not UTF-8"},
		{"token with a quote", "etcd: {discovery: static}", "etcd: {token: \"a'b\"}", ErrInvalidValue, "5:15", "$.etcd.token", "printable ASCII"},
		{"url with a space", "etcd: {discovery: static}", "etcd: {discovery: url, url: \"https://d.example/a b\"}", ErrInvalidValue, "5:29", "$.etcd.url", "percent-encode"},
		{"url with a dollar", "etcd: {discovery: static}", "etcd: {discovery: url, url: \"https://d.example/$HOME\"}", ErrInvalidValue, "5:29", "$.etcd.url", "percent-encode"},
		{"node gateway of another family", "roles: [etcd, docker]}", "roles: [etcd, docker], gateway: \"fd00::1\"}", ErrInvalidValue, "10:61", "$.nodes[1].gateway", "different IP families"},
		{"placeholder ssh key", "profile: ubuntu", "profile: ubuntu\nssh_authorized_keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIReplaceWithYourOwnPublicKeyxxxxxxxxxxxxxx you@example\"]", ErrInvalidValue, "4:23", "$.ssh_authorized_keys[0]", "not base64"},
		{"truncated ssh key", "profile: ubuntu", "profile: ubuntu\nssh_authorized_keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKZGePaSh4ubTK9UavI4Z5FLgPGTmdMKCwyy you@example\"]", ErrInvalidValue, "4:23", "$.ssh_authorized_keys[0]", "not 32 bytes"},
		{"ssh key of another type", "profile: ubuntu", "profile: ubuntu\nssh_authorized_keys: [\"ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIKZGePaSh4ubTK9UavI4Z5FLgPGTmdMKCwyyhocrgBfS you@example\"]", ErrInvalidValue, "4:23", "$.ssh_authorized_keys[0]", "not a ssh-rsa key"},
		{"debian without release", "profile: ubuntu", "profile: debian", ErrNotApplicable, "3:10", "$.profile", "name the release: debian-12, debian-13, debian-14"},
		{"node debian without release", "roles: [etcd, docker]}", "roles: [etcd, docker], profile: debian}", ErrNotApplicable, "10:61", "$.nodes[1].profile", "docker-cli"},
		{"etcd 3.6 image", "etcd: {discovery: static}", "etcd: {image: quay.io/coreos/etcd:v3.6.0}\nprofile: flatcar", ErrInvalidValue, "5:15", "$.etcd.image", "etcd 3.6 removed"},
		{"etcd image without tag", "etcd: {discovery: static}", "etcd: {image: quay.io/coreos/etcd}\nprofile: flatcar", ErrInvalidValue, "5:15", "$.etcd.image", "does not pin a version"},
		{"etcd latest", "etcd: {discovery: static}", "etcd: {image: \"gcr.io/etcd-development/etcd:latest\"}\nprofile: flatcar", ErrInvalidValue, "5:15", "$.etcd.image", "v3.5 tag"},
		{"etcd tag not a version", "etcd: {discovery: static}", "etcd: {image: \"etcd:stable\"}\nprofile: flatcar", ErrInvalidValue, "5:15", "$.etcd.image", "not an etcd version"},
		{"etcd 4 image", "etcd: {discovery: static}", "etcd: {image: \"etcd:v4.0.1\"}\nprofile: flatcar", ErrInvalidValue, "5:15", "$.etcd.image", "v2 API"},
		{"etcd image on packages", "etcd: {discovery: static}", "etcd: {image: \"etcd:v3.5.17\"}", ErrNotApplicable, "5:15", "$.etcd.image", "no etcd member runs etcd from an image"},
		{"alias bomb", "", aliasBomb(), ErrTooComplex, "", "", "alias"},
		{"error flood", "", "version: 1\n" + strings.Repeat("bad: 1\n", 1000), ErrTooMany, "", "", "fix these first"},
		{"oversized", "", "version: 1\n# " + strings.Repeat("x", MaxInputSize), ErrTooLarge, "1:1", "", "larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			input := tc.new
			if tc.old != "" {
				input = edit(t, tc.old, tc.new)
			}
			_, rep := Load("c.yaml", []byte(input))
			if !rep.IsFatal(false) {
				t.Fatalf("accepted; want %v", tc.kind)
			}
			for _, e := range rep.Entries {
				if !errors.Is(e.Kind, tc.kind) {
					continue
				}
				line := rep.format(e)
				if tc.pos != "" && e.Pos.String() != tc.pos {
					t.Errorf("position %s, want %s: %s", e.Pos, tc.pos, line)
				}
				if !strings.Contains(line, tc.path) || !strings.Contains(line, tc.msg) {
					t.Errorf("entry %q lacks %q or %q", line, tc.path, tc.msg)
				}
				if !strings.HasPrefix(line, "c.yaml:") {
					t.Errorf("entry does not start with the file name: %q", line)
				}
				return
			}
			t.Errorf("no %v entry in:\n%s", tc.kind, rep)
		})
	}
}

// aliasBomb is a short file that expands far: 250,000 aliases of one
// node mapping.
func aliasBomb() string {
	return "version: 1\ncluster: x\nn: &n {name: a, ip: 10.0.0.1, roles: [etcd, docker]}\nnodes: [" +
		strings.Repeat("*n, ", 250_000) + "*n]\n"
}

// TestReportsEveryProblem: one run names every independent mistake, and a
// value that failed to decode is not reported twice.
func TestReportsEveryProblem(t *testing.T) {
	input := edit(t, "docker: {port: 2375}", "docker: {port: high, bnd: node}")
	input = strings.Replace(input, "roles: [etcd, docker]}", "roles: [etcd, dockr]}", 1)
	input = strings.Replace(input, "ip: 10.0.0.3", "ip: 10.0.0.1", 1)
	_, rep := Load("m.yaml", []byte(input))
	want := []string{
		"m.yaml:6:16: error at $.docker.port: expected a whole number",
		"m.yaml:6:22: error at $.docker.bnd: unknown key",
		"m.yaml:10:43: error at $.nodes[1].roles[1]: unknown role",
		"m.yaml:11:19: error at $.nodes[2].ip: address 10.0.0.1 is already used",
	}
	got := rep.String()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	if n := len(rep.Entries); n != len(want) {
		t.Errorf("%d entries, want %d:\n%s", n, len(want), got)
	}
}

func TestWarnings(t *testing.T) {
	cases := []struct {
		name, old, new string
		kind           error
	}{
		{"even members", ", roles: [etcd, docker]}\n  - {name: c", ", roles: [docker]}\n  - {name: c", WarnEvenEtcd},
		{"no manager", "roles: [etcd, docker, manager]", "roles: [etcd, docker]", WarnNoManager},
		{"bind all", "docker: {port: 2375}", "docker: {port: 2375, tls: false, bind: 0.0.0.0}", WarnInsecureBind},
		{"plain docker", "docker: {port: 2375}", "docker: {port: 2375, tls: false}", WarnPlain},
		{"plain etcd", "etcd: {discovery: static}", "etcd: {discovery: static, tls: false}", WarnPlain},
		{"gateway elsewhere", "gateway: 10.0.0.254", "gateway: 10.9.0.1", WarnGateway},
		{"nine etcd members", "  - {name: c, ip: 10.0.0.3, roles: [etcd, docker]}\n", "  - {name: c, ip: 10.0.0.3, roles: [etcd, docker]}\n" +
			"  - {name: d, ip: 10.0.0.4, roles: [etcd]}\n  - {name: e, ip: 10.0.0.5, roles: [etcd]}\n  - {name: f, ip: 10.0.0.6, roles: [etcd]}\n" +
			"  - {name: g, ip: 10.0.0.7, roles: [etcd]}\n  - {name: h, ip: 10.0.0.8, roles: [etcd]}\n  - {name: i, ip: 10.0.0.9, roles: [etcd]}\n", WarnManyEtcd},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, rep := Load("w.yaml", []byte(edit(t, tc.old, tc.new)))
			if rep.IsFatal(false) {
				t.Fatalf("a warning must not fail without --strict:\n%s", rep)
			}
			if !has(rep, tc.kind) || !rep.IsFatal(true) {
				t.Errorf("want warning %v, fatal with strict; got:\n%s", tc.kind, rep)
			}
		})
	}
}

// FuzzLoad: no input may panic, and every finding has a position.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(base))
	f.Add([]byte("a: &a [1]\nb: [*a, *a]\nnodes: [*a]\n"))
	f.Add([]byte("version: 1\nnodes: [{name: a, ip: '::1', roles: [etcd]}]\n"))
	f.Add([]byte("- &a [*a]\n"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, rep := Load("fuzz.yaml", data)
		for _, e := range rep.Entries {
			if e.Pos.Line < 1 || e.Pos.Col < 1 || e.Message == "" || e.Kind == nil {
				t.Fatalf("entry without position or message: %+v", e)
			}
		}
	})
}

func TestSnippetErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("syntax.yaml", "users:\n  - name: [ops\n")
	write("list.yaml", "- a\n- b\n")
	write("alias.yaml", "a: &x [1]\nb: *x\n")
	write("ok.bu", "variant: flatcar\nversion: 1.0.0\n")
	cases := []struct {
		name, snippets, want string
		kind                 error
	}{
		{"missing file", "snippets: {cloud-config: [nope.yaml]}", "c.yaml:4:27: error at $.snippets.cloud-config[0]: cannot read snippet", ErrSnippet},
		{"syntax in snippet", "snippets: {cloud-config: [syntax.yaml]}", "syntax.yaml:2:11: error", ErrSyntax},
		{"not a mapping", "snippets: {cloud-config: [list.yaml]}", "list.yaml:1:1: error at $: a snippet is a mapping", ErrSnippet},
		{"alias", "snippets: {cloud-config: [alias.yaml]}", "alias.yaml:1:4: error: anchors and aliases are not supported", ErrSnippet},
		{"unknown family", "snippets: {ignition: [ok.bu]}", `c.yaml:4:12: error at $.snippets.ignition: unknown key "ignition"`, ErrUnknownKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			desc := strings.Replace(base, "profile: ubuntu\n", "profile: ubuntu\n"+tc.snippets+"\n", 1)
			_, rep := Load(filepath.Join(dir, "c.yaml"), []byte(desc))
			if !has(rep, tc.kind) || !strings.Contains(rep.String(), filepath.Join(dir, tc.want)) {
				t.Errorf("want %q (%v) in:\n%s", tc.want, tc.kind, rep)
			}
		})
	}
	// A node's own snippet must be of a format its profile reads.
	desc := strings.Replace(base, "roles: [etcd, docker]}\n  - {name: c", "roles: [etcd, docker], snippets: {butane: [ok.bu]}}\n  - {name: c", 1)
	_, rep := Load(filepath.Join(dir, "c.yaml"), []byte(desc))
	if !has(rep, ErrNotApplicable) || !strings.Contains(rep.String(), "butane snippet would never be used") {
		t.Errorf("ubuntu node with a butane snippet accepted:\n%s", rep)
	}
}

// A value that fails validation must not crash a later rule: every finding
// is reported, none as a parser failure.
func TestInvalidBindIsReportedNotPanicked(t *testing.T) {
	_, rep := Load("c.yaml", []byte(edit(t, "docker: {port: 2375}", "docker: {bind: nodes}\nsnippets: {}\nswarm: {image: \"Not An Image\"}")))
	out := rep.String()
	for _, want := range []string{`c.yaml:6:16: error at $.docker.bind: unknown bind "nodes"; did you mean "node"?`, `is not a Docker image reference`} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "parser failed") {
		t.Errorf("a validation problem was reported as a parser failure:\n%s", out)
	}
}

// A warning repeated for every node is one finding, not a flood that
// becomes fatal: 150 nodes outside the gateway's subnet give one warning.
func TestRepeatedWarningsAreGrouped(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\ncluster: big\nnetwork: {prefix: 24, gateway: 10.9.9.1}\nnodes:\n")
	for i := range 150 {
		fmt.Fprintf(&b, "  - {name: n%d, ip: 10.0.%d.%d, roles: [etcd, docker]}\n", i, i/200, i%200+1)
	}
	_, rep := Load("big.yaml", []byte(b.String()))
	if rep.IsFatal(false) {
		t.Fatalf("warnings alone must not fail without --strict:\n%s", rep)
	}
	var gateway []Entry
	for _, e := range rep.Entries {
		if e.Kind == WarnGateway {
			gateway = append(gateway, e)
		}
	}
	if len(gateway) != 1 || gateway[0].Repeats != 149 || !strings.Contains(rep.String(), "(and 149 more like it)") {
		t.Errorf("want one gateway warning standing for 150 nodes, got %d:\n%s", len(gateway), rep)
	}
}

// Snippet paths come from the description: a FIFO, a device or a huge file
// must be refused at once, not hang the tool or fill its memory.
func TestSnippetFilesAreBounded(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.yaml"), []byte("a: "+strings.Repeat("x", 2<<20)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"fifo.yaml", "not a regular file"},
		{"/dev/zero", "not a regular file"},
		{".", "not a regular file"},
		{"big.yaml", "larger than 1024 KiB"},
	} {
		desc := strings.Replace(base, "profile: ubuntu\n", "profile: ubuntu\nsnippets: {cloud-config: ["+tc.path+"]}\n", 1)
		done := make(chan *Report, 1)
		go func() {
			_, rep := Load(filepath.Join(dir, "c.yaml"), []byte(desc))
			done <- rep
		}()
		select {
		case rep := <-done:
			if !has(rep, ErrSnippet) || !strings.Contains(rep.String(), "4:27: error at $.snippets.cloud-config[0]: cannot read snippet") ||
				!strings.Contains(rep.String(), tc.want) {
				t.Errorf("%s: want %q at the snippet's position:\n%s", tc.path, tc.want, rep)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: reading the snippet hangs", tc.path)
		}
	}
}

// With SRV discovery etcd reads the initial cluster token too, so it is
// accepted and defaults as for static discovery.
func TestTokenWithSRV(t *testing.T) {
	c, rep := Load("s.yaml", []byte(edit(t, "etcd: {discovery: static}", "etcd: {discovery: srv, srv: example.com}")))
	if err := rep.Err(false); err != nil || c.Etcd.Token != "demo-etcd" {
		t.Fatalf("srv without a token: token %q, %v", c.Etcd.Token, err)
	}
	c, rep = Load("s.yaml", []byte(edit(t, "etcd: {discovery: static}", "etcd: {discovery: srv, srv: example.com, token: mine}")))
	if err := rep.Err(false); err != nil || c.Etcd.Token != "mine" {
		t.Fatalf("srv with a token: token %q, %v", c.Etcd.Token, err)
	}
}

// Deeply nested input is rejected without handing it to goccy's parser,
// whose cost explodes with nesting; the error still names a line.
func TestDeepNestingIsRejected(t *testing.T) {
	for _, input := range []string{strings.Repeat("[", 40000), strings.Repeat("{a: ", 5000)} {
		_, rep := Load("deep.yaml", []byte(input))
		if !has(rep, ErrSyntax) || !strings.HasPrefix(rep.String(), "deep.yaml:1:") {
			t.Errorf("want a syntax error on line 1, got:\n%.300s", rep)
		}
	}
	if goccyAffordable([]byte(strings.Repeat("[", 65))) || !goccyAffordable([]byte(base)) {
		t.Error("goccy's bound is off")
	}
}

// BenchmarkLoadHostile: inputs of the largest accepted size in the shapes
// that cost parsers most; each must finish in seconds with bounded memory.
func BenchmarkLoadHostile(b *testing.B) {
	shapes := map[string][]byte{
		"flow-nesting-16MiB": []byte(strings.Repeat("[", MaxInputSize)),
		"block-nesting-1MiB": func() []byte {
			var s strings.Builder
			for i := 0; s.Len() < 1<<20; i++ {
				s.WriteString(strings.Repeat(" ", i%2000) + "k:\n")
			}
			return []byte(s.String())
		}(),
		"flat-list-16MiB": []byte("version: 1\nnodes:\n" + strings.Repeat("  - {name: a, ip: 10.0.0.1, roles: [etcd]}\n", MaxInputSize/45)),
	}
	for name, data := range shapes {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Load("h.yaml", data)
			}
		})
	}
}

// A cluster over several subnets: each node may name its own gateway, and
// only a gateway outside a node's own subnet is warned about.
func TestNodeGateways(t *testing.T) {
	desc := strings.Replace(base, "  - {name: c, ip: 10.0.0.3, roles: [etcd, docker]}",
		"  - {name: c, ip: 10.0.1.3, roles: [etcd, docker], gateway: 10.0.1.254}", 1)
	c, rep := Load("g.yaml", []byte(desc))
	if rep.IsFatal(true) {
		t.Fatalf("a node with its own gateway in its own subnet is fine:\n%s", rep)
	}
	if got := c.Nodes[2].GatewayIn(c.Network).String(); got != "10.0.1.254" {
		t.Errorf("node c's gateway %s", got)
	}
	if got := c.Nodes[0].GatewayIn(c.Network).String(); got != "10.0.0.254" {
		t.Errorf("node a's gateway %s", got)
	}
	dhcp := strings.Replace(desc, "network: {prefix: 24, gateway: 10.0.0.254}\n", "", 1)
	if _, rep = Load("g.yaml", []byte(dhcp)); !has(rep, ErrNotApplicable) || !strings.Contains(rep.String(), "g.yaml:10:61: error at $.nodes[2].gateway") {
		t.Errorf("a node gateway without static addressing:\n%s", rep)
	}
	desc = strings.Replace(desc, "gateway: 10.0.1.254}", "gateway: 10.0.2.254}", 1)
	_, rep = Load("g.yaml", []byte(desc))
	if !has(rep, WarnGateway) || !strings.Contains(rep.String(), "warning at $.nodes[2].gateway") {
		t.Errorf("want a warning at the node's gateway:\n%s", rep)
	}
}

// has reports whether any entry of r is of the given kind.
func has(r *Report, kind error) bool {
	for _, e := range r.Entries {
		if e.Kind == kind {
			return true
		}
	}
	return false
}

// TestHAManagers: several managers are valid, and a port conflict is
// explained on each manager's host.
func TestHAManagers(t *testing.T) {
	ha := strings.Replace(base, "  - {name: b, ip: 10.0.0.2, roles: [etcd, docker]}", "  - {name: b, ip: 10.0.0.2, roles: [etcd, docker, manager]}", 1)
	c, rep := Load("ha.yaml", []byte(ha))
	if err := rep.Err(true); err != nil || len(c.Managers()) != 2 {
		t.Fatalf("two managers: %v, %d managers", err, len(c.Managers()))
	}
	clash := strings.Replace(ha, "swarm: {manager: {port: 8333}}", "swarm: {manager: {port: 2375}}", 1)
	_, rep = Load("clash.yaml", []byte(clash))
	text := rep.String()
	for _, want := range []string{"the manager on a would publish port 2375", "the manager on b would publish port 2375"} {
		if !strings.Contains(text, want) {
			t.Errorf("the conflict is not explained for each manager (%q):\n%s", want, text)
		}
	}
}

// TestTLSSettingsRejected: each bad TLS setting is an error at its key.
func TestTLSSettingsRejected(t *testing.T) {
	for _, tc := range []struct{ name, add, path, want string }{
		{"absolute PKI dir", "tls: {dir: /etc}\n", "$.tls.dir", "no leading /"},
		{"PKI dir outside", "tls: {dir: ../../secrets}\n", "$.tls.dir", "no .."},
		{"renew after expiry", "tls: {validity: 24h, renew_before: 48h}\n", "$.tls.renew_before", "must be shorter than validity"},
		{"longer than the CA", "tls: {validity: 100000h}\n", "$.tls.validity", "longer than the CA"},
		{"bad SAN", "tls: {sans: [\"not a name\"]}\n", "$.tls.sans[0]", "neither an IP address nor a DNS name"},
		{"zoned SAN", "tls: {sans: [\"fe80::1%eth0\"]}\n", "$.tls.sans[0]", "without the zone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			desc := strings.Replace(base, "swarm: {manager: {port: 8333}}\n", "swarm: {manager: {port: 8333}}\n"+tc.add, 1)
			_, rep := Load("tls.yaml", []byte(desc))
			if !rep.IsFatal(false) || !strings.Contains(rep.String(), "error at "+tc.path+": ") || !strings.Contains(rep.String(), tc.want) {
				t.Errorf("want an error at %s with %q:\n%s", tc.path, tc.want, rep)
			}
		})
	}
	plain := strings.Replace(base, "docker: {port: 2375}", "docker: {port: 2375, tls: false}\netcd: {tls: false}", 1)
	plain = strings.Replace(plain, "etcd: {discovery: static}\n", "", 1)
	plain = strings.Replace(plain, "  - {name: b, ip: 10.0.0.2, roles: [etcd, docker]}", "  - {name: b, ip: 10.0.0.2, roles: [etcd, docker], sans: [b.example.com]}", 1)
	if _, rep := Load("plain.yaml", []byte(plain)); !strings.Contains(rep.String(), "error at $.nodes[1].sans: certificate names apply with TLS") {
		t.Errorf("sans without TLS:\n%s", rep)
	}
}
