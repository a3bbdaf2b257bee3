package delivery_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/delivery/encode"
	"github.com/swarmboot/swarmboot/delivery/matchbox"
	"github.com/swarmboot/swarmboot/delivery/seediso"
	"github.com/swarmboot/swarmboot/internal/consumers"
	"github.com/swarmboot/swarmboot/output"
	"github.com/swarmboot/swarmboot/profiles"
	"github.com/swarmboot/swarmboot/render"
)

func flatcar(n *cluster.Node) bool { return n.Profile == "flatcar" }

var pxe = matchbox.Options{URL: "http://matchbox.lan:8080", FlatcarVersion: "4593.2.5"}

// mixed ships testdata/mixed.yaml's Flatcar nodes by matchbox and its
// Ubuntu nodes in images (a NoCloud seed or a config drive).
func mixed(images delivery.Packaging) delivery.Options {
	return delivery.Options{Packagings: map[string]delivery.Packaging{"flatcar": delivery.Matchbox, "ubuntu": images}, Matchbox: pxe}
}

// TestMixedPackagingsOneRun: one run ships each profile its packaging,
// and each part is exactly what a run of that packaging alone makes of
// its nodes: matchbox's tree (0644, read by matchbox's rules) beside each
// Ubuntu node's image (0600), whose user-data is the node's cloud-config.
func TestMixedPackagingsOneRun(t *testing.T) {
	c := load(t, "testdata/mixed.yaml")
	tls := material(t, c)
	folders, err := deliver(c, nil, delivery.Options{}, tls)
	if err != nil {
		t.Fatal(err)
	}
	for images, userData := range map[delivery.Packaging]string{delivery.NoCloudISO: "user-data", delivery.ConfigDrive: "openstack/latest/user_data"} {
		t.Run(string(images), func(t *testing.T) {
			res, err := deliver(c, nil, mixed(images), tls)
			if err != nil {
				t.Fatal(err)
			}
			pxeAlone, err := deliver(c, flatcar, delivery.Options{Packaging: delivery.Matchbox, Matchbox: pxe}, tls)
			if err != nil {
				t.Fatal(err)
			}
			imagesAlone, err := deliver(c, notFlatcar, delivery.Options{Packaging: images}, tls)
			if err != nil {
				t.Fatal(err)
			}
			union := func(a, b map[string][]byte) map[string][]byte { u := maps.Clone(a); maps.Copy(u, b); return u }
			if diff := cmp.Diff(union(pxeAlone.Files, imagesAlone.Files), res.Files); diff != "" {
				t.Errorf("files are not the two packagings' own (-alone +mixed):\n%s", diff)
			}
			if diff := cmp.Diff(pxeAlone.Secrets, res.Secrets[len(res.Secrets)-len(pxeAlone.Secrets):]); diff != "" || len(res.Secrets) != len(pxeAlone.Secrets)+len(imagesAlone.Secrets) {
				t.Errorf("secrets %v", res.Secrets)
			}
			for name, want := range map[string]string{"etcd-1": "etcd-1/" + imageFile[images], "docker-2": "ignition/docker-2.ign"} {
				if res.Primary[name] != want {
					t.Errorf("%s's primary file is %q, want %q", name, res.Primary[name], want)
				}
			}
			// Every matchbox file, and only those, is 0644.
			for path := range res.Files {
				isPXE := slices.ContainsFunc(matchbox.Dirs(), func(d string) bool { return strings.HasPrefix(path, d+"/") })
				if mode, ok := res.Modes[path]; isPXE != ok || ok && mode != 0o644 {
					t.Errorf("%s: mode %04o (given %v)", path, mode, ok)
				}
			}
			if strings.Count(messages(res.Warnings), "matchbox serves them over plain HTTP") != 1 {
				t.Errorf("want the warning that matchbox serves the keys once:\n%s", messages(res.Warnings))
			}
			fsys := fstest.MapFS{}
			for path, data := range res.Files {
				fsys[path] = &fstest.MapFile{Data: data}
			}
			if err := consumers.Matchbox(fsys); err != nil {
				t.Errorf("matchbox's tree: %v", err)
			}
			for _, node := range []string{"docker-1", "docker-2"} {
				ign := res.Files["ignition/"+node+".ign"]
				if string(ign) != string(folders.Files[node+"/config.ign"]) {
					t.Errorf("%s: matchbox serves other than the node's Ignition config", node)
				}
				if err := consumers.Ignition(ign); err != nil {
					t.Errorf("%s: %v", node, err)
				}
			}
			for _, node := range []string{"etcd-1", "etcd-2", "etcd-3"} {
				label, files, err := seediso.Read(res.Files[node+"/"+imageFile[images]])
				if err != nil {
					t.Fatalf("%s: %v", node, err)
				}
				if label != imageLabel[images] || string(files[userData]) != string(folders.Files[node+"/user-data"]) {
					t.Errorf("%s: image %q holds %v; want the node's cloud-config as %s", node, label, keysOf(files), userData)
				}
			}
		})
	}
}

var (
	imageFile  = map[delivery.Packaging]string{delivery.NoCloudISO: "seed.iso", delivery.ConfigDrive: "config-drive.iso"}
	imageLabel = map[delivery.Packaging]string{delivery.NoCloudISO: "cidata", delivery.ConfigDrive: "config-2"}
)

// TestMixedModesOnDisk: written by the real writer under umask 000 and
// 077, matchbox's files are 0644 and the images 0600.
func TestMixedModesOnDisk(t *testing.T) {
	c := load(t, "testdata/mixed.yaml")
	res, err := build(t, c, nil, mixed(delivery.NoCloudISO))
	if err != nil {
		t.Fatal(err)
	}
	want := func(path string) os.FileMode {
		if strings.HasSuffix(path, "/seed.iso") {
			return 0o600
		}
		return 0o644
	}
	for _, umask := range []int{0o000, 0o077} {
		old := syscall.Umask(umask)
		checkModes(t, res, want)
		syscall.Umask(old)
	}
}

// TestMixedIsDeterministic: the same description and certificates make
// the same result, whatever the scheduling of runs side by side.
func TestMixedIsDeterministic(t *testing.T) {
	c := load(t, "testdata/mixed.yaml")
	tls := material(t, c)
	results := make([]*delivery.Result, 4)
	errs := make([]error, len(results))
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i], errs[i] = deliver(c, nil, mixed(delivery.ConfigDrive), tls) })
	}
	wg.Wait()
	for i, res := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if diff := cmp.Diff(results[0], res); diff != "" {
			t.Errorf("run %d differs from run 0:\n%s", i, diff)
		}
	}
}

// TestMixedRefusesInOneError: each packaging checks its own nodes, and
// every refusal of every packaging comes in one error.
func TestMixedRefusesInOneError(t *testing.T) {
	noMACs := loadEdited(t, "testdata/mixed.yaml", func(s string) string {
		s = strings.Replace(s, `, mac: "52:54:00:88:00:12"`, "", 1)
		return strings.Replace(s, `, mac: "52:54:00:88:00:22"`, "", 1)
	})
	o := mixed(delivery.ConfigDrive)
	o.Matchbox = matchbox.Options{}
	_, err := o.Plan(noMACs, nil)
	var oe *delivery.OptionError
	if !errors.As(err, &oe) {
		t.Fatalf("%v; want an OptionError (matchbox's flags are missing)", err)
	}
	for _, want := range []string{"add `mac:` to etcd-2 in testdata/mixed.yaml", "--matchbox-url", "--flatcar-version", "`mac:` on docker-2 in testdata/mixed.yaml"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%v", want, err)
		}
	}
	// Without matchbox's nodes, nothing of matchbox is needed.
	if _, err := o.Plan(noMACs, func(n *cluster.Node) bool { return n.Name != "etcd-2" && !flatcar(n) }); err != nil {
		t.Errorf("config drives for the Ubuntu nodes with MACs: %v", err)
	}
	// The Flatcar node without a MAC is no config drive's concern: a
	// profile not named keeps its folder.
	res, err := build(t, noMACs, func(n *cluster.Node) bool { return n.Name != "etcd-2" }, delivery.Options{Packagings: map[string]delivery.Packaging{"ubuntu": delivery.ConfigDrive}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.Files["docker-2/config.ign"]; !ok || res.Primary["etcd-1"] != "etcd-1/config-drive.iso" {
		t.Errorf("files %v", keysOf(res.Files))
	}
}

// TestMixedSharedFolder: a node whose folder is one matchbox writes
// (profiles/, ignition/) is refused before anything is issued, and by
// Apply; a node of matchbox's own may have that name.
func TestMixedSharedFolder(t *testing.T) {
	clash := loadEdited(t, "testdata/mixed.yaml", func(s string) string {
		s = strings.Replace(s, "name: etcd-1,", "name: profiles,", 1)
		return strings.Replace(s, "name: etcd-3,", "name: ignition,", 1)
	})
	for _, o := range []delivery.Options{mixed(delivery.NoCloudISO), {Packagings: map[string]delivery.Packaging{"flatcar": delivery.Matchbox}, Matchbox: pxe}} {
		_, err := o.Plan(clash, nil)
		var oe *delivery.OptionError
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), "DIR/profiles/ would hold the files of node profiles and matchbox's; DIR/ignition/ would hold the files of node ignition and matchbox's: rename the node") {
			t.Errorf("%v: %v", o.Packagings, err)
		}
	}
	outs, err := render.Render(clash, render.Options{Jobs: render.AllJobs(clash), TLS: material(t, clash)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := delivery.Apply(clash, outs, mixed(delivery.NoCloudISO)); err == nil || !strings.Contains(err.Error(), "nocloud-iso and matchbox would both write into ignition") {
		t.Errorf("Apply: %v", err)
	}
	own := loadEdited(t, "testdata/mixed.yaml", func(s string) string { return strings.Replace(s, "name: docker-1,", "name: profiles,", 1) })
	if _, err := build(t, own, nil, mixed(delivery.NoCloudISO)); err != nil {
		t.Errorf("a matchbox node named profiles: %v", err)
	}
}

// TestPerProfileChoice: a profile's own entry wins over its family's,
// whichever map holds each.
func TestPerProfileChoice(t *testing.T) {
	c := load(t, "testdata/config-drive.yaml") // debian-12 nodes, a Flatcar one
	for _, tc := range []struct {
		o    delivery.Options
		want string
	}{
		{delivery.Options{Packagings: map[string]delivery.Packaging{"debian": delivery.ConfigDrive}, Formats: map[string][]profiles.Format{"debian-12": {profiles.CloudConfig}}}, "node-1/user-data"},
		{delivery.Options{Packagings: map[string]delivery.Packaging{"debian-12": delivery.NoCloudISO}, Formats: map[string][]profiles.Format{"debian": {profiles.CloudConfig}}}, "node-1/seed.iso"},
		{delivery.Options{Packagings: map[string]delivery.Packaging{"debian": delivery.ConfigDrive}}, "node-1/config-drive.iso"},
		{delivery.Options{Packaging: delivery.Matchbox, Matchbox: pxe, Formats: map[string][]profiles.Format{"debian": {profiles.CloudConfig}}}, "node-1/user-data"},
	} {
		res, err := build(t, c, nil, tc.o)
		if err != nil {
			t.Fatalf("%+v: %v", tc.o, err)
		}
		if got := res.Primary["node-1"]; got != tc.want {
			t.Errorf("packagings %v, formats %v: node-1 gets %s, want %s", tc.o.Packagings, tc.o.Formats, got, tc.want)
		}
	}
}

// TestPerProfileValidate: what a per-profile packaging cannot do is
// refused before anything is loaded, all of it named.
func TestPerProfileValidate(t *testing.T) {
	per := func(kv ...string) map[string]delivery.Packaging {
		m := map[string]delivery.Packaging{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = delivery.Packaging(kv[i+1])
		}
		return m
	}
	for _, tc := range []struct {
		name string
		o    delivery.Options
		want []string
	}{
		{"unknown profile", delivery.Options{Packagings: per("gentoo", "nocloud-iso")}, []string{`unknown profile "gentoo"`}},
		{"a packaging the profile cannot take", delivery.Options{Packagings: per("flatcar", "nocloud-iso")}, []string{"--format flatcar=nocloud-iso: profile flatcar does not read cloud-config; flatcar's nodes take ignition, butane, coreos-cloudconfig, matchbox"}},
		{"Vagrant per profile", delivery.Options{Packagings: per("ubuntu", "vagrant")}, []string{"--format ubuntu=vagrant: no packaging --format offers"}},
		{"Vagrant beside others", delivery.Options{Packaging: delivery.Vagrant, Packagings: per("ubuntu", "nocloud-iso")}, []string{"vagrant chooses the format itself"}},
		{"a format and a packaging", delivery.Options{Packagings: per("ubuntu", "nocloud-iso"), Formats: map[string][]profiles.Format{"ubuntu": {profiles.CloudConfig}}}, []string{"ubuntu is given a format and a packaging"}},
		{"gzip for matchbox", delivery.Options{Packagings: per("flatcar", "matchbox"), Encoding: encode.Gzip}, []string{"matchbox serves"}},
		{"base64 for every packaging", delivery.Options{Packaging: delivery.ConfigDrive, Packagings: per("flatcar", "matchbox", "ubuntu", "nocloud-iso"), Encoding: encode.Base64}, []string{"matchbox serves", "does not base64-decode"}},
	} {
		err := tc.o.Validate()
		var oe *delivery.OptionError
		if !errors.As(err, &oe) {
			t.Errorf("%s: %v; want an OptionError", tc.name, err)
			continue
		}
		for _, want := range tc.want {
			if strings.Count(err.Error(), want) != 1 {
				t.Errorf("%s: want %q once in:\n%v", tc.name, want, err)
			}
		}
	}
	for _, o := range []delivery.Options{
		{Packagings: per("ubuntu", "nocloud-iso", "debian", "config-drive"), Encoding: encode.Gzip},
		{Packaging: delivery.Matchbox, Formats: map[string][]profiles.Format{"ubuntu": {profiles.CloudConfig}}},
		{Packaging: delivery.NoCloudISO, Packagings: per("flatcar", "matchbox")},
	} {
		if err := o.Validate(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

// TestRefusalShowsPerProfileForm: a format or packaging forced on nodes
// it does not fit names them all and the per-profile --format that fits
// this cluster, built from its own profiles.
func TestRefusalShowsPerProfileForm(t *testing.T) {
	for _, tc := range []struct {
		file string
		o    delivery.Options
		want string
	}{
		{"testdata/mixed.yaml", delivery.Options{Packaging: delivery.Matchbox, Matchbox: pxe}, "format matchbox does not apply to etcd-1 (ubuntu: cloud-config), etcd-2 (ubuntu: cloud-config), etcd-3 (ubuntu: cloud-config); give each profile its own in one run: --format flatcar=matchbox,ubuntu=nocloud-iso "},
		{"testdata/mixed.yaml", delivery.Options{Packaging: delivery.NoCloudISO}, "format nocloud-iso does not apply to docker-1 (flatcar: ignition, butane, coreos-cloudconfig), docker-2 (flatcar: ignition, butane, coreos-cloudconfig); give each profile its own in one run: --format flatcar=matchbox,ubuntu=nocloud-iso "},
		{"testdata/mixed.yaml", delivery.Options{Format: profiles.CoreOSCloudConfig}, "--format flatcar=coreos-cloudconfig,ubuntu=cloud-config "},
		{"testdata/config-drive.yaml", delivery.Options{Packaging: delivery.ConfigDrive}, "--format debian=config-drive,flatcar=matchbox "},
		{"../golden/single-node/cluster.yaml", delivery.Options{Packaging: delivery.Matchbox}, "in one run: --format coreos=coreos-cloudconfig "},
	} {
		c := load(t, tc.file)
		_, err := tc.o.Plan(c, nil)
		var oe *delivery.OptionError
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s, %+v: %v\nwant %q", tc.file, tc.o, err, tc.want)
		}
	}
}

// TestPrimaryPerProfile: render --node prints a node's file where its
// packaging makes one, and refuses a node that matchbox ships.
func TestPrimaryPerProfile(t *testing.T) {
	c := load(t, "testdata/mixed.yaml")
	o := mixed(delivery.NoCloudISO)
	o.Primary = true
	one := func(name string) func(*cluster.Node) bool {
		return func(n *cluster.Node) bool { return n.Name == name }
	}
	res, err := build(t, c, one("etcd-2"), o)
	if err != nil || res.Primary["etcd-2"] != "etcd-2/seed.iso" || len(res.Files) != 1 {
		t.Errorf("etcd-2: %v, files %v", err, res)
	}
	_, err = build(t, c, one("docker-1"), o)
	var oe *delivery.OptionError
	if !errors.As(err, &oe) || err.Error() != "docker-1: matchbox writes a directory, not a file per node: use -o DIR" {
		t.Errorf("docker-1: %v", err)
	}
}

// checkModes writes res with the real writer and holds every file to
// the mode want gives its path.
func checkModes(t *testing.T, res *delivery.Result, want func(path string) os.FileMode) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out")
	if err := output.WriteTree(dir, res.Files, output.Options{Modes: res.Modes}); err != nil {
		t.Fatal(err)
	}
	if len(res.Files) == 0 {
		t.Fatal("no files")
	}
	for name := range res.Files {
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want(name) {
			t.Errorf("%s: mode %04o, want %04o", name, fi.Mode().Perm(), want(name))
		}
	}
}
