package nocloud

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/swarmboot/swarmboot/internal/consumers"
	"github.com/swarmboot/swarmboot/internal/testutil"
)

func TestNetworkConfig(t *testing.T) {
	tests := []struct {
		name    string
		in      Static
		want    string
		wantErr string
	}{
		{name: "NIC names", in: Static{Names: []string{"en*", "eth*"}, Address: "192.168.101.101/24", Gateway: "192.168.101.1", DNS: []string{"192.168.101.1"}},
			want: `version: 2
ethernets:
    static-en:
        match:
            name: en*
        dhcp4: false
        addresses:
            - 192.168.101.101/24
        routes:
            - to: 0.0.0.0/0
              via: 192.168.101.1
              metric: 100
        nameservers:
            addresses:
                - 192.168.101.1
    static-eth:
        match:
            name: eth*
        dhcp4: false
        addresses:
            - 192.168.101.101/24
        routes:
            - to: 0.0.0.0/0
              via: 192.168.101.1
              metric: 101
        nameservers:
            addresses:
                - 192.168.101.1
`},
		{name: "match by MAC", in: Static{Interface: "lan0", MAC: "52-54-00-AA-BB-01", Address: "10.0.0.5/16"},
			want: `version: 2
ethernets:
    lan0:
        match:
            macaddress: 52:54:00:aa:bb:01
        set-name: lan0
        dhcp4: false
        addresses:
            - 10.0.0.5/16
`},
		{name: "match by MAC, no name", in: Static{MAC: "52:54:00:aa:bb:01", Address: "10.0.0.5/16"},
			want: `version: 2
ethernets:
    static:
        match:
            macaddress: 52:54:00:aa:bb:01
        dhcp4: false
        addresses:
            - 10.0.0.5/16
`},
		{name: "ipv6 on a named NIC", in: Static{Interface: "ens3", Address: "fd00::5/64", Gateway: "fd00::1"},
			want: `version: 2
ethernets:
    ens3:
        dhcp4: false
        addresses:
            - fd00::5/64
        gateway6: fd00::1
`},
		{name: "no prefix", in: Static{Interface: "eth0", Address: "192.168.101.101"}, wantErr: "want CIDR"},
		{name: "bad gateway", in: Static{Interface: "eth0", Address: "10.0.0.5/8", Gateway: "router"}, wantErr: "not an IP address"},
		{name: "mixed families", in: Static{Interface: "eth0", Address: "10.0.0.5/8", Gateway: "fd00::1"}, wantErr: "different IP versions"},
		{name: "bad dns", in: Static{Interface: "eth0", Address: "10.0.0.5/8", DNS: []string{"dns.example"}}, wantErr: "DNS server"},
		{name: "nothing selects the NIC", in: Static{Address: "10.0.0.5/8"}, wantErr: "nothing selects the NIC"},
		{name: "bad mac", in: Static{Address: "10.0.0.5/8", MAC: "52:54"}, wantErr: "MAC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NetworkConfig(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// cloud-init itself parses the document and renders systemd-networkd
// units from it, as it does on a booting node: matched by MAC, and by the
// NIC name globs, which its networkd renderer writes to Name= (a glob
// list to networkd).
func TestNetworkConfigWithCloudInit(t *testing.T) {
	testutil.NeedTool(t, "cloud-init", "cloud-init")
	for _, tt := range []struct {
		in   Static
		want map[string][]string // unit -> lines it must hold
	}{
		{Static{MAC: "52:54:00:aa:bb:01", Address: "192.168.101.101/24", Gateway: "192.168.101.1", DNS: []string{"192.168.101.1"}},
			// This host has no NIC with that MAC, so cloud-init names
			// the entry after its key; a node names it after its NIC.
			map[string][]string{"10-cloud-init-static.network": {"Address=192.168.101.101/24", "Gateway=192.168.101.1", "DNS=192.168.101.1", "MACAddress=52:54:00:aa:bb:01"}}},
	} {
		nc, err := NetworkConfig(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		units, err := consumers.NetworkConfig(nc)
		if err != nil {
			t.Fatal(err)
		}
		if len(units) != len(tt.want) {
			t.Errorf("cloud-init made %d units, want %d: %v", len(units), len(tt.want), units)
		}
		for name, lines := range tt.want {
			for _, want := range lines {
				if !strings.Contains(units[name], want+"\n") {
					t.Errorf("%s lacks %q:\n%v", name, want, units)
				}
			}
		}
	}
}

// Every renderer cloud-init has for Debian and Ubuntu nodes reads the
// gateway as the default route, IPv4 and IPv6 alike.
func TestNetworkConfigEveryRenderer(t *testing.T) {
	testutil.NeedTool(t, "cloud-init", "cloud-init")
	for _, tt := range []struct {
		in   Static
		want map[string][]string // renderer -> what its files must say
	}{
		{Static{MAC: "52:54:00:aa:bb:01", Address: "192.168.101.101/24", Gateway: "192.168.101.1"}, map[string][]string{
			"networkd": {"Destination=0.0.0.0/0\n", "Gateway=192.168.101.1\n"},
			"netplan":  {"to: 0.0.0.0/0\n", "via: 192.168.101.1\n"},
			"eni":      {"route add default gw 192.168.101.1"},
		}},
		// cloud-init 22.4 makes a `to: ::/0` route ::/64 (fixed in 23.1):
		// gateway6 is the form it reads right.
		{Static{Interface: "ens3", Address: "fd00::5/64", Gateway: "fd00::1"}, map[string][]string{
			"networkd": {"Gateway=fd00::1\n"},
			"netplan":  {"gateway6: fd00::1\n"},
			"eni":      {"gateway fd00::1\n"},
		}},
	} {
		nc, err := NetworkConfig(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range consumers.Renderers {
			files, err := consumers.NetConvert(nc, "yaml", r)
			if err != nil {
				t.Errorf("%s: %v", r, err)
				continue
			}
			all := strings.Join(slices.Collect(maps.Values(files)), "\n")
			for _, want := range tt.want[r] {
				if !strings.Contains(all, want) {
					t.Errorf("%s for %s lacks %q:\n%s", r, tt.in.Address, want, all)
				}
			}
			if strings.Contains(all, "::/64") {
				t.Errorf("%s for %s routes ::/64, not the default:\n%s", r, tt.in.Address, all)
			}
		}
	}
}

// netplan itself (Ubuntu's and Debian's cloud images apply the document
// through it, unchanged) reads the IPv4 forms without a word: no
// "gateway4 has been deprecated". The one word left is gateway6's.
func TestNetworkConfigWithNetplan(t *testing.T) {
	testutil.NeedTool(t, "netplan", "netplan.io")
	for _, s := range []Static{
		{MAC: "52:54:00:aa:bb:01", Address: "192.168.101.101/24", Gateway: "192.168.101.1", DNS: []string{"192.168.101.1"}},
		{Interface: "lan0", MAC: "52:54:00:aa:bb:01", Address: "10.0.0.5/16", Gateway: "10.0.0.1"},
		{Interface: "ens3", Address: "10.0.0.5/16", Gateway: "10.0.0.1"},
		{Names: []string{"en*", "eth*"}, Address: "10.0.0.5/16", Gateway: "10.0.0.1"},
	} {
		nc, err := NetworkConfig(s)
		if err != nil {
			t.Fatal(err)
		}
		units, err := consumers.Netplan(nc)
		if err != nil {
			t.Errorf("%+v: %v\n%s", s, err, nc)
			continue
		}
		all := strings.Join(slices.Collect(maps.Values(units)), "\n")
		for _, want := range []string{"Address=" + s.Address + "\n", "Destination=0.0.0.0/0\nGateway=" + s.Gateway + "\n"} {
			if !strings.Contains(all, want) {
				t.Errorf("%+v: netplan's networkd files lack %q:\n%s", s, want, all)
			}
		}
	}
	// NIC name globs: each a definition that selects by match.name, under
	// a key netplan takes (it refuses a glob as a key), also when two
	// globs share their letters.
	nc, err := NetworkConfig(Static{Names: []string{"en*", "eth*", "en?", "*"}, Address: "10.0.0.5/16"})
	if err != nil {
		t.Fatal(err)
	}
	units, err := consumers.Netplan(nc)
	if err != nil {
		t.Fatalf("NIC name globs: %v\n%s", err, nc)
	}
	var names []string
	for _, u := range units {
		if i := strings.Index(u, "[Match]\nName="); i >= 0 {
			names = append(names, strings.SplitN(u[i+len("[Match]\nName="):], "\n", 2)[0])
		}
	}
	if slices.Sort(names); !slices.Equal(names, []string{"*", "en*", "en?", "eth*"}) {
		t.Errorf("netplan's units match %v, want one per glob:\n%v", names, units)
	}
	nc, err = NetworkConfig(Static{Interface: "ens3", Address: "fd00::5/64", Gateway: "fd00::1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := consumers.Netplan(nc); err == nil || !strings.Contains(err.Error(), "`gateway6` has been deprecated") {
		t.Errorf("netplan on gateway6: %v; the known warning changed", err)
	}
}
