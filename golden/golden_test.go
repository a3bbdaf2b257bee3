// The golden cases: each folder holds a cluster.yaml and want/<node>/<file>
// for every format the node's profile reads. `go test ./... -update`
// rewrites want/. Besides comparing bytes, every output goes through its
// consumer's real parser.
package golden_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vincent-petithory/dataurl"

	"github.com/swarmboot/swarmboot"
	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/delivery/encode"
	"github.com/swarmboot/swarmboot/internal/consumers"
	"github.com/swarmboot/swarmboot/internal/testutil"
	"github.com/swarmboot/swarmboot/pki"
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
var options = delivery.Options{Formats: testutil.EveryFormat()}

// renderAll runs the users' path, the library's one call (the case's
// committed PKI, read only; the parallel render, then delivery), and
// returns the files it would write.
func renderAll(t *testing.T, c *cluster.Cluster) map[string][]byte {
	t.Helper()
	return build(t, c, options).Files
}

// build is swarmboot.Build of the case's description with its committed
// PKI, as a render that has nothing to issue runs.
func build(t *testing.T, c *cluster.Cluster, o delivery.Options) *swarmboot.Result {
	t.Helper()
	res, err := libraryBuild(c, pkiDir(t, c), o)
	if err != nil {
		t.Fatalf("%s: %v", c.File, err)
	}
	return res
}

// libraryBuild is build without the test's hand on it, for goroutines.
func libraryBuild(c *cluster.Cluster, pkiDir string, o delivery.Options) (*swarmboot.Result, error) {
	data, err := os.ReadFile(c.File)
	if err != nil {
		return nil, err
	}
	return swarmboot.Build(context.Background(), data, swarmboot.Options{
		File: c.File, PKI: pkiDir, PKIMode: swarmboot.ReadOnly, Now: goldenNow, Delivery: o,
	})
}

// goldenNow is the clock of the golden PKIs: certificates issued and
// checked at this instant stay valid for the tests however old they get.
var goldenNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// pkiDir is the case's committed pki/, made and issued only with -update:
// the golden bytes must not change by themselves. Git keeps no file
// modes, so the tests read a copy whose keys are 0600 again, as pki
// requires. "" for a case without TLS.
func pkiDir(t *testing.T, c *cluster.Cluster) string {
	t.Helper()
	if !c.UsesTLS() {
		return ""
	}
	dir := pki.Dir(c, "")
	if !*testutil.Update {
		return privateCopy(t, dir)
	}
	// A checkout gives the committed keys git's 0644, which pki refuses.
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, "key.pem") {
			os.Chmod(path, 0o600)
		}
		return nil
	})
	p, err := pki.Prepare(c, dir, goldenNow, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	// The operator's env names this machine's absolute path: not a fixture.
	if err := os.Remove(p.Env); err != nil {
		t.Fatal(err)
	}
	return dir
}

// material is the case's certificates, for the tests that plan or
// deliver by themselves.
func material(t *testing.T, c *cluster.Cluster) map[string]pki.Material {
	t.Helper()
	if !c.UsesTLS() {
		return nil
	}
	m, err := pki.Load(c, pkiDir(t, c), goldenNow)
	if err != nil {
		t.Fatalf("%v (run `go test ./golden -update` to make the case's pki/)", err)
	}
	return m
}

// privateCopy copies a PKI directory with the modes pki wants.
func privateCopy(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "pki")
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o600)
	})
	if err != nil {
		t.Fatalf("copying %s: %v (run `go test ./golden -update` to make it)", src, err)
	}
	return dst
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

// TestDeterministic renders each case 20 times at once: half through the
// library's one call (each from its own bytes), half through delivery
// from one loaded description shared by all of them (snippets and all:
// nothing downstream may change what it reads), and wants every whole
// tree, names and bytes, equal to the first.
func TestDeterministic(t *testing.T) {
	const runs = 20
	for _, dir := range cases(t) {
		shared := load(t, dir)
		tls := material(t, shared)
		pkiCopy := pkiDir(t, shared)
		trees := make([]map[string][]byte, runs)
		errs := make([]error, runs)
		var wg sync.WaitGroup
		for i := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					var res *swarmboot.Result
					if res, errs[i] = libraryBuild(shared, pkiCopy, options); errs[i] == nil {
						trees[i] = res.Files
					}
					return
				}
				plan, err := options.Plan(shared, nil)
				if errs[i] = err; err != nil {
					return
				}
				var res *delivery.Result
				if res, errs[i] = plan.Deliver(tls); errs[i] == nil {
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
		plans, err := render.Plans(c, render.Options{Jobs: render.AllJobs(c), TLS: material(t, c)})
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range plans {
			// One subtest per check: a consumer missing outside CI skips
			// its own check, never the node's others.
			t.Run(dir+"/"+p.Node, func(t *testing.T) {
				if len(p.Profile.Formats) == 0 {
					t.Errorf("node %s (%s): nothing checked", c.Nodes[i].Name, p.Profile.Name)
				}
				for _, f := range p.Profile.Formats {
					data, ok := files[p.Node+"/"+f.File()]
					if !ok {
						t.Fatalf("no %s for %s", f.File(), p.Node)
					}
					t.Run(f.File(), func(t *testing.T) { checkFormat(t, f, data) })
				}
				if data, ok := files[p.Node+"/network-config"]; ok {
					t.Run("network-config", func(t *testing.T) { checkNetworkConfig(t, data) })
				}
				if p.Profile.Supports(profiles.Butane) {
					t.Run("butane equals ignition", func(t *testing.T) {
						butaneEqualsIgnition(t, files[p.Node+"/config.bu"], files[p.Node+"/config.ign"])
					})
				}
				t.Run("units", func(t *testing.T) { checkUnits(t, p) })
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

// TestCAKeyNeverShipped: no delivered file of a TLS case carries the CA's
// key, looked for in the files as written and inside Ignition's data URLs
// (base64, gzip). The same search finds each node's own key, so it can see
// a key where there is one.
func TestCAKeyNeverShipped(t *testing.T) {
	tlsCases := 0
	for _, dir := range cases(t) {
		c := load(t, dir)
		if !c.UsesTLS() {
			continue
		}
		tlsCases++
		caKey := pemBody(t, filepath.Join(pki.Dir(c, ""), "ca-key.pem"))
		files := renderAll(t, c)
		for _, n := range c.Nodes {
			own := pemBody(t, filepath.Join(pki.Dir(c, ""), "nodes", n.Name, "key.pem"))
			found := false
			for name, data := range files {
				if !strings.HasPrefix(name, n.Name+"/") {
					continue
				}
				text := shippedText(t, name, data)
				if strings.Contains(text, caKey) {
					t.Errorf("%s/%s carries the CA's key", dir, name)
				}
				found = found || strings.Contains(text, own)
			}
			if !found {
				t.Errorf("%s: node %s's own key is in none of its files; the search cannot see keys", dir, n.Name)
			}
		}
	}
	if tlsCases < 3 {
		t.Fatalf("only %d golden cases use TLS", tlsCases)
	}
}

// pemBody is the first base64 line of a PEM file: 64 characters of a key
// are unique, however a format indents the lines of a block.
func pemBody(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM", path)
	}
	return strings.Split(string(data), "\n")[1]
}

// shippedText is a delivered file as text, with Ignition's file contents
// decoded from their data URLs.
func shippedText(t *testing.T, name string, data []byte) string {
	t.Helper()
	if !strings.HasSuffix(name, ".ign") {
		return string(data)
	}
	var cfg struct {
		Storage struct {
			Files []struct {
				Contents struct {
					Source      string `json:"source"`
					Compression string `json:"compression"`
				} `json:"contents"`
			} `json:"files"`
		} `json:"storage"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var b strings.Builder
	b.Write(data)
	for _, f := range cfg.Storage.Files {
		u, err := dataurl.DecodeString(f.Contents.Source)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body := u.Data
		if f.Contents.Compression == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		b.Write(body)
	}
	return b.String()
}

// TestREADMETLSSizes: the README's user-data sizes with and without TLS
// are the seed cases' (their committed PKI keeps them stable), measured
// through delivery as a render would ship them.
func TestREADMETLSSizes(t *testing.T) {
	size := func(dir, node string, enc encode.Encoding) int {
		t.Helper()
		c := load(t, dir)
		keep := func(n *cluster.Node) bool { return n.Name == node }
		o := delivery.Options{Primary: true, Encoding: enc}
		plan, err := o.Plan(c, keep)
		if err != nil {
			t.Fatal(err)
		}
		res, err := plan.Deliver(material(t, c))
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Files[res.Primary[node]])
	}
	want := fmt.Sprintf("is %d bytes with TLS (%d as the `--encode gzip` wrapper) against %d plain; an Ubuntu etcd member %d bytes (%d gzipped) against %d.",
		size("seed-tls", "docker-01", encode.None), size("seed-tls", "docker-01", encode.Gzip), size("seed", "docker-01", encode.None),
		size("seed-tls", "etcd-01", encode.None), size("seed-tls", "etcd-01", encode.Gzip), size("seed", "etcd-01", encode.None))
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), want) {
		t.Errorf("README's TLS sizes are stale; they are now:\n%s", want)
	}
}
