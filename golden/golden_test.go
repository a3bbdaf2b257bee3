// The golden cases: each folder holds a cluster.yaml and want/<node>/<file>
// for every format the node's profile reads. `go test ./... -update`
// rewrites want/. Besides comparing bytes, every output goes through its
// consumer's real parser.
package golden_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/internal/consumers"
	"github.com/swarmboot/swarmboot/internal/testutil"
	"github.com/swarmboot/swarmboot/profiles"
	"github.com/swarmboot/swarmboot/render"
)

func cases(t *testing.T) []string {
	dirs, err := filepath.Glob("*/cluster.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	for i := range dirs {
		dirs[i] = filepath.Dir(dirs[i])
	}
	return dirs
}

func load(t *testing.T, dir string) *cluster.Cluster {
	t.Helper()
	c, rep, err := cluster.LoadFile(filepath.Join(dir, "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(false); err != nil {
		t.Fatalf("golden description is invalid:\n%v", err)
	}
	return c
}

// options render every format every node's profile reads.
var options = delivery.Options{EveryFormat: true}

// renderAll runs the users' path (delivery.Build: the parallel render,
// then delivery) and returns the files it would write.
func renderAll(t *testing.T, c *cluster.Cluster) map[string][]byte {
	t.Helper()
	res, err := delivery.Build(c, nil, options)
	if err != nil {
		t.Fatal(err)
	}
	return res.Files
}

func TestGolden(t *testing.T) {
	for _, dir := range cases(t) {
		t.Run(dir, func(t *testing.T) {
			got := renderAll(t, load(t, dir))
			want := filepath.Join(dir, "want")
			if *testutil.Update {
				if err := os.RemoveAll(want); err != nil {
					t.Fatal(err)
				}
				for name, data := range got {
					path := filepath.Join(want, filepath.FromSlash(name))
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			wantTree := readTree(t, want)
			if diff := cmp.Diff(names(wantTree), names(got)); diff != "" {
				t.Fatalf("files differ from %s (-want +got); run `go test ./golden -update` after checking:\n%s", want, diff)
			}
			for name, data := range got {
				if diff := cmp.Diff(string(wantTree[name]), string(data)); diff != "" {
					t.Errorf("%s differs from golden (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}

func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	tree := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(root, path)
		tree[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatalf("reading %s: %v (run `go test ./golden -update` to create it)", root, err)
	}
	return tree
}

func names(tree map[string][]byte) []string {
	out := make([]string, 0, len(tree))
	for n := range tree {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// TestDeterministic renders each case 20 times at once through the path
// users run (delivery.Build: nodes emitted concurrently, then delivered),
// half of them from one loaded description (shared snippets), and wants
// every whole tree, names and bytes, equal to the first.
func TestDeterministic(t *testing.T) {
	const runs = 20
	for _, dir := range cases(t) {
		shared := load(t, dir)
		trees := make([]map[string][]byte, runs)
		errs := make([]error, runs)
		var wg sync.WaitGroup
		for i := range runs {
			c := shared
			if i%2 == 1 {
				c = load(t, dir)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				var res *delivery.Result
				if res, errs[i] = delivery.Build(c, nil, options); errs[i] == nil {
					trees[i] = res.Files
				}
			}()
		}
		wg.Wait()
		for i := range runs {
			if errs[i] != nil {
				t.Fatalf("%s: render %d: %v", dir, i, errs[i])
			}
			if diff := cmp.Diff(names(trees[0]), names(trees[i])); diff != "" {
				t.Fatalf("%s: render %d has other files:\n%s", dir, i, diff)
			}
			for name, data := range trees[i] {
				if !bytes.Equal(trees[0][name], data) {
					t.Errorf("%s/%s: render %d differs from render 0", dir, name, i)
				}
			}
		}
	}
}

// TestConsumersAccept runs each delivered file through its consumer's
// parser, and every unit of each node's plan through systemd's.
func TestConsumersAccept(t *testing.T) {
	for _, dir := range cases(t) {
		c := load(t, dir)
		files := renderAll(t, c)
		plans, err := render.Plans(c)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range plans {
			t.Run(dir+"/"+p.Node, func(t *testing.T) {
				checked := 0
				for _, f := range p.Profile.Formats {
					data, ok := files[p.Node+"/"+f.File()]
					if !ok {
						t.Fatalf("no %s for %s", f.File(), p.Node)
					}
					checkFormat(t, f, data)
					checked++
				}
				if data, ok := files[p.Node+"/network-config"]; ok {
					checkNetworkConfig(t, data)
				}
				if p.Profile.Supports(profiles.Butane) {
					butaneEqualsIgnition(t, files[p.Node+"/config.bu"], files[p.Node+"/config.ign"])
				}
				if checked == 0 {
					t.Errorf("node %s (%s): nothing checked", c.Nodes[i].Name, p.Profile.Name)
				}
				checkUnits(t, p)
			})
		}
	}
}

func checkFormat(t *testing.T, f profiles.Format, data []byte) {
	t.Helper()
	var err error
	switch f {
	case profiles.Ignition:
		err = consumers.Ignition(data)
	case profiles.Butane:
		_, err = consumers.Butane(data)
	case profiles.CoreOSCloudConfig:
		err = consumers.CoreOSCloudConfig(data)
	case profiles.CloudConfig:
		err = consumers.CloudInitSchema(data)
		if errors.Is(err, consumers.ErrToolMissing) && !testutil.InCI() {
			t.Skipf("outside CI only: %v", err) // in CI a missing validator fails
		}
	default:
		t.Fatalf("no consumer check for format %s", f)
	}
	if err != nil {
		t.Errorf("%s rejected:\n%v\n--- config ---\n%s", f, err, data)
	}
}

// butaneEqualsIgnition: what Butane makes of our Butane must be our
// Ignition, compared as parsed JSON so key order cannot hide a difference.
func butaneEqualsIgnition(t *testing.T, bu, ign []byte) {
	t.Helper()
	translated, err := consumers.Butane(bu)
	if err != nil {
		t.Fatalf("butane: %v", err)
	}
	var a, b any
	if err := json.Unmarshal(translated, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(ign, &b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("Ignition differs from Butane's translation (-butane +ours):\n%s", diff)
	}
}

// checkUnits parses every unit, drop-in and network file of the plan.
func checkUnits(t *testing.T, p *render.Plan) {
	t.Helper()
	set := consumers.UnitSet{Units: map[string]string{}, Dropins: map[string]map[string]string{}}
	for _, u := range p.Units {
		if u.Contents != "" {
			set.Units[u.Name] = u.Contents
		}
		for _, d := range u.Dropins {
			if set.Dropins[u.Name] == nil {
				set.Dropins[u.Name] = map[string]string{}
			}
			set.Dropins[u.Name][d.Name] = d.Contents
		}
	}
	if err := consumers.SystemdVerify(set); errors.Is(err, consumers.ErrToolMissing) && !testutil.InCI() {
		t.Logf("outside CI only: %v", err)
	} else if err != nil {
		t.Error(err)
	}
	for _, u := range p.Units {
		if u.Contents != "" {
			if err := consumers.SystemdUnit(u.Name, u.Contents); err != nil {
				t.Error(err)
			}
		}
		for _, d := range u.Dropins {
			if err := consumers.SystemdUnit(d.Name, d.Contents); err != nil {
				t.Error(err)
			}
		}
	}
	for _, f := range p.Files {
		if strings.HasSuffix(f.Path, ".network") || strings.HasSuffix(f.Path, ".nmconnection") {
			if err := consumers.SystemdUnit(filepath.Base(f.Path), f.Contents); err != nil {
				t.Error(err)
			}
		}
	}
}

// checkNetworkConfig has cloud-init render the NoCloud network-config.
func checkNetworkConfig(t *testing.T, data []byte) {
	t.Helper()
	_, err := consumers.NetworkConfig(data)
	if errors.Is(err, consumers.ErrToolMissing) && !testutil.InCI() {
		t.Logf("outside CI only: %v", err)
	} else if err != nil {
		t.Errorf("network-config rejected: %v\n%s", err, data)
	}
}
