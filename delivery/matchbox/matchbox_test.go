package matchbox

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/swarmboot/swarmboot/internal/consumers"
)

var ign34 = []byte(`{"ignition":{"version":"3.4.0"}}`)

func machines() []Machine {
	return []Machine{
		{Name: "docker-01", MAC: "52-54-00-AA-BB-01", OS: "flatcar", Ignition: ign34},
		{Name: "etcd-01", MAC: "52:54:00:aa:bb:11", OS: "fcos", Ignition: []byte(`{"ignition":{"version":"3.3.0"}}`)},
	}
}

func opts() Options {
	return Options{URL: "http://matchbox.example.com:8080/", FlatcarVersion: "4081.2.0",
		FCOSVersion: "42.20250914.3.0", ExtraArgs: []string{"console=ttyS0"}}
}

func build(t *testing.T, ms []Machine, o Options) map[string]string {
	t.Helper()
	files, err := Build(ms, o)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var paths []string
	for _, f := range files {
		out[f.Path] = string(f.Data)
		paths = append(paths, f.Path)
	}
	if !slices.IsSorted(paths) || len(paths) != len(out) {
		t.Errorf("files not sorted by path: %v", paths)
	}
	return out
}

func TestBuildGolden(t *testing.T) {
	got := build(t, machines(), opts())
	want := map[string]string{
		"groups/docker-01.json": `{
  "id": "docker-01",
  "name": "docker-01",
  "profile": "docker-01",
  "selector": {
    "mac": "52:54:00:aa:bb:01"
  }
}
`,
		"profiles/docker-01.json": `{
  "id": "docker-01",
  "name": "docker-01 (Flatcar Container Linux)",
  "boot": {
    "kernel": "/assets/flatcar/4081.2.0/flatcar_production_pxe.vmlinuz",
    "initrd": [
      "/assets/flatcar/4081.2.0/flatcar_production_pxe_image.cpio.gz"
    ],
    "args": [
      "initrd=flatcar_production_pxe_image.cpio.gz",
      "flatcar.config.url=http://matchbox.example.com:8080/ignition?uuid=${uuid}&mac=${mac:hexhyp}",
      "flatcar.first_boot=yes",
      "console=ttyS0"
    ]
  },
  "ignition_id": "docker-01.ign"
}
`,
		"ignition/docker-01.ign": string(ign34),
		"groups/etcd-01.json": `{
  "id": "etcd-01",
  "name": "etcd-01",
  "profile": "etcd-01",
  "selector": {
    "mac": "52:54:00:aa:bb:11"
  }
}
`,
		"profiles/etcd-01.json": `{
  "id": "etcd-01",
  "name": "etcd-01 (Fedora CoreOS)",
  "boot": {
    "kernel": "/assets/fedora-coreos/fedora-coreos-42.20250914.3.0-live-kernel.x86_64",
    "initrd": [
      "--name main /assets/fedora-coreos/fedora-coreos-42.20250914.3.0-live-initramfs.x86_64.img"
    ],
    "args": [
      "initrd=main",
      "coreos.live.rootfs_url=http://matchbox.example.com:8080/assets/fedora-coreos/fedora-coreos-42.20250914.3.0-live-rootfs.x86_64.img",
      "ignition.firstboot",
      "ignition.platform.id=metal",
      "ignition.config.url=http://matchbox.example.com:8080/ignition?uuid=${uuid}&mac=${mac:hexhyp}",
      "console=ttyS0"
    ]
  },
  "ignition_id": "etcd-01.ign"
}
`,
		"ignition/etcd-01.ign": `{"ignition":{"version":"3.3.0"}}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("data directory (-want +got):\n%s", diff)
	}
	if again := build(t, machines(), opts()); !cmp.Equal(got, again) {
		t.Error("Build is not deterministic")
	}
}

func TestBuildRemoteAssets(t *testing.T) {
	o := opts()
	o.RemoteAssets, o.FlatcarChannel, o.FCOSStream = true, "beta", "testing"
	got := build(t, machines(), o)
	for file, want := range map[string]string{
		"profiles/docker-01.json": `"kernel": "https://beta.release.flatcar-linux.net/amd64-usr/4081.2.0/flatcar_production_pxe.vmlinuz"`,
		"profiles/etcd-01.json":   `coreos.live.rootfs_url=https://builds.coreos.fedoraproject.org/prod/streams/testing/builds/42.20250914.3.0/x86_64/fedora-coreos-42.20250914.3.0-live-rootfs.x86_64.img`,
	} {
		if !strings.Contains(got[file], want) {
			t.Errorf("%s lacks %s:\n%s", file, want, got[file])
		}
	}
}

func TestBuildPassesVerify(t *testing.T) {
	files, err := Build(machines(), opts())
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for _, f := range files {
		fsys[f.Path] = &fstest.MapFile{Data: f.Data}
	}
	if err := consumers.Matchbox(fsys); err != nil {
		t.Fatalf("Verify on Build's output: %v", err)
	}
}

func TestVerifyCatches(t *testing.T) {
	good := fstest.MapFS{}
	files, err := Build(machines(), opts())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		good[f.Path] = &fstest.MapFile{Data: f.Data}
	}
	tests := []struct {
		name   string
		change func(fstest.MapFS)
		want   string
	}{
		{"group without profile", func(m fstest.MapFS) { delete(m, "profiles/etcd-01.json") }, `names profile "etcd-01", which does not exist`},
		{"profile without config", func(m fstest.MapFS) { delete(m, "ignition/docker-01.ign") }, "names ignition/docker-01.ign, which does not exist"},
		{"unknown field", func(m fstest.MapFS) {
			m["groups/x.json"] = &fstest.MapFile{Data: []byte(`{"id":"x","profile":"etcd-01","selectors":{"mac":"52:54:00:00:00:01"}}`)}
		}, `unknown field "selectors"`},
		{"duplicate mac", func(m fstest.MapFS) {
			m["groups/x.json"] = &fstest.MapFile{Data: []byte(`{"id":"x","profile":"etcd-01","selector":{"mac":"52:54:00:aa:bb:01"}}`)}
		}, "selects mac 52:54:00:aa:bb:01, as groups/docker-01.json does"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := fstest.MapFS{}
			for k, v := range good {
				m[k] = v
			}
			tt.change(m)
			if err := consumers.Matchbox(m); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Verify error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestBuildRejects(t *testing.T) {
	with := func(f func(*Machine)) []Machine {
		ms := machines()
		f(&ms[0])
		return ms
	}
	tests := []struct {
		name string
		ms   []Machine
		o    func(*Options)
		want string
	}{
		{"upper-case name", with(func(m *Machine) { m.Name = "Docker-01" }), nil, `machine name "Docker-01"`},
		{"duplicate name", with(func(m *Machine) { m.Name = "etcd-01" }), nil, `"etcd-01" listed twice`},
		{"bad MAC", with(func(m *Machine) { m.MAC = "52:54:00" }), nil, "not a 48-bit MAC"},
		{"shared MAC", with(func(m *Machine) { m.MAC = "52:54:00:AA:BB:11" }), nil, "share MAC 52:54:00:aa:bb:11"},
		{"unknown OS", with(func(m *Machine) { m.OS = "ubuntu" }), nil, `OS "ubuntu": want flatcar or fcos`},
		{"spec 3.5", with(func(m *Machine) { m.Ignition = []byte(`{"ignition":{"version":"3.5.0"}}`) }), nil, "Ignition spec 3.5.0; matchbox v0.11.0 serves spec 3.0.0 to 3.4.0"},
		{"spec 2", with(func(m *Machine) { m.Ignition = []byte(`{"ignition":{"version":"2.3.0"}}`) }), nil, "no spec 3 ignition.version"},
		{"not JSON", with(func(m *Machine) { m.Ignition = []byte("variant: flatcar\n") }), nil, "not JSON"},
		{"no URL", machines(), func(o *Options) { o.URL = "" }, "want http://HOST[:PORT]"},
		{"URL with query", machines(), func(o *Options) { o.URL = "http://m:8080/?a=b" }, "want http://HOST[:PORT]"},
		{"no Flatcar version", machines(), func(o *Options) { o.FlatcarVersion = "" }, "Flatcar Container Linux version \"\": set one, e.g. 4593.2.5"},
		{"bad channel", machines(), func(o *Options) { o.FlatcarChannel = "edge" }, `channel "edge"`},
		{"bad stream", machines(), func(o *Options) { o.FCOSStream = "rawhide" }, `stream "rawhide"`},
		{"version with slash", machines(), func(o *Options) { o.FCOSVersion = "../x" }, "Fedora CoreOS version \"../x\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts()
			if tt.o != nil {
				tt.o(&o)
			}
			if _, err := Build(tt.ms, o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Build error = %v, want %q", err, tt.want)
			}
		})
	}
}
