package consumers

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmboot/swarmboot/internal/testutil"
)

// Every check must be able to fail: each validator rejects a known-bad
// input (and accepts its good twin, so the rejection is about the fault).
func TestValidatorsRejectKnownBad(t *testing.T) {
	cases := []struct {
		name      string
		good, bad func() error
		want      string
	}{
		{"ignition: unknown spec",
			func() error { return Ignition([]byte(`{"ignition":{"version":"3.3.0"}}`)) },
			func() error { return Ignition([]byte(`{"ignition":{"version":"9.9.9"}}`)) }, "unsupported config version"},
		{"ignition: relative path",
			func() error {
				return Ignition([]byte(`{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"/etc/x"}]}}`))
			},
			func() error {
				return Ignition([]byte(`{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"etc/x"}]}}`))
			}, "absolute"},
		{"butane strict: unknown key",
			func() error { _, err := Butane([]byte("variant: flatcar\nversion: 1.0.0\n")); return err },
			func() error {
				_, err := Butane([]byte("variant: flatcar\nversion: 1.0.0\nsystemd:\n  unitz: []\n"))
				return err
			}, "unitz"},
		{"coreos-cloudinit: wrong type",
			func() error { return CoreOSCloudConfig([]byte("#cloud-config\nhostname: a\n")) },
			func() error { return CoreOSCloudConfig([]byte("#cloud-config\nhostname: [a, b]\n")) }, "hostname"},
		{"unit: section of another kind",
			func() error { return SystemdUnit("a.service", "[Service]\nExecStart=/bin/true\n") },
			func() error { return SystemdUnit("a.service", "[Socket]\nListenStream=1\n") }, "does not belong"},
		{"systemd-analyze: misspelled key",
			func() error {
				return SystemdVerify(set("a.service", "[Service]\nExecStart=/bin/true\nRestart=always\n"))
			},
			func() error {
				return SystemdVerify(set("a.service", "[Service]\nExecStart=/bin/true\nRestrat=always\n"))
			}, "Unknown key 'Restrat'"},
		{"systemd-analyze: timers too",
			func() error {
				return SystemdVerify(timer("[Timer]\nOnBootSec=60s\nRandomizedDelaySec=60s\n[Install]\nWantedBy=timers.target\n"))
			},
			func() error {
				return SystemdVerify(timer("[Timer]\nOnBootSek=60s\n[Install]\nWantedBy=timers.target\n"))
			}, "Unknown key 'OnBootSek'"},
		{"systemd-analyze: two ExecStart= in a drop-in",
			func() error {
				return SystemdVerify(dropin("docker.service", "20.conf", "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd -H tcp://1.2.3.4:2375\n"))
			},
			func() error {
				return SystemdVerify(dropin("docker.service", "20.conf", "[Service]\nExecStart=/usr/bin/dockerd -H tcp://1.2.3.4:2375\n"))
			}, "more than one ExecStart"},
		{"systemd-analyze: unresolved specifier",
			func() error {
				return SystemdVerify(set("a.service", "[Service]\nExecStart=/bin/true\nEnvironment=\"T=a%%2B\"\n"))
			},
			func() error {
				return SystemdVerify(set("a.service", "[Service]\nExecStart=/bin/true\nEnvironment=\"T=a%2B\"\n"))
			}, "Failed to resolve specifiers"},
		{"cloud-init net-convert: not an address",
			func() error {
				_, err := NetworkConfig([]byte("version: 2\nethernets:\n  eth0:\n    addresses: [10.0.0.1/24]\n"))
				return err
			},
			func() error {
				_, err := NetworkConfig([]byte("version: 2\nethernets:\n  eth0:\n    addresses: [not-an-address]\n"))
				return err
			}, "not a valid ip"},
		{"netplan: a deprecated key",
			func() error {
				_, err := Netplan([]byte("version: 2\nethernets:\n  eth0:\n    addresses: [10.0.0.5/24]\n    routes: [{to: 0.0.0.0/0, via: 10.0.0.1}]\n"))
				return err
			},
			func() error {
				_, err := Netplan([]byte("version: 2\nethernets:\n  eth0:\n    addresses: [10.0.0.5/24]\n    gateway4: 10.0.0.1\n"))
				return err
			}, "`gateway4` has been deprecated"},
		{"netplan: a glob for an ID",
			func() error {
				_, err := Netplan([]byte("version: 2\nethernets:\n  en:\n    match: {name: en*}\n    addresses: [10.0.0.5/24]\n"))
				return err
			},
			func() error {
				_, err := Netplan([]byte("version: 2\nethernets:\n  en*:\n    match: {name: en*}\n    addresses: [10.0.0.5/24]\n"))
				return err
			}, "must not use globbing"},
		{"cloud-init config drive reader: no uuid",
			func() error { return readDrive(t, `{"uuid": "i-1"}`) },
			func() error { return readDrive(t, `{"name": "i-1"}`) }, "No 'uuid' entry in metadata"},
		{"cloud-init schema: wrong type",
			func() error { return CloudInitSchema([]byte("#cloud-config\nruncmd: [[echo, a]]\n")) },
			func() error { return CloudInitSchema([]byte("#cloud-config\nruncmd: 5\n")) }, "runcmd"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.good(); errors.Is(err, ErrToolMissing) {
				if testutil.InCI() {
					t.Fatal(err)
				}
				t.Skip(err)
			} else if err != nil {
				t.Fatalf("the good input is rejected: %v", err)
			}
			if err := tc.bad(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("the bad input: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func set(name, text string) UnitSet {
	return UnitSet{Units: map[string]string{name: text}}
}

// timer is a timer with the oneshot service it runs.
func timer(text string) UnitSet {
	return UnitSet{Units: map[string]string{"a.timer": text, "a.service": "[Service]\nType=oneshot\nExecStart=/bin/true\n"}}
}

func dropin(unit, name, text string) UnitSet {
	return UnitSet{Dropins: map[string]map[string]string{unit: {name: text}}}
}

// readDrive has cloud-init read a config drive holding meta_data.json.
func readDrive(t *testing.T, metaData string) error {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "openstack/latest"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "openstack/latest/meta_data.json"), []byte(metaData), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ConfigDrive(dir, nil)
	return err
}
