package nocloud

import (
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
		{name: "seed node", in: Static{Address: "192.168.101.101/24", Gateway: "192.168.101.1", DNS: []string{"192.168.101.1"}},
			want: `version: 2
ethernets:
    eth0:
        dhcp4: false
        addresses:
            - 192.168.101.101/24
        gateway4: 192.168.101.1
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
		{name: "ipv6", in: Static{Address: "fd00::5/64", Gateway: "fd00::1"},
			want: `version: 2
ethernets:
    eth0:
        dhcp4: false
        addresses:
            - fd00::5/64
        gateway6: fd00::1
`},
		{name: "no prefix", in: Static{Address: "192.168.101.101"}, wantErr: "want CIDR"},
		{name: "bad gateway", in: Static{Address: "10.0.0.5/8", Gateway: "router"}, wantErr: "not an IP address"},
		{name: "mixed families", in: Static{Address: "10.0.0.5/8", Gateway: "fd00::1"}, wantErr: "different IP versions"},
		{name: "bad dns", in: Static{Address: "10.0.0.5/8", DNS: []string{"dns.example"}}, wantErr: "DNS server"},
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
// units from it, as it does on a booting node.
func TestNetworkConfigWithCloudInit(t *testing.T) {
	testutil.NeedTool(t, "cloud-init", "cloud-init")
	nc, err := NetworkConfig(Static{MAC: "52:54:00:aa:bb:01", Address: "192.168.101.101/24",
		Gateway: "192.168.101.1", DNS: []string{"192.168.101.1"}})
	if err != nil {
		t.Fatal(err)
	}
	units, err := consumers.NetworkConfig(nc)
	if err != nil {
		t.Fatal(err)
	}
	unit := units["10-cloud-init-eth0.network"]
	for _, want := range []string{"Address=192.168.101.101/24", "Gateway=192.168.101.1", "DNS=192.168.101.1", "MACAddress=52:54:00:aa:bb:01"} {
		if !strings.Contains(unit, want) {
			t.Errorf("networkd unit lacks %q:\n%v", want, units)
		}
	}
}
