package render

// Butane and Ignition describe the same thing; both emitters read it from
// ignitionView, so the two can only differ in syntax.
type ignitionView struct {
	User    string
	SSHKeys []string
	Files   []File
	Units   []Unit
}

// newIgnitionView adds what Ignition has no field for: the hostname is a
// file. Start actions are dropped: Ignition writes everything before
// systemd starts, so enabled units simply start at first boot.
func newIgnitionView(p *Plan) ignitionView {
	files := make([]File, 0, len(p.Files)+1)
	files = append(files, File{Path: "/etc/hostname", Mode: 0o644, Contents: p.Hostname + "\n"})
	files = append(files, p.Files...)
	return ignitionView{User: p.Profile.Ignition.User, SSHKeys: p.SSHKeys, Files: files, Units: p.Units}
}

type butaneConfig struct {
	Variant string         `yaml:"variant"`
	Version string         `yaml:"version"`
	Passwd  *butanePasswd  `yaml:"passwd,omitempty"`
	Storage *butaneStorage `yaml:"storage,omitempty"`
	Systemd *butaneSystemd `yaml:"systemd,omitempty"`
}

type butanePasswd struct {
	Users []butaneUser `yaml:"users"`
}

type butaneUser struct {
	Name              string   `yaml:"name"`
	SSHAuthorizedKeys []string `yaml:"ssh_authorized_keys"`
}

type butaneStorage struct {
	Files []butaneFile `yaml:"files"`
}

type butaneFile struct {
	Path     string         `yaml:"path"`
	Mode     octalMode      `yaml:"mode"`
	User     *butaneName    `yaml:"user,omitempty"`
	Group    *butaneName    `yaml:"group,omitempty"`
	Contents butaneContents `yaml:"contents"`
}

type butaneName struct {
	Name string `yaml:"name"`
}

type butaneContents struct {
	Inline text `yaml:"inline"`
}

type butaneSystemd struct {
	Units []butaneUnit `yaml:"units"`
}

type butaneUnit struct {
	Name     string         `yaml:"name"`
	Enabled  *bool          `yaml:"enabled,omitempty"`
	Contents text           `yaml:"contents,omitempty"`
	Dropins  []butaneDropin `yaml:"dropins,omitempty"`
}

type butaneDropin struct {
	Name     string `yaml:"name"`
	Contents text   `yaml:"contents"`
}

func emitButane(p *Plan) ([]byte, error) {
	if err := checkButaneSnippets(p); err != nil {
		return nil, err
	}
	v := newIgnitionView(p)
	cfg := butaneConfig{Variant: p.Profile.Ignition.Variant, Version: p.Profile.Ignition.Version}
	if len(v.SSHKeys) > 0 {
		cfg.Passwd = &butanePasswd{Users: []butaneUser{{Name: v.User, SSHAuthorizedKeys: v.SSHKeys}}}
	}
	cfg.Storage = &butaneStorage{}
	for _, f := range v.Files {
		bf := butaneFile{Path: f.Path, Mode: octalMode(f.Mode), Contents: butaneContents{text(f.Contents)}}
		if f.Owner != "" {
			bf.User, bf.Group = &butaneName{f.Owner}, &butaneName{f.Owner}
		}
		cfg.Storage.Files = append(cfg.Storage.Files, bf)
	}
	if len(v.Units) > 0 {
		cfg.Systemd = &butaneSystemd{}
	}
	for _, u := range v.Units {
		bu := butaneUnit{Name: u.Name, Contents: text(u.Contents)}
		if u.Enable {
			bu.Enabled = &u.Enable
		}
		for _, d := range u.Dropins {
			bu.Dropins = append(bu.Dropins, butaneDropin{d.Name, text(d.Contents)})
		}
		cfg.Systemd.Units = append(cfg.Systemd.Units, bu)
	}
	merged, err := mergeSnippets(p.Node, cfg, p.Snippets.Butane)
	if err != nil {
		return nil, err
	}
	return marshalYAML(header("# Butane config; `butane --strict` turns it into the config.ign beside it.", p), merged)
}
