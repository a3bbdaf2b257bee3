package configdrive

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/swarmboot/swarmboot/delivery/seediso"
	"github.com/swarmboot/swarmboot/internal/consumers"
	"github.com/swarmboot/swarmboot/internal/testutil"
)

var userData = []byte("#cloud-config\nhostname: node-1\n")

func sampleDrive(t *testing.T) Drive {
	t.Helper()
	nd, err := NetworkData(Static{MAC: "52:54:00:77:00:01", Address: netip.MustParsePrefix("10.77.0.11/24"),
		Gateway: netip.MustParseAddr("10.77.0.1"), DNS: []netip.Addr{netip.MustParseAddr("10.77.0.53")}})
	if err != nil {
		t.Fatal(err)
	}
	return Drive{UserData: userData, MetaData: MetaData(Meta{UUID: "stack-node-1-0123456789ab", Name: "node-1", Hostname: "node-1"}), NetworkData: nd}
}

// readBack opens img with the library's reader: its label and every file
// by path.
func readBack(t *testing.T, img []byte) (string, map[string][]byte) {
	t.Helper()
	label, files, err := seediso.Read(img)
	if err != nil {
		t.Fatal(err)
	}
	return label, files
}

func TestImageReadBack(t *testing.T) {
	full := sampleDrive(t)
	dhcp := full
	dhcp.NetworkData = nil
	for name, d := range map[string]Drive{"static": full, "dhcp": dhcp} {
		t.Run(name, func(t *testing.T) {
			img, err := Image(d)
			if err != nil {
				t.Fatal(err)
			}
			label, files := readBack(t, img)
			if label != "config-2" {
				t.Errorf("label = %q, want config-2", label)
			}
			want := map[string][]byte{UserDataPath: d.UserData, MetaDataPath: d.MetaData}
			if d.NetworkData != nil {
				want[NetworkDataPath] = d.NetworkData
			}
			if diff := cmp.Diff(want, files); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestImageDeterministic(t *testing.T) {
	a, err := Image(sampleDrive(t))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond) // the library stamps hundredths of a second
	b, err := Image(sampleDrive(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("the same drive made two different images")
	}
}

func TestImageRejects(t *testing.T) {
	for _, tt := range []struct {
		name string
		d    Drive
		want string
	}{
		{"no user_data", Drive{MetaData: MetaData(Meta{UUID: "i"})}, "user_data is empty"},
		{"no uuid", Drive{UserData: userData, MetaData: MetaData(Meta{Name: "n"})}, "needs a uuid"},
		{"meta_data not JSON", Drive{UserData: userData, MetaData: []byte("uuid: i\n")}, "needs a uuid"},
	} {
		if _, err := Image(tt.d); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// isoinfo (genisoimage) and blkid (util-linux, what cloud-init uses to find
// LABEL=config-2) read the image as independent implementations.
func TestImageWithSystemTools(t *testing.T) {
	testutil.NeedTool(t, "isoinfo", "genisoimage")
	testutil.NeedTool(t, "blkid", "util-linux")
	d := sampleDrive(t)
	img, err := Image(d)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := consumers.ExtractISO(img, dir); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string][]byte{UserDataPath: d.UserData, MetaDataPath: d.MetaData, NetworkDataPath: d.NetworkData} {
		if got, err := os.ReadFile(filepath.Join(dir, path)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("isoinfo reads %s as %q (%v), want %q", path, got, err, want)
		}
	}
	tags, err := consumers.Blkid(img)
	if err != nil {
		t.Fatal(err)
	}
	// cloud-init takes a vfat or iso9660 file system labelled config-2.
	if tags["LABEL"] != "config-2" || tags["TYPE"] != "iso9660" {
		t.Errorf("blkid: %v, want LABEL=config-2 TYPE=iso9660", tags)
	}
}

func TestMetaData(t *testing.T) {
	got := MetaData(Meta{UUID: `a"b`, Name: "node-1", Hostname: "<node-1>"})
	var back map[string]string
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"uuid": `a"b`, "name": "node-1", "hostname": "<node-1>"}, back); diff != "" {
		t.Errorf("meta_data.json reads back (-want +got):\n%s", diff)
	}
}

func TestNetworkData(t *testing.T) {
	tests := []struct {
		name string
		in   Static
		want string
	}{
		{"ipv4, gateway, dns", Static{MAC: "52-54-00-77-00-01", Address: netip.MustParsePrefix("10.77.0.11/24"),
			Gateway: netip.MustParseAddr("10.77.0.1"), DNS: []netip.Addr{netip.MustParseAddr("10.77.0.53")}},
			`{"links":[{"id":"nic0","type":"phy","ethernet_mac_address":"52:54:00:77:00:01"}],` +
				`"networks":[{"id":"network0","type":"ipv4","link":"nic0","ip_address":"10.77.0.11","netmask":"255.255.255.0",` +
				`"routes":[{"network":"0.0.0.0","netmask":"0.0.0.0","gateway":"10.77.0.1"}]}],` +
				`"services":[{"type":"dns","address":"10.77.0.53"}]}`},
		{"ipv6, named NIC, no gateway", Static{MAC: "52:54:00:77:00:01", Name: "lan0", Address: netip.MustParsePrefix("fd00:77::11/64")},
			`{"links":[{"id":"nic0","type":"phy","ethernet_mac_address":"52:54:00:77:00:01","name":"lan0"}],` +
				`"networks":[{"id":"network0","type":"ipv6","link":"nic0","ip_address":"fd00:77::11","netmask":"ffff:ffff:ffff:ffff::","routes":[]}],` +
				`"services":[]}`},
	}
	for _, tt := range tests {
		got, err := NetworkData(tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, got); err != nil {
			t.Fatal(err)
		}
		if compact.String() != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, compact.String(), tt.want)
		}
	}
	for _, bad := range []struct {
		in   Static
		want string
	}{
		{Static{Address: netip.MustParsePrefix("10.0.0.5/8")}, "MAC"},
		{Static{MAC: "52:54:00:77:00:01:02:03", Address: netip.MustParsePrefix("10.0.0.5/8")}, "Ethernet address"},
		{Static{MAC: "52:54:00:77:00:01"}, "no address"},
		{Static{MAC: "52:54:00:77:00:01", Address: netip.MustParsePrefix("10.0.0.5/8"), Gateway: netip.MustParseAddr("fd00::1")}, "different IP versions"},
	} {
		if _, err := NetworkData(bad.in); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: error = %v, want %q", bad.in, err, bad.want)
		}
	}
}
