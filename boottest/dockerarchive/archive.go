// Package dockerarchive writes an image archive that `docker load` accepts,
// without a Docker daemon: one layer holding a few files (typically a static
// binary), an image config and the manifest.json that names them.
//
// It exists because classic Swarm cannot be pulled here: the boot test packs
// the swarm binary it builds into swarm:1.2.9 and bakes the archive into the
// VM image, the same air-gapped path users take with swarm.image_archive.
//
// Output is deterministic: the same Image gives the same bytes (fixed
// mtimes, owners and ordering), so the archive can key a cache.
package dockerarchive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

// Epoch is the fixed time stamped on every tar entry and on the config.
var Epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// File is one regular file or directory of the image's single layer.
type File struct {
	Path string      // absolute path in the image, e.g. "/swarm"
	Mode os.FileMode // permission bits; os.ModeDir marks a directory
	Data []byte      // contents of a regular file
}

// Image describes the image to write.
type Image struct {
	RepoTags     []string // e.g. "swarm:1.2.9"
	Architecture string   // defaults to "amd64"
	OS           string   // defaults to "linux"
	Entrypoint   []string
	Cmd          []string
	Env          []string // "KEY=value"
	ExposedPorts []string // e.g. "2375/tcp"
	Files        []File
}

// Manifest is one entry of manifest.json, the index `docker load` reads.
type Manifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// Config is the subset of the OCI/Docker image config this package writes.
type Config struct {
	Architecture string          `json:"architecture"`
	OS           string          `json:"os"`
	Created      time.Time       `json:"created"`
	Config       ContainerConfig `json:"config"`
	RootFS       RootFS          `json:"rootfs"`
	History      []History       `json:"history,omitempty"`
}

// ContainerConfig holds the run defaults of the image.
type ContainerConfig struct {
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
}

// RootFS lists the layers by the digest of their uncompressed tar.
type RootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

// History records how a layer was made.
type History struct {
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
}

// Write writes the archive for img to w.
func Write(w io.Writer, img Image) error {
	if len(img.RepoTags) == 0 {
		return errors.New("dockerarchive: image needs at least one repo tag")
	}
	layer, err := Layer(img.Files)
	if err != nil {
		return err
	}
	diffID := digest(layer)
	cfg := Config{
		Architecture: or(img.Architecture, "amd64"),
		OS:           or(img.OS, "linux"),
		Created:      Epoch,
		Config: ContainerConfig{
			Entrypoint: img.Entrypoint,
			Cmd:        img.Cmd,
			Env:        img.Env,
		},
		RootFS:  RootFS{Type: "layers", DiffIDs: []string{"sha256:" + diffID}},
		History: []History{{Created: Epoch, CreatedBy: "swarmboot dockerarchive"}},
	}
	if len(img.ExposedPorts) > 0 {
		cfg.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range img.ExposedPorts {
			cfg.Config.ExposedPorts[p] = struct{}{}
		}
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	cfgName := digest(cfgJSON) + ".json"
	layerName := diffID + "/layer.tar"
	manifest, err := json.Marshal([]Manifest{{Config: cfgName, RepoTags: img.RepoTags, Layers: []string{layerName}}})
	if err != nil {
		return err
	}

	tw := tar.NewWriter(w)
	entries := []struct {
		name string
		data []byte
	}{
		{cfgName, cfgJSON},
		{layerName, layer},
		{"manifest.json", manifest},
	}
	if err := writeDir(tw, diffID+"/", 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		if err := writeFile(tw, e.name, 0o644, e.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// Layer returns the layer tar holding files, parents first, sorted by path.
// Missing parent directories are added with mode 0755.
func Layer(files []File) ([]byte, error) {
	byPath := map[string]File{}
	for _, f := range files {
		p := path.Clean("/" + f.Path)
		if p == "/" {
			return nil, fmt.Errorf("dockerarchive: bad path %q", f.Path)
		}
		if _, dup := byPath[p]; dup {
			return nil, fmt.Errorf("dockerarchive: %s given twice", p)
		}
		f.Path = p
		byPath[p] = f
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if _, ok := byPath[d]; !ok {
				byPath[d] = File{Path: d, Mode: os.ModeDir | 0o755}
			}
		}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		f := byPath[p]
		name := strings.TrimPrefix(p, "/")
		var err error
		if f.Mode.IsDir() {
			err = writeDir(tw, name+"/", int64(f.Mode.Perm()))
		} else {
			err = writeFile(tw, name, int64(f.Mode.Perm()), f.Data)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeFile(tw *tar.Writer, name string, mode int64, data []byte) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)),
		ModTime: Epoch, Format: tar.FormatUSTAR}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

func writeDir(tw *tar.Writer, name string, mode int64) error {
	return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode,
		ModTime: Epoch, Format: tar.FormatUSTAR})
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
