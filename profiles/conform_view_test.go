package profiles_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"path"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	cloudinit "github.com/coreos/coreos-cloudinit/config"
	ignition "github.com/coreos/ignition/v2/config/v3_3"
	"github.com/vincent-petithory/dataurl"
	"gopkg.in/yaml.v3"

	"github.com/swarmboot/swarmboot/internal/consumers"
	"github.com/swarmboot/swarmboot/profiles"
)

// view is what one config puts on a node, read back with its consumer's
// parser: the files it writes, the units and drop-ins, what it runs.
type view struct {
	format  profiles.Format
	files   map[string]vfile
	units   map[string]string            // units the config writes, by name
	dropins map[string]map[string]string // unit -> drop-in name -> text
	runcmd  [][]string                   // cloud-config's commands
}

type vfile struct {
	mode     int
	owner    string // user name or id; "" is root
	contents string
}

func newView(f profiles.Format) *view {
	return &view{format: f, files: map[string]vfile{}, units: map[string]string{}, dropins: map[string]map[string]string{}}
}

func (v *view) addDropin(unit, name, text string) {
	if v.dropins[unit] == nil {
		v.dropins[unit] = map[string]string{}
	}
	v.dropins[unit][name] = text
}

// addFile records a file, and a unit or drop-in when systemd would read it
// as one (cloud-config writes units as files).
func (v *view) addFile(p string, f vfile) {
	v.files[p] = f
	dir, name := path.Split(p)
	switch {
	case dir == "/etc/systemd/system/":
		v.units[name] = f.contents
	case strings.HasPrefix(dir, "/etc/systemd/system/") && strings.HasSuffix(dir, ".d/"):
		v.addDropin(strings.TrimSuffix(strings.TrimPrefix(dir, "/etc/systemd/system/"), ".d/"), name, f.contents)
	}
}

func readView(t *testing.T, f profiles.Format, data []byte) *view {
	t.Helper()
	if len(data) == 0 {
		t.Fatalf("no %s config", f)
	}
	switch f {
	case profiles.Ignition:
		return ignitionView(t, f, data)
	case profiles.Butane:
		ign, err := consumers.Butane(data)
		if err != nil {
			t.Fatal(err)
		}
		return ignitionView(t, f, ign)
	case profiles.CloudConfig:
		return cloudConfigView(t, data)
	case profiles.CoreOSCloudConfig:
		return coreosView(t, data)
	}
	t.Fatalf("no reader for %s", f)
	return nil
}

// ignitionView reads a config with Ignition's own spec 3.3 parser.
func ignitionView(t *testing.T, f profiles.Format, data []byte) *view {
	cfg, _, err := ignition.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	v := newView(f)
	for _, file := range cfg.Storage.Files {
		u, err := dataurl.DecodeString(*file.Contents.Source)
		if err != nil {
			t.Fatal(err)
		}
		body := u.Data
		if c := file.Contents.Compression; c != nil && *c == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		owner := ""
		switch {
		case file.User.Name != nil:
			owner = *file.User.Name
		case file.User.ID != nil:
			owner = strconv.Itoa(*file.User.ID)
		}
		v.files[file.Path] = vfile{mode: *file.Mode, owner: owner, contents: string(body)}
	}
	for _, u := range cfg.Systemd.Units {
		if u.Contents != nil {
			v.units[u.Name] = *u.Contents
		}
		for _, d := range u.Dropins {
			v.addDropin(u.Name, d.Name, *d.Contents)
		}
	}
	return v
}

// cloudConfigView reads cloud-init's #cloud-config (its schema is checked
// by cloud-init itself in the golden tests).
func cloudConfigView(t *testing.T, data []byte) *view {
	var cc struct {
		WriteFiles []struct {
			Path, Owner, Permissions, Content string
		} `yaml:"write_files"`
		Runcmd [][]string `yaml:"runcmd"`
	}
	if err := yaml.Unmarshal(data, &cc); err != nil {
		t.Fatal(err)
	}
	v := newView(profiles.CloudConfig)
	for _, f := range cc.WriteFiles {
		v.addFile(f.Path, vfile{mode: permissions(t, f.Permissions), owner: strings.Split(f.Owner, ":")[0], contents: f.Content})
	}
	v.runcmd = cc.Runcmd
	return v
}

// coreosView reads a coreos-cloudinit config with its own parser, and
// turns coreos.etcd2 into the drop-in coreos-cloudinit writes for it:
// 20-cloudinit.conf, an Environment="<env tag>=<value>" line for each key
// given (its system/etcd2.go and system/env.go). Network units go where
// coreos-cloudinit puts them, /etc/systemd/network.
func coreosView(t *testing.T, data []byte) *view {
	cfg, err := cloudinit.NewCloudConfig(string(data))
	if err != nil {
		t.Fatal(err)
	}
	v := newView(profiles.CoreOSCloudConfig)
	for _, f := range cfg.WriteFiles {
		v.addFile(f.Path, vfile{mode: permissions(t, f.RawFilePermissions), owner: strings.Split(f.Owner, ":")[0], contents: f.Content})
	}
	for _, u := range cfg.CoreOS.Units {
		if strings.HasSuffix(u.Name, ".network") {
			v.files["/etc/systemd/network/"+u.Name] = vfile{mode: 0o644, contents: u.Content}
			continue
		}
		if u.Content != "" {
			v.units[u.Name] = u.Content
		}
		for _, d := range u.DropIns {
			v.addDropin(u.Name, d.Name, d.Content)
		}
	}
	if env := envTagged(cfg.CoreOS.Etcd2); len(env) > 0 {
		v.addDropin("etcd2.service", "20-cloudinit.conf", "[Service]\n"+strings.Join(env, "\n")+"\n")
	}
	return v
}

// permissions reads write_files' octal string; both agents write 0644
// when it is left out (a snippet's file may leave it out).
func permissions(t *testing.T, s string) int {
	if s == "" {
		return 0o644
	}
	mode, err := strconv.ParseInt(s, 8, 32)
	if err != nil {
		t.Fatal(err)
	}
	return int(mode)
}

// envTagged is Environment="<env tag>=<value>" for each field of s that
// is set, in field order.
func envTagged(s any) []string {
	var out []string
	rv, rt := reflect.ValueOf(s), reflect.TypeOf(s)
	for i := range rt.NumField() {
		if f := rv.Field(i); !f.IsZero() {
			out = append(out, `Environment="`+rt.Field(i).Tag.Get("env")+"="+toString(f)+`"`)
		}
	}
	return out
}

func toString(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int, reflect.Int64, reflect.Int32:
		return strconv.FormatInt(v.Int(), 10)
	}
	return v.String()
}

// sortedKeys lists a map's keys in order (drop-ins apply by name).
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
