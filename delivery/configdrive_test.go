package delivery_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/delivery/encode"
	"github.com/swarmboot/swarmboot/internal/consumers"
	"github.com/swarmboot/swarmboot/internal/testutil"
)

// notFlatcar keeps the cloud-config nodes of testdata/config-drive.yaml.
func notFlatcar(n *cluster.Node) bool { return n.Profile != "flatcar" }

// TestConfigDriveReadByCloudInit: cloud-init's own ConfigDrive reader
// (read_config_drive, convert_net_json) and its net-convert read each
// node's drive as the node would: the user-data rendered for it, its
// instance-id and host name, and its address, gateway and DNS on the NIC
// with its MAC.
func TestConfigDriveReadByCloudInit(t *testing.T) {
	testutil.NeedTool(t, "cloud-init", "cloud-init")
	testutil.NeedTool(t, "isoinfo", "genisoimage")
	c := load(t, "testdata/config-drive.yaml")
	tls := material(t, c)
	drives, err := deliver(c, notFlatcar, delivery.Options{Packaging: delivery.ConfigDrive}, tls)
	if err != nil {
		t.Fatal(err)
	}
	folders, err := deliver(c, notFlatcar, delivery.Options{}, tls)
	if err != nil {
		t.Fatal(err)
	}
	if len(drives.Files) != 3 {
		t.Errorf("files: %v; want a drive for each of the 3 cloud-config nodes", keysOf(drives.Files))
	}
	for _, n := range []struct {
		name, mac, address, gateway string
	}{
		{"node-1", "52:54:00:77:00:01", "10.77.0.11", "10.77.0.1"},
		{"node-3", "52:54:00:77:00:03", "10.77.0.13", "10.77.0.254"}, // its own gateway
	} {
		t.Run(n.name, func(t *testing.T) {
			primary := drives.Primary[n.name]
			if primary != n.name+"/config-drive.iso" {
				t.Errorf("primary file %q", primary)
			}
			dir := t.TempDir()
			if err := consumers.ExtractISO(drives.Files[primary], dir); err != nil {
				t.Fatal(err)
			}
			got, err := consumers.ConfigDrive(dir, map[string]string{n.mac: "eth0"})
			if err != nil {
				t.Fatal(err)
			}
			if want := string(folders.Files[n.name+"/user-data"]); got.UserData != want {
				t.Errorf("user_data is not the node's cloud-config:\n%s", got.UserData)
			}
			if id, _ := got.Metadata["instance-id"].(string); !strings.HasPrefix(id, "stack-"+n.name+"-") || got.Metadata["local-hostname"] != n.name {
				t.Errorf("cloud-init's metadata: instance-id %q, local-hostname %v", id, got.Metadata["local-hostname"])
			}
			want := map[string]any{"version": 1.0, "config": []any{
				map[string]any{"type": "physical", "name": "eth0", "mac_address": n.mac, "subnets": []any{map[string]any{
					"type": "static", "ipv4": true, "address": n.address, "netmask": "255.255.255.0",
					"routes": []any{map[string]any{"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": n.gateway}},
				}}},
				map[string]any{"type": "nameserver", "address": "10.77.0.53"},
				map[string]any{"type": "nameserver", "address": "10.77.0.54"},
			}}
			if diff := cmp.Diff(want, got.Network); diff != "" {
				t.Errorf("cloud-init's network config (-want +got):\n%s", diff)
			}
			data, err := os.ReadFile(filepath.Join(dir, "openstack/latest/network_data.json"))
			if err != nil {
				t.Fatal(err)
			}
			files, err := consumers.NetConvert(data, "network_data.json", "networkd", [2]string{"eth0", n.mac})
			if err != nil {
				t.Fatal(err)
			}
			unit := files["etc/systemd/network/10-cloud-init-eth0.network"]
			for _, line := range []string{"MACAddress=" + n.mac, "Address=" + n.address + "/24", "Destination=0.0.0.0/0", "Gateway=" + n.gateway, "DNS=10.77.0.53 10.77.0.54"} {
				if !strings.Contains(unit, line+"\n") {
					t.Errorf("networkd unit lacks %q:\n%s", line, unit)
				}
			}
		})
	}
}

// TestConfigDriveDHCP: without `network` the drive has no
// network_data.json and cloud-init falls back to DHCP; no MAC is needed.
func TestConfigDriveDHCP(t *testing.T) {
	testutil.NeedTool(t, "cloud-init", "cloud-init")
	testutil.NeedTool(t, "isoinfo", "genisoimage")
	c := loadEdited(t, "testdata/config-drive.yaml", func(s string) string {
		s = strings.Replace(s, "network: {prefix: 24, gateway: 10.77.0.1, dns: [10.77.0.53, 10.77.0.54]}\n", "", 1)
		s = strings.Replace(s, ", gateway: 10.77.0.254", "", 1)
		return strings.Replace(s, `, mac: "52:54:00:77:00:01"`, "", 1)
	})
	res, err := build(t, c, notFlatcar, delivery.Options{Packaging: delivery.ConfigDrive})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := consumers.ExtractISO(res.Files["node-1/config-drive.iso"], dir); err != nil {
		t.Fatal(err)
	}
	got, err := consumers.ConfigDrive(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Network != nil || got.Metadata["local-hostname"] != "node-1" {
		t.Errorf("cloud-init read network %v, metadata %v; want no network config", got.Network, got.Metadata)
	}
}

// TestConfigDriveRefuses: what a config drive cannot carry is refused by
// the plan, before any certificate is issued, every node named.
func TestConfigDriveRefuses(t *testing.T) {
	c := load(t, "testdata/config-drive.yaml")
	o := delivery.Options{Packaging: delivery.ConfigDrive}
	_, err := o.Plan(c, nil)
	var oe *delivery.OptionError
	if !errors.As(err, &oe) || !strings.Contains(err.Error(), "format config-drive does not apply to node-4 (flatcar:") {
		t.Errorf("a Flatcar node: %v", err)
	}
	noMAC := loadEdited(t, "testdata/config-drive.yaml", func(s string) string {
		s = strings.Replace(s, `, mac: "52:54:00:77:00:01"`, "", 1)
		return strings.Replace(s, `, mac: "52:54:00:77:00:03"`, "", 1)
	})
	if _, err := o.Plan(noMAC, notFlatcar); err == nil || !strings.Contains(err.Error(), "add `mac:` to node-1, node-3 in testdata/config-drive.yaml") {
		t.Errorf("nodes without a MAC: %v", err)
	}
	for _, enc := range []encode.Encoding{encode.Base64, encode.GzipBase64} {
		if err := (delivery.Options{Packaging: delivery.ConfigDrive, Encoding: enc}).Validate(); err == nil || !strings.Contains(err.Error(), "does not base64-decode") {
			t.Errorf("--encode %s: %v", enc, err)
		}
	}
}

// loadEdited loads a description after edit changes its text.
func loadEdited(t *testing.T, file string, edit func(string) string) *cluster.Cluster {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	edited := edit(string(data))
	if edited == string(data) {
		t.Fatal("the edit changed nothing")
	}
	c, rep := cluster.Load(file, []byte(edited))
	if err := rep.Err(false); err != nil {
		t.Fatalf("invalid description:\n%v", err)
	}
	return c
}

// TestConfigDriveInstanceID: the drive is the same bytes for the same
// description, and a node's instance-id changes exactly when its own
// config does (here node-3's gateway), so cloud-init re-applies it there
// and nowhere else.
func TestConfigDriveInstanceID(t *testing.T) {
	testutil.NeedTool(t, "isoinfo", "genisoimage")
	c := load(t, "testdata/config-drive.yaml")
	tls := material(t, c)
	o := delivery.Options{Packaging: delivery.ConfigDrive}
	first, err := deliver(c, notFlatcar, o, tls)
	if err != nil {
		t.Fatal(err)
	}
	again, err := deliver(c, notFlatcar, o, tls)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first.Files, again.Files); diff != "" {
		t.Errorf("the same description made other bytes:\n%s", diff)
	}
	moved := loadEdited(t, "testdata/config-drive.yaml", func(s string) string {
		return strings.Replace(s, "gateway: 10.77.0.254", "gateway: 10.77.0.253", 1)
	})
	after, err := deliver(moved, notFlatcar, o, tls)
	if err != nil {
		t.Fatal(err)
	}
	uuid := func(res *delivery.Result, node string) string {
		dir := t.TempDir()
		if err := consumers.ExtractISO(res.Files[node+"/config-drive.iso"], dir); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, "openstack/latest/meta_data.json"))
		if err != nil {
			t.Fatal(err)
		}
		var md struct{ UUID string }
		if err := json.Unmarshal(data, &md); err != nil {
			t.Fatal(err)
		}
		return md.UUID
	}
	for node, changed := range map[string]bool{"node-1": false, "node-2": false, "node-3": true} {
		if a, b := uuid(first, node), uuid(after, node); (a != b) != changed {
			t.Errorf("%s: instance-id %s, then %s; want changed=%v", node, a, b, changed)
		}
	}
}
