// Package etcdtest boots a rendered node without a VM, for tests that run
// inside a network namespace of their own (internal/nettest): the files
// its cloud-config writes land where it writes them (in a mount namespace
// of the node's own, over an overlay of /etc and tmpfs on /run and
// /var/lib), and an etcd member runs Debian's etcd as the node's systemd
// would: with the environment its units give it, the files its
// LoadCredential= lines hand it in /run/credentials/<unit>/.
package etcdtest

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/unit"
	"gopkg.in/yaml.v3"

	"github.com/swarmboot/swarmboot/internal/nettest"
	"github.com/swarmboot/swarmboot/internal/testutil"
)

// CloudConfig is what a node's cloud-config writes, by path.
type CloudConfig map[string]string

// ReadCloudConfig reads a rendered user-data's write_files (plain text
// only: swarmboot writes no encoded files).
func ReadCloudConfig(t testing.TB, userData string) CloudConfig {
	t.Helper()
	b, err := os.ReadFile(userData)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		WriteFiles []struct{ Path, Content, Encoding string } `yaml:"write_files"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	cc := CloudConfig{}
	for _, f := range doc.WriteFiles {
		if f.Encoding != "" {
			t.Fatalf("%s: %s is %s-encoded", userData, f.Path, f.Encoding)
		}
		cc[f.Path] = f.Content
	}
	return cc
}

// Unit is a unit's settings with its drop-ins applied, as systemd reads
// them: Environment= and EnvironmentFile= (read from the config's files;
// they override Environment=, as in systemd), LoadCredential=, ExecStart=.
type Unit struct {
	Env         map[string]string
	Credentials map[string]string // name -> source path
	ExecStart   []string
}

// Unit reads the unit the config writes (or, for a unit the system ships,
// only its drop-ins) under /etc/systemd/system.
func (cc CloudConfig) Unit(t testing.TB, name string) Unit {
	t.Helper()
	u := Unit{Env: map[string]string{}, Credentials: map[string]string{}}
	texts := []string{cc["/etc/systemd/system/"+name]}
	var dropins []string
	for p := range cc {
		if path.Dir(p) == "/etc/systemd/system/"+name+".d" {
			dropins = append(dropins, p)
		}
	}
	slices.Sort(dropins)
	for _, p := range dropins {
		texts = append(texts, cc[p])
	}
	var envFiles []string
	for _, text := range texts {
		if text == "" {
			continue
		}
		opts, err := unit.DeserializeOptions(strings.NewReader(text))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, o := range opts {
			switch o.Name {
			case "Environment":
				for _, w := range testutil.UnitWords(t, o.Value) {
					k, v, _ := strings.Cut(w, "=")
					u.Env[k] = v
				}
			case "EnvironmentFile":
				envFiles = append(envFiles, o.Value)
			case "LoadCredential":
				n, src, _ := strings.Cut(o.Value, ":")
				u.Credentials[n] = src
			case "ExecStart":
				u.ExecStart = testutil.UnitWords(t, o.Value)
			}
		}
	}
	for _, f := range envFiles {
		text, ok := cc[strings.TrimPrefix(f, "-")]
		if !ok {
			if strings.HasPrefix(f, "-") {
				continue
			}
			t.Fatalf("%s names EnvironmentFile=%s, which the config does not write", name, f)
		}
		for _, line := range strings.Split(text, "\n") {
			if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok || !regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`).MatchString(k) || strings.ContainsAny(v, `"'\$ `) {
				t.Fatalf("%s: %q is not a plain setting this test can pass on", f, line)
			}
			u.Env[k] = v
		}
	}
	return u
}

// Node is a rendered node running as a process on the test's bridge.
type Node struct {
	Name string
	PID  int
	Log  string
	cmd  *exec.Cmd
}

// Start runs a node on the bridge at addr: every file its cloud-config
// writes is in place (in its own mount namespace), and with etcd (the
// path of Debian's etcd binary) it runs etcd.service as systemd would:
// the unit's environment, and its credentials copied into
// /run/credentials/etcd.service. Without etcd the node only holds its
// files, for commands run in it (Command). It is killed when the test
// ends.
func Start(t testing.TB, name string, cc CloudConfig, addr netip.Prefix, bridge, etcd string) *Node {
	t.Helper()
	dir := t.TempDir()
	var pairs []string // source, destination
	place := func(dst, content string) {
		src := filepath.Join(dir, "files", strconv.Itoa(len(pairs)))
		if err := os.MkdirAll(filepath.Dir(src), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(src, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, src, dst)
	}
	for _, p := range slices.Sorted(maps.Keys(cc)) {
		if !strings.HasPrefix(p, "/etc/") {
			t.Fatalf("%s: %s is outside /etc, which the test does not lay over", name, p)
		}
		place(p, cc[p])
	}
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	run := "exec sleep infinity"
	if etcd != "" {
		u := cc.Unit(t, "etcd.service")
		if len(u.Env) == 0 {
			t.Fatalf("%s: etcd.service gets no settings from the config", name)
		}
		for n, src := range u.Credentials {
			content, ok := cc[src]
			if !ok {
				t.Fatalf("%s: LoadCredential=%s:%s, a file the config does not write", name, n, src)
			}
			place("/run/credentials/etcd.service/"+n, content)
		}
		for _, k := range slices.Sorted(maps.Keys(u.Env)) {
			v := u.Env[k]
			if strings.HasSuffix(k, "_FILE") && !strings.HasPrefix(v, "/etc/") && !strings.HasPrefix(v, "/run/credentials/etcd.service/") {
				t.Fatalf("%s: %s=%s is neither a file of the config nor a credential", name, k, v)
			}
			if k == "ETCD_DATA_DIR" && !strings.HasPrefix(v, "/var/lib/") {
				t.Fatalf("%s: %s=%s: the test gives etcd a tmpfs on /var/lib only", name, k, v)
			}
			env = append(env, k+"="+v)
		}
		run = `exec "$etcd"`
	}
	log := filepath.Join(dir, name+".log")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Close()
		if t.Failed() {
			b, _ := os.ReadFile(log)
			t.Logf("%s's log, last lines:\n%s", name, nettest.Tail(b, 15))
		}
	})
	// /run and /var/lib are the node's tmpfs; /etc an overlay whose
	// changes stay in the node's /run.
	script := `set -e
etcd=$1; shift
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=0755 tmpfs /var/lib
mkdir -p /run/.etc/upper /run/.etc/work
mount -t overlay overlay -o lowerdir=/etc,upperdir=/run/.etc/upper,workdir=/run/.etc/work /etc
while [ $# -gt 0 ]; do mkdir -p "$(dirname "$2")"; cp "$1" "$2"; shift 2; done
: > /run/.etcdtest-ready
` + run
	cmd := nettest.Machine(t, bridge, addr, env, f, script, append([]string{etcd}, pairs...)...)
	n := &Node{Name: name, PID: cmd.Process.Pid, Log: log, cmd: cmd}
	// Commands run on the node only once its files are in place.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := n.ReadFile("/run/.etcdtest-ready"); err == nil {
			return n
		} else if time.Now().After(deadline) {
			t.Fatalf("%s: its files were not in place after 10s: %v", name, err)
		}
	}
}

// Command runs a command on the node: in its network and mount
// namespaces.
func (n *Node) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"-t", strconv.Itoa(n.PID), "-n", "-m", "--", name}, args...)...)
}

// Stop kills the node's process (etcd, or what holds its namespaces), by
// its PID, and waits for it.
func (n *Node) Stop() {
	n.cmd.Process.Kill()
	n.cmd.Wait()
}

// ReadFile reads a file as the node sees it.
func (n *Node) ReadFile(p string) ([]byte, error) {
	return os.ReadFile(fmt.Sprintf("/proc/%d/root%s", n.PID, p))
}
