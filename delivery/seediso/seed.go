// Package seediso writes cloud-init NoCloud seed images: an ISO 9660
// volume labelled "cidata" holding user-data, meta-data and, optionally,
// network-config, built in pure Go (github.com/kdomanski/iso9660).
//
// Images are deterministic: the library stamps the volume descriptor with
// the current time, so Image overwrites those three dates with "not
// specified" (ECMA-119 8.4.26.1: all digits zero). File records carry the
// library's zero date, which Linux shows as 2049-01-01; nothing reads it.
//
// The image has no Rock Ridge or Joliet names: files are recorded as
// "user-data;1" etc. and Linux (isofs, map=normal) shows them as user-data,
// which is what cloud-init's NoCloud datasource opens.
package seediso

import (
	"bytes"
	"errors"
	"fmt"

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
	iw, err := iso9660.NewWriter()
	if err != nil {
		return nil, fmt.Errorf("seed image: %w", err)
	}
	defer iw.Cleanup()
	files := []struct {
		name string
		data []byte
	}{{UserDataFile, s.UserData}, {MetaDataFile, s.MetaData}, {NetworkConfigFile, s.NetworkConfig}}
	for _, f := range files {
		if f.data == nil {
			continue
		}
		if err := iw.AddFile(bytes.NewReader(f.data), f.name); err != nil {
			return nil, fmt.Errorf("seed image: adding %s: %w", f.name, err)
		}
	}
	var buf bytes.Buffer
	if err := iw.WriteTo(&buf, VolumeLabel); err != nil {
		return nil, fmt.Errorf("seed image: %w", err)
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
		return errors.New("seed image: no primary volume descriptor where ECMA-119 puts it")
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
