package delivery_test

import (
	"strings"
	"testing"

	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/delivery/seediso"
	"github.com/swarmboot/swarmboot/internal/consumers"
)

// TestVagrantLibvirtFiles: beside each node's user-data, what libvirt
// hands it: the cloud-config nodes a NoCloud seed with that user-data and
// its meta-data (no network-config: Vagrant addresses the VMs), the
// Flatcar nodes an Ignition config Ignition accepts, named in the
// Vagrantfile with the fw_cfg entry Flatcar reads.
func TestVagrantLibvirtFiles(t *testing.T) {
	c := load(t, "../examples/seed.yaml")
	res, err := build(t, c, nil, delivery.Options{Packaging: delivery.Vagrant})
	if err != nil {
		t.Fatal(err)
	}
	vf := string(res.Files["Vagrantfile"])
	for _, n := range []string{"etcd-01", "etcd-02", "etcd-03"} {
		if res.Primary[n] != n+"/user-data" {
			t.Errorf("%s: primary %q", n, res.Primary[n])
		}
		label, files, err := seediso.Read(res.Files[n+"/seed.iso"])
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if label != "cidata" {
			t.Errorf("%s: seed label %q", n, label)
		}
		if string(files["user-data"]) != string(res.Files[n+"/user-data"]) || !strings.HasPrefix(string(files["meta-data"]), "instance-id: demo-"+n+"-") || len(files) != 2 {
			t.Errorf("%s: seed holds %v", n, keysOf(files))
		}
		if !strings.Contains(vf, "lv.storage :file, device: :cdrom, path: libvirt_path.('"+n+"/seed.iso')") {
			t.Errorf("the Vagrantfile does not attach %s's seed", n)
		}
	}
	for _, n := range []string{"docker-01", "docker-02", "docker-03"} {
		if err := consumers.Ignition(res.Files[n+"/config.ign"]); err != nil {
			t.Errorf("%s/config.ign: %v", n, err)
		}
		if err := consumers.CoreOSCloudConfig(res.Files[n+"/user-data"]); err != nil || res.Primary[n] != n+"/user-data" {
			t.Errorf("%s/user-data (primary %q): %v", n, res.Primary[n], err)
		}
		if !strings.Contains(vf, "lv.qemuargs value: 'name=opt/org.flatcar-linux/config,file=' + libvirt_path.('"+n+"/config.ign', fw_cfg: true)") {
			t.Errorf("the Vagrantfile does not hand %s its Ignition config", n)
		}
		if strings.Contains(string(res.Files[n+"/config.ign"]), "10-swarmboot-static.network") {
			t.Errorf("%s/config.ign addresses the NIC; Vagrant does", n)
		}
	}
	if len(res.Files) != 13 {
		t.Errorf("files: %v", keysOf(res.Files))
	}
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
