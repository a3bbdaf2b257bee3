package nocloud

import (
	"regexp"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestMetaData(t *testing.T) {
	tests := []struct {
		id, host string
		want     string
	}{
		{"demo-etcd-01-0123456789ab", "etcd-01", "instance-id: demo-etcd-01-0123456789ab\nlocal-hostname: etcd-01\n"},
		{"i-1", "", "instance-id: i-1\n"},
		// Strings YAML would misread are quoted, and read back unchanged.
		{"yes", "a: b", "instance-id: \"yes\"\nlocal-hostname: 'a: b'\n"},
	}
	for _, tt := range tests {
		got := MetaData(tt.id, tt.host)
		if string(got) != tt.want {
			t.Errorf("MetaData(%q, %q) = %q, want %q", tt.id, tt.host, got, tt.want)
		}
		var back map[string]string
		if err := yaml.Unmarshal(got, &back); err != nil || back["instance-id"] != tt.id || back["local-hostname"] != tt.host {
			t.Errorf("MetaData(%q, %q) reads back as %v (%v)", tt.id, tt.host, back, err)
		}
	}
}

func TestInstanceID(t *testing.T) {
	base := InstanceID("demo", "etcd-01", []byte("#cloud-config\n"), []byte("version: 2\n"))
	if !regexp.MustCompile(`^demo-etcd-01-[0-9a-f]{12}$`).MatchString(base) {
		t.Fatalf("InstanceID = %q, want demo-etcd-01-<12 hex>", base)
	}
	tests := []struct {
		name          string
		cluster, node string
		ud, nc        string
		same          bool
	}{
		{"same input", "demo", "etcd-01", "#cloud-config\n", "version: 2\n", true},
		{"user-data changed", "demo", "etcd-01", "#cloud-config\nx: 1\n", "version: 2\n", false},
		{"network-config changed", "demo", "etcd-01", "#cloud-config\n", "version: 1\n", false},
		{"bytes moved between parts", "demo", "etcd-01", "#cloud-config\nv", "ersion: 2\n", false},
		{"other node", "demo", "etcd-02", "#cloud-config\n", "version: 2\n", false},
	}
	for _, tt := range tests {
		got := InstanceID(tt.cluster, tt.node, []byte(tt.ud), []byte(tt.nc))
		if (got == base) != tt.same {
			t.Errorf("%s: InstanceID = %q vs base %q; want same=%v", tt.name, got, base, tt.same)
		}
	}
}
