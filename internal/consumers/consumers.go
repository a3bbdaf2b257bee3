// Package consumers runs the real parsers of swarmboot's consumers on its
// output: Ignition's config validator, Butane's translator, coreos-cloudinit's
// validator, cloud-init's schema check and a systemd unit parser. Tests use
// it to prove that every generated config is accepted, not just well-formed.
package consumers

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	butane "github.com/coreos/butane/config"
	"github.com/coreos/butane/config/common"
	"github.com/coreos/coreos-cloudinit/config/validate"
	"github.com/coreos/go-systemd/v22/unit"
	ignition "github.com/coreos/ignition/v2/config/v3_3"
	ignitionAny "github.com/coreos/ignition/v2/config/v3_5"
	"github.com/coreos/vcontext/report"
)

// ErrToolMissing is returned when an external validator is not installed.
var ErrToolMissing = errors.New("validator not installed")

// tool finds an external validator; pkg is the Debian package it comes in.
func tool(name, pkg string) (string, error) {
	bin, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %s (Debian package %s; scripts/install-deps.sh)", ErrToolMissing, name, pkg)
	}
	return bin, nil
}

// Ignition parses an Ignition config with Ignition's own spec 3.3 parser
// and fails on any error or warning.
func Ignition(data []byte) error {
	_, rep, err := ignition.Parse(data)
	if err != nil {
		return fmt.Errorf("ignition: %w\n%s", err, rep)
	}
	return strict("ignition", rep)
}

func strict(who string, rep report.Report) error {
	if len(rep.Entries) > 0 {
		return fmt.Errorf("%s reports:\n%s", who, rep)
	}
	return nil
}

// Butane translates a Butane config the way `butane --strict` does and
// returns the Ignition config it makes.
func Butane(data []byte) ([]byte, error) {
	out, rep, err := butane.TranslateBytes(data, common.TranslateBytesOptions{})
	if err != nil {
		return nil, fmt.Errorf("butane: %w\n%s", err, rep)
	}
	if err := strict("butane (strict)", rep); err != nil {
		return nil, err
	}
	return out, nil
}

// CoreOSCloudConfig runs coreos-cloudinit's validator (as
// `coreos-cloudinit --validate` does) and fails on any finding.
func CoreOSCloudConfig(data []byte) error {
	rep, err := validate.Validate(data)
	if err != nil {
		return fmt.Errorf("coreos-cloudinit: %w", err)
	}
	var b strings.Builder
	for _, e := range rep.Entries() {
		if !expectedCoreOSWarning(e.String()) {
			fmt.Fprintf(&b, "  %s\n", e)
		}
	}
	if b.Len() > 0 {
		return fmt.Errorf("coreos-cloudinit reports:\n%s", b.String())
	}
	return nil
}

// expectedCoreOSWarning: the validator's last release marks coreos.etcd2
// deprecated because later Container Linux dropped etcd2; the coreos
// profile targets the CoreOS releases that ship it (the seed's), where
// coreos.etcd2 is the documented way. Every other finding fails.
func expectedCoreOSWarning(entry string) bool {
	return strings.Contains(entry, `warning: deprecated key "etcd2"`)
}

// CloudInitSchema runs `cloud-init schema --config-file` (Debian's
// cloud-init package) on a #cloud-config document.
func CloudInitSchema(data []byte) error {
	bin, err := tool("cloud-init", "cloud-init")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "swarmboot-schema-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "user-data")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return err
	}
	out, err := exec.Command(bin, "schema", "--config-file", file).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("Valid cloud-config")) {
		return fmt.Errorf("cloud-init schema: %v\n%s", err, out)
	}
	return nil
}

// knownSections are the unit file sections swarmboot may write, by suffix.
var knownSections = map[string][]string{
	".service":      {"Unit", "Service", "Install"},
	".socket":       {"Unit", "Socket", "Install"},
	".timer":        {"Unit", "Timer", "Install"},
	".conf":         {"Unit", "Service", "Socket", "Install"}, // drop-ins
	".network":      {"Match", "Link", "Network", "Address", "Route", "DHCP"},
	".nmconnection": {"connection", "ethernet", "ipv4", "ipv6"},
}

// SystemdUnit parses a unit, drop-in or .network file with go-systemd's
// parser and checks that it has only sections its kind can have and, for
// a complete service, an ExecStart.
func SystemdUnit(name, text string) error {
	opts, err := unit.DeserializeOptions(strings.NewReader(text))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if len(opts) == 0 {
		return fmt.Errorf("%s: no settings", name)
	}
	sections := knownSections[filepath.Ext(name)]
	if sections == nil {
		return fmt.Errorf("%s: unknown unit kind %q", name, filepath.Ext(name))
	}
	hasExec := false
	for _, o := range opts {
		if !slices.Contains(sections, o.Section) {
			return fmt.Errorf("%s: section [%s] does not belong in a %s file", name, o.Section, filepath.Ext(name))
		}
		if o.Name == "ExecStart" && o.Value != "" {
			hasExec = true
		}
	}
	if filepath.Ext(name) == ".service" && !hasExec {
		return fmt.Errorf("%s: a service without ExecStart", name)
	}
	return nil
}

// IgnitionAny parses an Ignition config of any spec 3.x version with
// Ignition's own version-dispatching parser (as the agent does) and fails
// on any error or warning.
func IgnitionAny(data []byte) (string, error) {
	cfg, rep, err := ignitionAny.ParseCompatibleVersion(data)
	if err != nil {
		return "", fmt.Errorf("ignition: %w\n%s", err, rep)
	}
	return cfg.Ignition.Version, strict("ignition", rep)
}

// UnitSet is a node's systemd units as they land in /etc/systemd/system:
// whole units by name, and drop-ins by the unit they extend.
type UnitSet struct {
	Units   map[string]string            // name -> contents
	Dropins map[string]map[string]string // unit -> drop-in name -> contents
}

// stubUnits stand in for units the target system ships, so that the
// drop-ins on them, and units that require them, can be verified.
var stubUnits = map[string]string{
	"docker.service":      "[Unit]\nDescription=stand-in\n[Service]\nExecStart=/usr/bin/dockerd -H fd://\n",
	"etcd.service":        "[Unit]\nDescription=stand-in\n[Service]\nExecStart=/usr/bin/etcd\n",
	"etcd-member.service": "[Unit]\nDescription=stand-in\n[Service]\nExecStart=/usr/lib/flatcar/etcd-wrapper\n",
	"etcd2.service":       "[Unit]\nDescription=stand-in\n[Service]\nExecStart=/usr/bin/etcd2\n",
}

// SystemdVerify runs systemd's own parser on the units and drop-ins
// (`systemd-analyze verify`, with stand-ins for the system's own units):
// every word it says fails, except that a command is missing here (the
// commands are the target system's).
func SystemdVerify(set UnitSet) error {
	bin, err := tool("systemd-analyze", "systemd")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "swarmboot-verify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	units := map[string]string{}
	for name, text := range set.Units {
		units[name] = text
	}
	for name := range set.Dropins {
		if _, ok := units[name]; !ok {
			if stub, ok := stubUnits[name]; ok {
				units[name] = stub
			} else {
				return fmt.Errorf("drop-ins for %s, a unit with no stand-in", name)
			}
		}
	}
	var paths []string
	for name, text := range units {
		if ext := filepath.Ext(name); ext != ".service" && ext != ".socket" && ext != ".timer" {
			continue // .network files are not systemd units proper
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return err
		}
		paths = append(paths, p)
	}
	for unitName, dropins := range set.Dropins {
		d := filepath.Join(dir, unitName+".d")
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		for name, text := range dropins {
			if err := os.WriteFile(filepath.Join(d, name), []byte(text), 0o644); err != nil {
				return err
			}
		}
	}
	for name := range stubUnits { // what the units require
		if _, ok := units[name]; !ok {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(stubUnits[name]), 0o644); err != nil {
				return err
			}
		}
	}
	if len(paths) == 0 {
		return nil
	}
	sort.Strings(paths)
	out, _ := exec.Command(bin, append([]string{"verify", "--man=no"}, paths...)...).CombinedOutput()
	var said []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l == "" || strings.Contains(l, "is not executable: No such file or directory") {
			continue
		}
		said = append(said, strings.ReplaceAll(l, dir+"/", ""))
	}
	if len(said) > 0 {
		return fmt.Errorf("systemd-analyze verify:\n  %s", strings.Join(said, "\n  "))
	}
	return nil
}

// NetworkConfig has cloud-init parse a NoCloud network-config (version 2)
// and render it for systemd-networkd, as it does on a booting Debian node
// (`cloud-init devel net-convert`); it returns the .network files made.
func NetworkConfig(data []byte) (map[string]string, error) {
	bin, err := tool("cloud-init", "cloud-init")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "swarmboot-netcfg-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "network-config")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "out")
	cmd := exec.Command(bin, "devel", "net-convert", "-p", in, "-k", "yaml", "-d", out, "-D", "debian", "-O", "networkd")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("cloud-init net-convert: %v\n%s", err, b)
	}
	files, err := filepath.Glob(filepath.Join(out, "etc/systemd/network/*.network"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("cloud-init net-convert made no .network file (%v)", err)
	}
	units := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		units[filepath.Base(f)] = string(b)
	}
	return units, nil
}
