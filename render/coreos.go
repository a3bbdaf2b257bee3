package render

// coreOSConfig is legacy coreos-cloudinit's #cloud-config: units and etcd2
// have sections of their own there.
type coreOSConfig struct {
	Hostname          string      `yaml:"hostname"`
	SSHAuthorizedKeys []string    `yaml:"ssh_authorized_keys,omitempty"`
	WriteFiles        []cloudFile `yaml:"write_files,omitempty"`
	CoreOS            coreOS      `yaml:"coreos"`
}

type coreOS struct {
	Etcd2 map[string]any `yaml:"etcd2,omitempty"`
	Units []coreOSUnit   `yaml:"units,omitempty"`
}

type coreOSUnit struct {
	Name    string         `yaml:"name"`
	Enable  bool           `yaml:"enable,omitempty"`
	Command string         `yaml:"command,omitempty"`
	Content text           `yaml:"content,omitempty"`
	DropIns []coreOSDropin `yaml:"drop-ins,omitempty"`
}

type coreOSDropin struct {
	Name    string `yaml:"name"`
	Content text   `yaml:"content"`
}

// etcd2Bools are the coreos.etcd2 settings coreos-cloudinit types as
// booleans (config/etcd2.go); every other one is a string.
var etcd2Bools = map[string]bool{"client-cert-auth": true, "peer-client-cert-auth": true}

// emitCoreOSCloudConfig lets coreos-cloudinit install, enable and start the
// units itself ("command" runs after all units are written).
func emitCoreOSCloudConfig(p *Plan) ([]byte, error) {
	cfg := coreOSConfig{Hostname: p.Hostname, SSHAuthorizedKeys: p.SSHKeys}
	for _, f := range p.Files {
		cfg.WriteFiles = append(cfg.WriteFiles, newCloudFile(f))
	}
	if len(p.Etcd2) > 0 {
		cfg.CoreOS.Etcd2 = make(map[string]any, len(p.Etcd2))
		for _, kv := range p.Etcd2 {
			cfg.CoreOS.Etcd2[kv.Key] = kv.Value
			if etcd2Bools[kv.Key] {
				cfg.CoreOS.Etcd2[kv.Key] = kv.Value == "true"
			}
		}
	}
	for _, u := range p.Units {
		cu := coreOSUnit{Name: u.Name, Enable: u.Enable, Command: string(u.Action), Content: text(u.Contents)}
		for _, d := range u.Dropins {
			cu.DropIns = append(cu.DropIns, coreOSDropin{d.Name, text(d.Contents)})
		}
		cfg.CoreOS.Units = append(cfg.CoreOS.Units, cu)
	}
	merged, err := mergeSnippets(p.Node, cfg, p.Snippets.CoreOSCloudConfig)
	if err != nil {
		return nil, err
	}
	return marshalYAML(header("#cloud-config", p), merged)
}
