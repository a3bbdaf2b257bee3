// Package matchbox writes a matchbox data directory (profiles/, groups/,
// ignition/) that PXE-boots each machine, selected by MAC, into Flatcar or
// Fedora CoreOS with its own Ignition config.
//
// Layout and fields follow matchbox v0.11.0 (docs/matchbox.md, the
// storagepb Profile/Group types and examples/profiles/*.json):
//
//	profiles/<node>.json  {id, name, boot{kernel, initrd[], args[]}, ignition_id}
//	groups/<node>.json    {id, name, profile, selector{mac}}
//	ignition/<node>.ign   the config; matchbox serves *.ign as raw Ignition
//
// matchbox v0.11.0 parses raw Ignition with the spec 3.4 parser
// (ParseCompatibleVersion), so configs above 3.4.0 are refused here rather
// than served broken.
package matchbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Machine is one PXE-booted node.
type Machine struct {
	Name     string // node name: profile, group and config id
	MAC      string // any form net.ParseMAC reads
	OS       string // "flatcar" or "fcos"
	Ignition []byte // the node's Ignition config (spec 3.x, at most 3.4.0)
}

// Options are the cluster-wide settings.
type Options struct {
	// URL is matchbox's HTTP endpoint as machines reach it, e.g.
	// http://matchbox.example.com:8080 (required).
	URL string
	// FlatcarChannel (stable, beta, alpha) and FlatcarVersion (e.g.
	// 4081.2.0; required for Flatcar machines).
	FlatcarChannel, FlatcarVersion string
	// FCOSStream (stable, testing, next) and FCOSVersion (e.g.
	// 42.20250914.3.0; required for FCOS machines).
	FCOSStream, FCOSVersion string
	// RemoteAssets takes kernel and initrd from the OS's release servers;
	// otherwise from matchbox's /assets, laid out as its get-flatcar and
	// get-fedora-coreos scripts do.
	RemoteAssets bool
	// ExtraArgs are appended to every kernel command line (e.g.
	// console=ttyS0).
	ExtraArgs []string
}

// MaxIgnitionMinor: matchbox v0.11.0 parses Ignition spec 3.0.0 to 3.4.0.
const MaxIgnitionMinor = 4

// File is one file of the data directory, path relative to its root.
type File struct {
	Path string
	Data []byte
}

// Profile and Group mirror matchbox's JSON (storagepb.Profile, RichGroup).
type Profile struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Boot       NetBoot `json:"boot"`
	IgnitionID string  `json:"ignition_id"`
}

// NetBoot is a profile's network boot settings.
type NetBoot struct {
	Kernel string   `json:"kernel"`
	Initrd []string `json:"initrd"`
	Args   []string `json:"args"`
}

// Group selects machines for a profile.
type Group struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Profile  string            `json:"profile"`
	Selector map[string]string `json:"selector"`
}

// The folders of the data directory Build writes.
const (
	profilesDir = "profiles"
	groupsDir   = "groups"
	ignitionDir = "ignition"
)

// Dirs are the folders Build writes at the top of the data directory.
func Dirs() []string { return []string{profilesDir, groupsDir, ignitionDir} }

// Names become file names and URL query values: keep them plain.
var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$`)

// Build returns the data directory's files, sorted by path. Every machine
// gets its own profile, group and config; names and MACs must be unique.
func Build(machines []Machine, opts Options) ([]File, error) {
	base, err := baseURL(opts.URL)
	if err != nil {
		return nil, err
	}
	seenName, seenMAC := map[string]bool{}, map[string]string{}
	var files []File
	for _, m := range machines {
		if !nameRE.MatchString(m.Name) {
			return nil, fmt.Errorf("matchbox: machine name %q: use lower-case letters, digits, '.', '-', '_'", m.Name)
		}
		if seenName[m.Name] {
			return nil, fmt.Errorf("matchbox: machine %q listed twice", m.Name)
		}
		seenName[m.Name] = true
		hw, err := net.ParseMAC(m.MAC)
		if err != nil || len(hw) != 6 {
			return nil, fmt.Errorf("matchbox: machine %q: MAC %q is not a 48-bit MAC address", m.Name, m.MAC)
		}
		mac := hw.String() // the form matchbox normalizes selectors to
		if other, ok := seenMAC[mac]; ok {
			return nil, fmt.Errorf("matchbox: machines %q and %q share MAC %s", other, m.Name, mac)
		}
		seenMAC[mac] = m.Name
		if err := checkIgnition(m); err != nil {
			return nil, err
		}
		boot, err := netBoot(m, base, opts)
		if err != nil {
			return nil, err
		}
		ignID := m.Name + ".ign"
		x, _ := pxe(m.OS) // netBoot found it
		p := Profile{ID: m.Name, Name: m.Name + " (" + x.Name + ")", Boot: boot, IgnitionID: ignID}
		g := Group{ID: m.Name, Name: m.Name, Profile: m.Name, Selector: map[string]string{"mac": mac}}
		pj, err := marshal(p)
		if err != nil {
			return nil, err
		}
		gj, err := marshal(g)
		if err != nil {
			return nil, err
		}
		files = append(files,
			File{profilesDir + "/" + m.Name + ".json", pj},
			File{groupsDir + "/" + m.Name + ".json", gj},
			File{ignitionDir + "/" + ignID, append([]byte(nil), m.Ignition...)})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

func baseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return "", fmt.Errorf("matchbox: URL %q: want http://HOST[:PORT] of matchbox's HTTP endpoint", raw)
	}
	return strings.TrimSuffix(raw, "/"), nil
}

func checkIgnition(m Machine) error {
	var probe struct {
		Ignition struct {
			Version string `json:"version"`
		} `json:"ignition"`
	}
	if err := json.Unmarshal(m.Ignition, &probe); err != nil {
		return fmt.Errorf("matchbox: machine %q: Ignition config is not JSON: %v", m.Name, err)
	}
	v := probe.Ignition.Version
	parts := strings.Split(v, ".")
	minor, err := -1, error(nil)
	if len(parts) == 3 && parts[0] == "3" {
		minor, err = strconv.Atoi(parts[1])
		if _, perr := strconv.Atoi(parts[2]); perr != nil {
			err = perr
		}
	}
	if v == "" || minor < 0 || err != nil {
		return fmt.Errorf("matchbox: machine %q: Ignition config has no spec 3 ignition.version (%q)", m.Name, v)
	}
	if minor > MaxIgnitionMinor {
		return fmt.Errorf("matchbox: machine %q: Ignition spec %s; matchbox v0.11.0 serves spec 3.0.0 to 3.%d.0 (render with a lower spec, e.g. Butane flatcar 1.1.0 or fcos 1.5.0)",
			m.Name, v, MaxIgnitionMinor)
	}
	return nil
}

// marshal writes indented JSON with a final newline; encoding/json sorts
// map keys, so output is deterministic.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "&" in kernel args readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
