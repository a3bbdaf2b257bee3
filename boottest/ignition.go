package boottest

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"strings"
)

// IgnitionMarkerDone is what the image's initramfs script prints once the
// Ignition stages succeeded (image/files/.../local-bottom/ignition).
const IgnitionMarkerDone = "boottest-ignition: stages fetch-offline and files done"

// IgnitionOps lists what the Ignition agent must report as finished for a
// config: one entry per file, unit, drop-in and enabled unit, each a pair
// of substrings that one "[finished]" log line must both contain.
func IgnitionOps(configPath string) ([][2]string, error) {
	b, err := os.ReadFile(configPath)
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Storage struct {
			Files []struct {
				Path string `json:"path"`
			} `json:"files"`
		} `json:"storage"`
		Systemd struct {
			Units []struct {
				Name     string  `json:"name"`
				Enabled  *bool   `json:"enabled"`
				Contents *string `json:"contents"`
				Dropins  []struct {
					Name string `json:"name"`
				} `json:"dropins"`
			} `json:"units"`
		} `json:"systemd"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", configPath, err)
	}
	var ops [][2]string
	for _, f := range cfg.Storage.Files {
		ops = append(ops, [2]string{"writing file", f.Path + `"`})
	}
	for _, u := range cfg.Systemd.Units {
		if u.Contents != nil {
			ops = append(ops, [2]string{"writing unit", `"` + u.Name + `"`})
		}
		for _, d := range u.Dropins {
			ops = append(ops, [2]string{"drop-in", path.Join(u.Name+".d", d.Name) + `"`})
		}
		if u.Enabled != nil && *u.Enabled {
			ops = append(ops, [2]string{"setting preset to enabled", `"` + u.Name + `"`})
		}
	}
	return ops, nil
}

// CheckIgnitionLog checks the agent's log (on the serial console) for a
// finished line per op, and the initramfs script's success marker.
func CheckIgnitionLog(lines []string, ops [][2]string) error {
	var finished []string
	done := false
	for _, l := range lines {
		if strings.Contains(l, "[finished]") {
			finished = append(finished, l)
		}
		done = done || strings.Contains(l, IgnitionMarkerDone)
	}
	var missing []string
	for _, op := range ops {
		found := false
		for _, l := range finished {
			if strings.Contains(l, op[0]) && strings.Contains(l, op[1]) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, op[0]+" "+op[1])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("Ignition did not report as finished: %s", strings.Join(missing, "; "))
	}
	if !done {
		return fmt.Errorf("no %q on the console", IgnitionMarkerDone)
	}
	return nil
}
