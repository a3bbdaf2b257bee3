package render

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/swarmboot/swarmboot/render/nocloud"
)

// cloudConfig is the subset of cloud-init's #cloud-config swarmboot writes,
// in the order cloud-init applies it.
type cloudConfig struct {
	Hostname          string      `yaml:"hostname"`
	ManageEtcHosts    bool        `yaml:"manage_etc_hosts"`
	SSHAuthorizedKeys []string    `yaml:"ssh_authorized_keys,omitempty"`
	Packages          []string    `yaml:"packages,omitempty"`
	WriteFiles        []cloudFile `yaml:"write_files,omitempty"`
	Runcmd            []command   `yaml:"runcmd,omitempty"`
}

// command is one runcmd entry: an argv list, run without a shell, written
// on one line.
type command []string

func (c command) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, arg := range c {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: arg})
	}
	return n, nil
}

// cloudFile is a write_files entry; both cloud-init and coreos-cloudinit
// want permissions as an octal string.
type cloudFile struct {
	Path        string `yaml:"path"`
	Owner       string `yaml:"owner,omitempty"` // user:group
	Permissions string `yaml:"permissions"`
	Content     text   `yaml:"content"`
}

func newCloudFile(f File) cloudFile {
	owner := ""
	if f.Owner != "" {
		owner = f.Owner + ":" + f.Owner
	}
	return cloudFile{f.Path, owner, fmt.Sprintf("%04o", f.Mode), text(f.Contents)}
}

// emitCloudConfig writes units as plain files (cloud-init has no units
// section) and starts them from runcmd, which runs after write_files and
// packages in the final stage.
func emitCloudConfig(p *Plan) ([]byte, error) {
	cc := cloudConfig{
		Hostname:          p.Hostname,
		ManageEtcHosts:    true,
		SSHAuthorizedKeys: p.SSHKeys,
		Packages:          p.Packages,
		WriteFiles:        planFiles(p),
		Runcmd:            runcmd(p),
	}
	merged, err := mergeSnippets(p.Node, cc, p.Snippets.CloudConfig)
	if err != nil {
		return nil, err
	}
	return marshalYAML(header("#cloud-config", p), merged)
}

// planFiles lists the plan's files, then its units and drop-ins as files.
func planFiles(p *Plan) []cloudFile {
	files := make([]cloudFile, 0, len(p.Files)+len(p.Units))
	for _, f := range p.Files {
		files = append(files, newCloudFile(f))
	}
	for _, u := range p.Units {
		if u.Contents != "" {
			files = append(files, newCloudFile(File{Path: unitPath(u.Name), Mode: 0o644, Contents: u.Contents}))
		}
		for _, d := range u.Dropins {
			files = append(files, newCloudFile(File{Path: dropinPath(u.Name, d.Name), Mode: 0o644, Contents: d.Contents}))
		}
	}
	return files
}

// runcmd reloads systemd (it read the units before write_files ran) and
// enables and (re)starts units in plan order. --no-block: etcd reports
// ready only once it has quorum, and runcmd must not wait for the other
// members to boot.
func runcmd(p *Plan) []command {
	if len(p.Units) == 0 {
		return nil
	}
	cmds := []command{{"systemctl", "daemon-reload"}}
	for _, u := range p.Units {
		if u.Enable {
			cmds = append(cmds, command{"systemctl", "enable", u.Name})
		}
		if u.Action != NoAction {
			cmds = append(cmds, command{"systemctl", string(u.Action), "--no-block", u.Name})
		}
	}
	return cmds
}

// emitNetworkConfig returns NoCloud's network-config (version 2), or nil
// when the node has no static address.
func emitNetworkConfig(p *Plan) ([]byte, error) {
	nw := p.Network
	if nw == nil {
		return nil, nil
	}
	s := nocloud.Static{Interface: nw.Interface, MAC: nw.MAC, Names: nw.Names, Address: nw.Address.String()}
	if nw.Gateway.IsValid() {
		s.Gateway = nw.Gateway.String()
	}
	for _, d := range nw.DNS {
		s.DNS = append(s.DNS, d.String())
	}
	return nocloud.NetworkConfig(s)
}
