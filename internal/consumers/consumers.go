// Package consumers runs the real parsers of swarmboot's consumers on its
// output: Ignition's config validator, Butane's translator, coreos-cloudinit's
// validator, cloud-init's schema check and a systemd unit parser. Tests use
// it to prove that every generated config is accepted, not just well-formed.
package consumers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
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
	files, err := NetConvert(data, "yaml", "networkd")
	if err != nil {
		return nil, err
	}
	units := map[string]string{}
	for name, text := range files {
		if strings.HasPrefix(name, "etc/systemd/network/") && strings.HasSuffix(name, ".network") {
			units[filepath.Base(name)] = text
		}
	}
	if len(units) == 0 {
		return nil, fmt.Errorf("cloud-init net-convert made no .network file: %v", slices.Sorted(maps.Keys(files)))
	}
	return units, nil
}

// Renderers are the renderers of `cloud-init devel net-convert` that
// write what a Debian or Ubuntu node runs: systemd-networkd (cloud-init's
// own), netplan (Ubuntu's and Debian's cloud images) and ifupdown (eni).
var Renderers = []string{"networkd", "netplan", "eni"}

// NetConvert has cloud-init read a network config of kind ("yaml": a
// NoCloud network-config; "network_data.json": OpenStack's) and write it
// for renderer, as it does on a booting node; it returns every file
// written, by slash-separated path. macs maps NIC names to the MACs this
// host would have (a config drive's links are found by MAC).
func NetConvert(data []byte, kind, renderer string, macs ...[2]string) (map[string]string, error) {
	bin, err := tool("cloud-init", "cloud-init")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "swarmboot-netcfg-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "in")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "out")
	args := []string{"devel", "net-convert", "-p", in, "-k", kind, "-d", out, "-D", "debian", "-O", renderer}
	for _, m := range macs {
		args = append(args, "-m", m[0]+","+m[1])
	}
	if b, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("cloud-init net-convert -O %s: %v\n%s", renderer, err, b)
	}
	return readTree(out)
}

// readTree reads every file under root, by slash-separated path.
func readTree(root string) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	return files, err
}

// Netplan has netplan itself (Debian's netplan.io; Ubuntu's and Debian's
// cloud images apply cloud-init's network config through it) read a
// network config version 2 document, as cloud-init's netplan renderer
// hands it over unchanged, and generate systemd-networkd files from it
// (`netplan generate --root-dir`). It fails on any word netplan says,
// deprecation warnings included, and returns the .network files made.
func Netplan(doc []byte) (map[string]string, error) {
	bin, err := tool("netplan", "netplan.io")
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", "swarmboot-netplan-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)
	// The document, as it stands, under the key netplan files have.
	var text bytes.Buffer
	text.WriteString("network:\n")
	for _, line := range strings.SplitAfter(string(doc), "\n") {
		if line != "" {
			text.WriteString("  " + line)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "etc/netplan"), 0o755); err != nil {
		return nil, err
	}
	// 0600: netplan warns about configs others can read.
	if err := os.WriteFile(filepath.Join(root, "etc/netplan/50-cloud-init.yaml"), text.Bytes(), 0o600); err != nil {
		return nil, err
	}
	out, err := exec.Command(bin, "generate", "--root-dir", root).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		return nil, fmt.Errorf("netplan generate: %v\n%s", err, out)
	}
	files, err := readTree(filepath.Join(root, "run/systemd/network"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("netplan generate made no .network file (%v)", err)
	}
	return files, nil
}

// ConfigDriveData is what cloud-init's ConfigDrive datasource read from a
// config drive.
type ConfigDriveData struct {
	// Metadata is meta_data.json with cloud-init's renames
	// (instance-id, local-hostname).
	Metadata map[string]any `json:"metadata"`
	UserData string         `json:"userdata"`
	// Network is the network config (version 1) cloud-init's
	// convert_net_json made of network_data.json; nil without one.
	Network map[string]any `json:"network"`
}

// readConfigDrive runs cloud-init's own reader, as its datasource does on
// the mounted drive.
const readConfigDrive = `
import json, sys
from cloudinit.sources.DataSourceConfigDrive import read_config_drive
from cloudinit.sources.helpers import openstack
res = read_config_drive(sys.argv[1])
ud = res.get("userdata") or b""
net = None
if res.get("networkdata") is not None:
    net = openstack.convert_net_json(res["networkdata"], known_macs=json.loads(sys.argv[2]))
print(json.dumps({"metadata": res["metadata"], "userdata": ud.decode() if isinstance(ud, bytes) else ud, "network": net}))
`

// ConfigDrive has cloud-init's ConfigDrive datasource read a config drive's
// files from dir (the drive's root, as mounted), with its own Python
// modules, and turn network_data.json into its network config with the
// NICs this host would have (known: MAC -> name).
func ConfigDrive(dir string, known map[string]string) (*ConfigDriveData, error) {
	py, err := cloudInitPython()
	if err != nil {
		return nil, err
	}
	macs, err := json.Marshal(known)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(py, "-c", readConfigDrive, dir, string(macs))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("cloud-init's config drive reader: %v\n%s", err, stderr.Bytes())
	}
	var d ConfigDriveData
	if err := json.Unmarshal(out, &d); err != nil {
		return nil, fmt.Errorf("cloud-init's config drive reader said %q: %w", out, err)
	}
	return &d, nil
}

// cloudInitPython is the interpreter cloud-init runs with (its script's
// #! line): a python3 earlier on PATH may not see cloud-init's modules.
func cloudInitPython() (string, error) {
	bin, err := tool("cloud-init", "cloud-init")
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	py, ok := bytes.CutPrefix(line, []byte("#!"))
	fields := strings.Fields(string(py))
	if !ok || len(fields) == 0 {
		return "", fmt.Errorf("%s has no #! line naming its Python", bin)
	}
	return fields[0], nil
}

// ExtractISO writes an ISO 9660 image's files under dir as Linux shows a
// volume without Rock Ridge or Joliet names (isofs, map=normal: lower
// case, the ";1" version dropped), read by isoinfo (genisoimage), a reader
// independent of the one that wrote it.
func ExtractISO(img []byte, dir string) error {
	bin, err := tool("isoinfo", "genisoimage")
	if err != nil {
		return err
	}
	iso := filepath.Join(dir, ".image.iso")
	if err := os.WriteFile(iso, img, 0o600); err != nil {
		return err
	}
	defer os.Remove(iso)
	list, err := exec.Command(bin, "-f", "-i", iso).Output()
	if err != nil {
		return fmt.Errorf("isoinfo -f: %w", err)
	}
	for _, recorded := range strings.Fields(string(list)) {
		name, version, isFile := strings.Cut(recorded, ";")
		if !isFile || version == "" {
			continue // a folder: made with its files
		}
		data, err := exec.Command(bin, "-x", recorded, "-i", iso).Output()
		if err != nil {
			return fmt.Errorf("isoinfo -x %s: %w", recorded, err)
		}
		path := filepath.Join(dir, filepath.FromSlash(strings.ToLower(strings.TrimSuffix(name, "."))))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Blkid has blkid (util-linux) probe an image as cloud-init's device
// search does (`blkid -p`): its tags, e.g. LABEL and TYPE.
func Blkid(img []byte) (map[string]string, error) {
	bin, err := tool("blkid", "util-linux")
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "swarmboot-blkid-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(img); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	out, err := exec.Command(bin, "-p", "-o", "export", f.Name()).Output()
	if err != nil {
		return nil, fmt.Errorf("blkid -p: %w", err)
	}
	tags := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			tags[k] = v
		}
	}
	return tags, nil
}
