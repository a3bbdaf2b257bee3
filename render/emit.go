package render

import (
	"bytes"
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/swarmboot/swarmboot/profiles"
)

// emitters renders a plan in each format.
var emitters = map[profiles.Format]func(*Plan) ([]byte, error){
	profiles.CloudConfig:       emitCloudConfig,
	profiles.CoreOSCloudConfig: emitCoreOSCloudConfig,
	profiles.Butane:            emitButane,
	profiles.Ignition:          emitIgnition,
}

// Emit renders the plan in format f.
func Emit(p *Plan, f profiles.Format) ([]byte, error) {
	if !p.Profile.Supports(f) {
		return nil, fmt.Errorf("node %s: profile %s does not read %s; it reads %s", p.Node, p.Profile.Name, f, profiles.JoinFormats(p.Profile.Formats))
	}
	return emitters[f](p)
}

// header opens every YAML output: what made it, for whom.
func header(first string, p *Plan) string {
	return fmt.Sprintf("%s\n# Node %s of cluster %s (profile %s), written by swarmboot. Re-render, do not edit.\n",
		first, p.Node, p.Cluster, p.Profile.Name)
}

// marshalYAML encodes v with two-space indentation after the header.
// A tree (v merged with snippets) is the caller's own: its long strings
// are swapped for placeholders in place (yamlblocks.go).
func marshalYAML(head string, v any) ([]byte, error) {
	if n, ok := v.(*yaml.Node); ok {
		yamlBlocks.placehold(n)
	}
	var b bytes.Buffer
	b.WriteString(head)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return yamlBlocks.fill(b.Bytes())
}

// octalMode writes a file mode as 0644, the way people read modes; YAML
// 1.1 readers (cloud-init, coreos-cloudinit, Butane) take it as octal.
type octalMode int

func (m octalMode) MarshalYAML() (any, error) {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "0" + strconv.FormatInt(int64(m), 8)}, nil
}

// unitPath and dropinPath are where agents without a units section put units.
func unitPath(name string) string { return "/etc/systemd/system/" + name }

func dropinPath(unit, dropin string) string {
	return "/etc/systemd/system/" + unit + ".d/" + dropin
}
