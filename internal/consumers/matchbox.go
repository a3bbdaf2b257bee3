package consumers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// matchboxProfile and matchboxGroup are matchbox v0.11's JSON fields
// (matchbox/storage/storagepb: Profile, NetBoot, Group).
type matchboxProfile struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Boot struct {
		Kernel string   `json:"kernel"`
		Initrd []string `json:"initrd"`
		Args   []string `json:"args"`
	} `json:"boot"`
	IgnitionID string `json:"ignition_id"`
	CloudID    string `json:"cloud_id"`
	GenericID  string `json:"generic_id"`
}

type matchboxGroup struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Profile  string            `json:"profile"`
	Selector map[string]string `json:"selector"`
	Metadata map[string]any    `json:"metadata"`
}

// Matchbox checks a data directory the way matchbox v0.11 resolves a
// request: every group names an existing profile, every profile's
// ignition_id names an existing config, and no two groups select the same
// MAC. JSON is decoded strictly against matchbox's own fields (its
// storagepb Profile and Group, written out here, not taken from
// swarmboot's types), so a typo in a field name fails here instead of
// being ignored by matchbox.
func Matchbox(fsys fs.FS) error {
	profiles, err := decodeDir[matchboxProfile](fsys, "profiles")
	if err != nil {
		return err
	}
	groups, err := decodeDir[matchboxGroup](fsys, "groups")
	if err != nil {
		return err
	}
	byID := map[string]matchboxProfile{}
	for file, p := range profiles {
		if p.ID == "" {
			return fmt.Errorf("%s: profile has no id", file)
		}
		if _, dup := byID[p.ID]; dup {
			return fmt.Errorf("%s: profile id %q used twice", file, p.ID)
		}
		byID[p.ID] = p
		if p.IgnitionID == "" {
			return fmt.Errorf("%s: profile %q has no ignition_id", file, p.ID)
		}
		if _, err := fs.Stat(fsys, path.Join("ignition", p.IgnitionID)); err != nil {
			return fmt.Errorf("%s: profile %q names ignition/%s, which does not exist", file, p.ID, p.IgnitionID)
		}
		if p.Boot.Kernel == "" || len(p.Boot.Initrd) == 0 {
			return fmt.Errorf("%s: profile %q has no kernel or initrd", file, p.ID)
		}
	}
	macs := map[string]string{}
	for _, file := range sortedNames(groups) {
		g := groups[file]
		if g.ID == "" || g.Profile == "" {
			return fmt.Errorf("%s: group needs id and profile", file)
		}
		if _, ok := byID[g.Profile]; !ok {
			return fmt.Errorf("%s: group %q names profile %q, which does not exist", file, g.ID, g.Profile)
		}
		mac := g.Selector["mac"]
		if mac == "" {
			return fmt.Errorf("%s: group %q selects no mac", file, g.ID)
		}
		if other, dup := macs[mac]; dup {
			return fmt.Errorf("%s: group %q selects mac %s, as %s does", file, g.ID, mac, other)
		}
		macs[mac] = file
	}
	return nil
}

func decodeDir[T any](fsys fs.FS, dir string) (map[string]T, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	out := map[string]T{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		file := path.Join(dir, e.Name())
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		var v T
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		out[file] = v
	}
	return out, nil
}

func sortedNames[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
