package dockerarchive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"

	_ "github.com/swarmboot/swarmboot/internal/testutil" // accepts go test ./... -update
)

var testImage = Image{
	RepoTags:     []string{"swarm:1.2.9"},
	Entrypoint:   []string{"/swarm"},
	Cmd:          []string{"--help"},
	Env:          []string{"SWARM_HOST=:2375"},
	ExposedPorts: []string{"2375/tcp"},
	Files: []File{
		{Path: "/swarm", Mode: 0o755, Data: []byte("#!fake swarm binary\n")},
		{Path: "/etc/ssl/certs/ca.crt", Mode: 0o644, Data: []byte("cert")},
	},
}

// readTar returns every regular file of a tar by name, and the names in order.
func readTar(t *testing.T, b []byte) (map[string][]byte, []*tar.Header) {
	t.Helper()
	files := map[string][]byte{}
	var hdrs []*tar.Header
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, hdrs
		}
		if err != nil {
			t.Fatalf("reading tar: %v", err)
		}
		hdrs = append(hdrs, h)
		if h.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[h.Name] = data
		}
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestArchiveReadsBack checks what `docker load` relies on: manifest.json
// names a config and a layer that exist, the config's diff_id is the sha256
// of the layer tar, and the config file is named by its own digest.
func TestArchiveReadsBack(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, testImage); err != nil {
		t.Fatal(err)
	}
	files, _ := readTar(t, buf.Bytes())

	var manifests []Manifest
	if err := json.Unmarshal(files["manifest.json"], &manifests); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(manifests) != 1 {
		t.Fatalf("want 1 manifest, got %d", len(manifests))
	}
	m := manifests[0]
	if !reflect.DeepEqual(m.RepoTags, []string{"swarm:1.2.9"}) {
		t.Errorf("RepoTags = %v", m.RepoTags)
	}
	cfgJSON, ok := files[m.Config]
	if !ok {
		t.Fatalf("config %s missing from archive", m.Config)
	}
	if want := sha(cfgJSON) + ".json"; m.Config != want {
		t.Errorf("config named %s, its digest gives %s", m.Config, want)
	}
	var cfg Config
	if err := json.Unmarshal(cfgJSON, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Architecture != "amd64" || cfg.OS != "linux" {
		t.Errorf("platform = %s/%s", cfg.OS, cfg.Architecture)
	}
	if !reflect.DeepEqual(cfg.Config.Entrypoint, []string{"/swarm"}) {
		t.Errorf("Entrypoint = %v", cfg.Config.Entrypoint)
	}
	if _, ok := cfg.Config.ExposedPorts["2375/tcp"]; !ok {
		t.Errorf("ExposedPorts = %v", cfg.Config.ExposedPorts)
	}
	if len(m.Layers) != 1 || len(cfg.RootFS.DiffIDs) != 1 {
		t.Fatalf("layers %v, diff_ids %v", m.Layers, cfg.RootFS.DiffIDs)
	}
	layer, ok := files[m.Layers[0]]
	if !ok {
		t.Fatalf("layer %s missing from archive", m.Layers[0])
	}
	if got, want := cfg.RootFS.DiffIDs[0], "sha256:"+sha(layer); got != want {
		t.Errorf("diff_id %s, layer digest %s", got, want)
	}

	lfiles, lhdrs := readTar(t, layer)
	if got := string(lfiles["swarm"]); got != "#!fake swarm binary\n" {
		t.Errorf("layer swarm = %q", got)
	}
	var names []string
	for _, h := range lhdrs {
		names = append(names, h.Name)
		if !h.ModTime.Equal(Epoch) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("%s: mtime %v uid %d gid %d, want fixed", h.Name, h.ModTime, h.Uid, h.Gid)
		}
		if h.Name == "swarm" && h.Mode != 0o755 {
			t.Errorf("swarm mode %o", h.Mode)
		}
	}
	want := "etc/ etc/ssl/ etc/ssl/certs/ etc/ssl/certs/ca.crt swarm"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("layer entries %q, want %q (parents first, sorted)", got, want)
	}
}

func TestArchiveIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := Write(&a, testImage); err != nil {
		t.Fatal(err)
	}
	img := testImage
	img.Files = []File{testImage.Files[1], testImage.Files[0]} // order must not matter
	if err := Write(&b, img); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("same image gave different archives")
	}
}

func TestArchiveRejectsBadInput(t *testing.T) {
	cases := map[string]Image{
		"no tag":    {Files: testImage.Files},
		"root path": {RepoTags: []string{"x:1"}, Files: []File{{Path: "/", Mode: 0o755}}},
		"duplicate": {RepoTags: []string{"x:1"}, Files: []File{{Path: "/a"}, {Path: "a"}}},
	}
	for name, img := range cases {
		if err := Write(io.Discard, img); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
