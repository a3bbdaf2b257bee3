// Package seediso writes the ISO 9660 images cloud-init and its kin read
// their configuration from, in pure Go (github.com/kdomanski/iso9660):
// Image makes a NoCloud seed (label "cidata": user-data, meta-data and,
// optionally, network-config); Volume makes any labelled volume, which
// the OpenStack config drive (delivery/configdrive) is built on.
//
// Images are deterministic: the library stamps the volume descriptor with
// the current time, so Volume overwrites those dates with "not specified"
// (ECMA-119 8.4.26.1: all digits zero). File records carry the library's
// zero date, which Linux shows as 2049-01-01; nothing reads it.
//
// The image has no Rock Ridge or Joliet names: files are recorded as
// "user-data;1" etc. and Linux (isofs, map=normal) shows them as user-data,
// which is what cloud-init's NoCloud datasource opens. Names are lower
// case, and a name's dots but the last become '_' (meta.data.json would be
// meta_data.json), so callers give names Linux shows unchanged.
package seediso

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/kdomanski/iso9660"
	"gopkg.in/yaml.v3"
)

// VolumeLabel is the label cloud-init's NoCloud datasource looks for.
const VolumeLabel = "cidata"

// File names cloud-init reads from the seed.
const (
	UserDataFile      = "user-data"
	MetaDataFile      = "meta-data"
	NetworkConfigFile = "network-config"
)

// Seed is the content of one node's seed image.
type Seed struct {
	UserData      []byte // required
	MetaData      []byte // required; must hold instance-id (render/nocloud.MetaData)
	NetworkConfig []byte // optional; network config v1 or v2
}

// Offsets of the primary volume descriptor (sector 16) and of its
// creation, modification, expiration and effective dates (ECMA-119 8.4).
const (
	pvdOffset   = 16 * 2048
	datesOffset = pvdOffset + 813
	datesEnd    = pvdOffset + 881
)

// Image returns the seed image as bytes.
func Image(s Seed) ([]byte, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	var files []File
	for _, f := range []File{{UserDataFile, s.UserData}, {MetaDataFile, s.MetaData}, {NetworkConfigFile, s.NetworkConfig}} {
		if f.Data != nil {
			files = append(files, f)
		}
	}
	img, err := Volume(VolumeLabel, files)
	if err != nil {
		return nil, fmt.Errorf("seed image: %w", err)
	}
	return img, nil
}

// File is one file of a volume: a slash-separated path under its root
// (folders are made as needed) and its bytes.
type File struct {
	Path string
	Data []byte
}

// Volume returns an ISO 9660 image labelled label holding files, the same
// bytes for the same input.
func Volume(label string, files []File) ([]byte, error) {
	iw, err := iso9660.NewWriter()
	if err != nil {
		return nil, err
	}
	defer iw.Cleanup()
	for _, f := range files {
		if err := iw.AddFile(bytes.NewReader(f.Data), f.Path); err != nil {
			return nil, fmt.Errorf("adding %s: %w", f.Path, err)
		}
	}
	var buf bytes.Buffer
	if err := iw.WriteTo(&buf, label); err != nil {
		return nil, err
	}
	img := buf.Bytes()
	if err := clearDates(img); err != nil {
		return nil, err
	}
	return img, nil
}

// clearDates replaces the volume dates the library set from the clock.
func clearDates(img []byte) error {
	if len(img) < datesEnd || img[pvdOffset] != 1 || string(img[pvdOffset+1:pvdOffset+6]) != "CD001" {
		return errors.New("no primary volume descriptor where ECMA-119 puts it")
	}
	unspecified := append(bytes.Repeat([]byte{'0'}, 16), 0)
	for off := datesOffset; off < datesEnd; off += len(unspecified) {
		copy(img[off:], unspecified)
	}
	return nil
}

func (s Seed) validate() error {
	if len(s.UserData) == 0 {
		return errors.New("seed image: user-data is empty")
	}
	var md map[string]any
	if err := yaml.Unmarshal(s.MetaData, &md); err != nil {
		return fmt.Errorf("seed image: meta-data is not YAML: %w", err)
	}
	if id, _ := md["instance-id"].(string); id == "" {
		return errors.New("seed image: meta-data has no instance-id (cloud-init keys its run-once state on it)")
	}
	return nil
}

// Read reads an image back with the library's reader: its label, and its
// files by slash-separated path with the names Linux shows (no ";1").
func Read(img []byte) (label string, files map[string][]byte, err error) {
	im, err := iso9660.OpenImage(bytes.NewReader(img))
	if err != nil {
		return "", nil, err
	}
	if label, err = im.Label(); err != nil {
		return "", nil, err
	}
	root, err := im.RootDir()
	if err != nil {
		return "", nil, err
	}
	files = map[string][]byte{}
	var walk func(dir *iso9660.File, prefix string) error
	walk = func(dir *iso9660.File, prefix string) error {
		children, err := dir.GetChildren()
		if err != nil {
			return err
		}
		for _, c := range children {
			if c.IsDir() {
				if err := walk(c, prefix+c.Name()+"/"); err != nil {
					return err
				}
				continue
			}
			if files[prefix+c.Name()], err = io.ReadAll(c.Reader()); err != nil {
				return err
			}
		}
		return nil
	}
	return label, files, walk(root, "")
}
