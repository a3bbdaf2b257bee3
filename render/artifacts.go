package render

import (
	"github.com/swarmboot/swarmboot/profiles"
)

// Artifact is one file of a node's output folder.
type Artifact struct {
	Name string // file name inside the node's folder
	Data []byte
}

// FileName is where a format's config goes in a node's folder.
func FileName(f profiles.Format) string {
	switch f {
	case profiles.Butane:
		return "config.bu"
	case profiles.Ignition:
		return "config.ign"
	}
	return "user-data" // both cloud-config dialects are read as user-data
}

// Artifacts renders the node's folder for the given formats (the
// profile's defaults when formats is empty). cloud-config brings its NoCloud
// companions: meta-data and, with static addressing, network-config.
func Artifacts(p *Plan, formats []profiles.Format) ([]Artifact, error) {
	if len(formats) == 0 {
		formats = p.Profile.Defaults
	}
	var out []Artifact
	for _, f := range formats {
		data, err := Emit(p, f)
		if err != nil {
			return nil, err
		}
		out = append(out, Artifact{FileName(f), data})
		if f != profiles.CloudConfig {
			continue
		}
		var netcfg []byte
		if p.Profile.Network == profiles.NetworkCloudInit {
			if netcfg, err = emitNetworkConfig(p); err != nil {
				return nil, err
			}
		}
		out = append(out, Artifact{"meta-data", metaData(p, data, netcfg)})
		if netcfg != nil {
			out = append(out, Artifact{"network-config", netcfg})
		}
	}
	return out, nil
}
