package render

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	coreosconfig "github.com/coreos/coreos-cloudinit/config"
	"github.com/coreos/go-systemd/v22/unit"

	"github.com/swarmboot/swarmboot/internal/testutil"
	"github.com/swarmboot/swarmboot/profiles"
)

// TestValuesSurviveTheirDestinations is a property test of escaping: random
// tokens and discovery URLs (every character the description accepts,
// '%' specifiers and percent-encoding included) are rendered for every
// place etcd's settings land, read back with the destination's syntax, and
// must come back unchanged. The unit lines are also checked by systemd's
// own parser (systemd-analyze verify), which must have nothing to say; the
// read-back runs without it, systemd's check only where it is installed
// (always in CI).
//   - Flatcar: Environment="K=V" in etcd-member's drop-in (swarmboot's);
//   - legacy CoreOS: the emitted coreos.etcd2 section, decoded by
//     coreos-cloudinit's own config package and written as a drop-in the
//     way its system package does (see etcd2DropIn);
//   - Debian/Ubuntu: /etc/default/etcd, systemd's EnvironmentFile=;
//   - Fedora CoreOS: /etc/etcd/etcd.env, podman's --env-file (literal).
func TestValuesSurviveTheirDestinations(t *testing.T) {
	analyze := systemdAnalyze(t)
	rnd := rand.New(rand.NewSource(1))
	const alphabet = "abcXYZ019-._~%+=:@/?#&!*,;()[]<>{}|^"
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[rnd.Intn(len(alphabet))])
		}
		return b.String()
	}
	for i := range 40 {
		token := word(1 + rnd.Intn(30))
		if i == 0 {
			token = "prod%2024%n" // the example, and a specifier
		}
		discovery := "https://disc.example.com/new?token=a%2Bb%3D" + strings.NewReplacer("#", "", "?", "").Replace(word(rnd.Intn(10)))
		for _, tc := range []struct {
			profile, etcd, key, want string
		}{
			{"flatcar", "{token: '" + strings.ReplaceAll(token, "'", "''") + "'}", "ETCD_INITIAL_CLUSTER_TOKEN", token},
			{"coreos", "{token: '" + strings.ReplaceAll(token, "'", "''") + "'}", "ETCD_INITIAL_CLUSTER_TOKEN", token},
			{"debian-12", "{token: '" + strings.ReplaceAll(token, "'", "''") + "'}", "ETCD_INITIAL_CLUSTER_TOKEN", token},
			{"fcos", "{token: '" + strings.ReplaceAll(token, "'", "''") + "'}", "ETCD_INITIAL_CLUSTER_TOKEN", token},
			{"flatcar", "{discovery: url, url: '" + discovery + "'}", "ETCD_DISCOVERY", discovery},
			{"coreos", "{discovery: url, url: '" + discovery + "'}", "ETCD_DISCOVERY", discovery},
			{"debian-12", "{discovery: url, url: '" + discovery + "'}", "ETCD_DISCOVERY", discovery},
		} {
			desc := fmt.Sprintf("version: 1\ncluster: t\nprofile: %s\ninstall_packages: false\netcd: %s\nnodes: [{name: a, ip: 10.0.0.1, roles: [etcd, docker]}]\n", tc.profile, tc.etcd)
			p := planOf(t, mustLoad(t, desc), "a")
			got, unitText := readBack(t, p, tc.key)
			if got != tc.want {
				t.Fatalf("%s: %s=%q reads back as %q\n%s", tc.profile, tc.key, tc.want, got, unitText)
			}
			if unitText != "" && analyze != "" {
				verifyUnit(t, analyze, unitText)
			}
		}
	}
}

// readBack renders the plan's etcd settings where its profile keeps them
// and reads key back with that destination's syntax; for unit lines it
// also returns a unit holding them, for systemd-analyze.
func readBack(t *testing.T, p *Plan, key string) (string, string) {
	t.Helper()
	var dropin string
	switch p.Profile.Name {
	case "flatcar":
		dropin = unitNamed(p, "etcd-member.service").Dropins[0].Contents
	case "coreos":
		dropin = etcd2DropIn(t, p)
	default:
		for _, f := range p.Files {
			if strings.HasSuffix(f.Path, "etcd") || strings.HasSuffix(f.Path, "etcd.env") {
				if p.Profile.Name == "fcos" {
					return podmanEnvFile(f.Contents)[key], ""
				}
				return systemdEnvFile(t, f.Contents)[key], ""
			}
		}
		t.Fatalf("%s: no etcd environment file", p.Profile.Name)
	}
	opts, err := unit.DeserializeOptions(strings.NewReader(dropin))
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
	return env[key], "[Service]\nType=oneshot\nExecStart=/bin/true\n" + strings.TrimPrefix(dropin[strings.Index(dropin, "[Service]"):], "[Service]\n")
}

// systemdAnalyze is systemd-analyze's path, or "" outside CI when it is
// not installed (the pure-Go read-back still runs); in CI it must be there.
func systemdAnalyze(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("systemd-analyze")
	if err != nil && testutil.InCI() {
		t.Fatalf("systemd-analyze not found; CI must install Debian's systemd (scripts/install-deps.sh)")
	}
	if err != nil {
		t.Log("systemd-analyze not installed: unit lines are read back in Go only")
	}
	return p
}

// etcd2DropIn is the drop-in coreos-cloudinit v1.14.0 writes for the
// plan's coreos-cloudconfig: the emitted YAML decoded by its config
// package, each set field of config.Etcd2 written as
// Environment="<its env tag>=<value>", as its system package's
// Etcd2.Units (env.go serviceContents/getEnvVars) does, unescaped. That
// package cannot be imported here: the module proxy refuses its
// dependencies (github.com/sigma/vmw-ovflib, dotcloud/docker's netlink).
func etcd2DropIn(t *testing.T, p *Plan) string {
	t.Helper()
	data, err := Emit(p, profiles.CoreOSCloudConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := coreosconfig.NewCloudConfig(string(data))
	if err != nil {
		t.Fatalf("coreos-cloudinit cannot decode the config: %v", err)
	}
	e := reflect.ValueOf(cfg.CoreOS.Etcd2)
	out := "[Service]\n"
	for i := range e.NumField() {
		if v := e.Field(i).Interface(); !coreosconfig.IsZero(v) {
			out += fmt.Sprintf("Environment=\"%s=%v\"\n", e.Type().Field(i).Tag.Get("env"), v)
		}
	}
	return out
}

// unitWords splits a unit line's value into words as systemd does.
func unitWords(t *testing.T, v string) []string { return testutil.UnitWords(t, v) }

// systemdEnvFile reads an EnvironmentFile= (systemd.exec(5)): KEY=VALUE a
// line, '#' comments; a value must need no quoting to read back as is.
func systemdEnvFile(t *testing.T, text string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, _ := strings.Cut(l, "=")
		if strings.ContainsAny(v, "\"'\\$ \t") {
			t.Fatalf("%s=%s needs quoting in an EnvironmentFile", k, v)
		}
		env[k] = v
	}
	return env
}

// podmanEnvFile reads podman's --env-file: KEY=VALUE literal to the end.
func podmanEnvFile(text string) map[string]string {
	env := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			env[k] = v
		}
	}
	return env
}

// verifyUnit runs systemd-analyze verify on a unit: any word from it (a
// specifier it could not resolve, a bad escape) fails the test.
func verifyUnit(t *testing.T, analyze, text string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "etcd-check.service")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
	if err != nil || strings.Contains(string(out), "etcd-check.service") {
		t.Fatalf("systemd-analyze verify: %v\n%s\n--- unit ---\n%s", err, out, text)
	}
}
