package matchbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Verify checks a data directory the way matchbox resolves a request:
// every group names an existing profile, every profile's ignition_id names
// an existing config, and no two groups select the same MAC. JSON is
// decoded strictly against the documented fields, so a typo in a field
// name fails here instead of being ignored by matchbox.
func Verify(fsys fs.FS) error {
	profiles, err := decodeDir[Profile](fsys, "profiles")
	if err != nil {
		return err
	}
	groups, err := decodeDir[Group](fsys, "groups")
	if err != nil {
		return err
	}
	byID := map[string]Profile{}
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
	for _, file := range sortedKeys(groups) {
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

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
