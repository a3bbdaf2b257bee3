package seediso

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/swarmboot/swarmboot/gz"
	"github.com/swarmboot/swarmboot/internal/testutil"
)

var (
	userData = []byte("#cloud-config\nhostname: etcd-01\nssh_deletekeys: false\n")
	netCfg   = []byte("version: 2\nethernets:\n  eth0:\n    addresses: [192.168.101.101/24]\n")
)

func sampleSeed() Seed {
	return Seed{
		UserData:      userData,
		MetaData:      []byte("instance-id: demo-etcd-01-0123456789ab\nlocal-hostname: etcd-01\n"),
		NetworkConfig: netCfg,
	}
}

// readBack opens img with the library's reader: its label and files.
func readBack(t *testing.T, img []byte) (string, map[string][]byte) {
	t.Helper()
	label, files, err := Read(img)
	if err != nil {
		t.Fatal(err)
	}
	return label, files
}

func TestImageReadBack(t *testing.T) {
	gz := gz.Compress(bytes.Repeat(userData, 500))
	big := bytes.Repeat([]byte("x"), 3*2048+17) // spans sectors, not aligned
	tests := []struct {
		name string
		seed Seed
	}{
		{"with network-config", sampleSeed()},
		{"without network-config", Seed{UserData: userData, MetaData: []byte("instance-id: i-1\nlocal-hostname: etcd-01\n")}},
		{"gzip user-data", Seed{UserData: gz, MetaData: []byte("instance-id: i-2\nlocal-hostname: h\n")}},
		{"multi-sector user-data", Seed{UserData: big, MetaData: []byte("instance-id: i-3\nlocal-hostname: h\n")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Image(tt.seed)
			if err != nil {
				t.Fatal(err)
			}
			label, files := readBack(t, img)
			if label != "cidata" {
				t.Errorf("label = %q, want cidata", label)
			}
			want := map[string][]byte{"user-data": tt.seed.UserData, "meta-data": tt.seed.MetaData}
			if tt.seed.NetworkConfig != nil {
				want["network-config"] = tt.seed.NetworkConfig
			}
			if diff := cmp.Diff(want, files); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestImageDeterministic(t *testing.T) {
	a, err := Image(sampleSeed())
	if err != nil {
		t.Fatal(err)
	}
	// The library stamps hundredths of a second; let the clock move.
	time.Sleep(30 * time.Millisecond)
	b, err := Image(sampleSeed())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("images differ first at byte %d (sector %d)", i, i/2048)
			}
		}
		t.Fatalf("images differ in length: %d vs %d", len(a), len(b))
	}
	dates := a[datesOffset:datesEnd]
	want := bytes.Repeat(append(bytes.Repeat([]byte{'0'}, 16), 0), 4)
	if !bytes.Equal(dates, want) {
		t.Errorf("volume dates = %q, want four 'not specified' dates", dates)
	}
}

func TestImageRejects(t *testing.T) {
	tests := []struct {
		name string
		seed Seed
		want string
	}{
		{"no user-data", Seed{MetaData: []byte("instance-id: i\nlocal-hostname: h\n")}, "user-data is empty"},
		{"no instance-id", Seed{UserData: userData, MetaData: []byte("local-hostname: h\n")}, "no instance-id"},
		{"meta-data not YAML", Seed{UserData: userData, MetaData: []byte("a: [\n")}, "not YAML"},
	}
	for _, tt := range tests {
		if _, err := Image(tt.seed); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// isoinfo (genisoimage) and blkid (util-linux, what cloud-init uses to find
// LABEL=cidata) read the image as independent implementations.
func TestImageWithSystemTools(t *testing.T) {
	isoinfo := testutil.NeedTool(t, "isoinfo", "genisoimage")
	blkid := testutil.NeedTool(t, "blkid", "util-linux")
	img, err := Image(sampleSeed())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "seed.iso")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) string {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	if d := run(isoinfo, "-d", "-i", path); !strings.Contains(d, "Volume id: cidata\n") {
		t.Errorf("isoinfo -d does not show the label:\n%s", d)
	}
	listing := strings.Fields(run(isoinfo, "-f", "-i", path))
	sort.Strings(listing)
	if want := []string{"/meta-data;1", "/network-config;1", "/user-data;1"}; !cmp.Equal(listing, want) {
		t.Errorf("isoinfo -f = %v, want %v", listing, want)
	}
	if got := run(isoinfo, "-x", "/user-data;1", "-i", path); got != string(userData) {
		t.Errorf("isoinfo -x user-data = %q, want %q", got, userData)
	}
	if got := strings.TrimSpace(run(blkid, "-p", "-o", "value", "-s", "LABEL", path)); got != "cidata" {
		t.Errorf("blkid LABEL = %q, want cidata", got)
	}
}
