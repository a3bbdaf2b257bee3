package nocloud

import (
	"fmt"
	"net"
	"net/netip"

	"gopkg.in/yaml.v3"
)

// Static describes one statically addressed interface.
type Static struct {
	// Interface is the name the config applies to; "eth0" if empty (the
	// name with net.ifnames=0, as in the QEMU boot test).
	Interface string
	// MAC, if set, matches the NIC by address instead of by name and
	// renames it to Interface, so the config holds whatever the kernel
	// called the NIC.
	MAC     string
	Address string   // CIDR, e.g. 192.168.101.101/24
	Gateway string   // optional
	DNS     []string // optional nameserver addresses
}

// NetworkConfig returns a cloud-init network config version 2 document
// for s. The gateway is written as gateway4/gateway6, which every
// cloud-init that reads v2 understands (cloud-init 22.4 in Debian bookworm
// included; netplan warns that it is deprecated but applies it).
func NetworkConfig(s Static) ([]byte, error) {
	name := s.Interface
	if name == "" {
		name = "eth0"
	}
	addr, err := netip.ParsePrefix(s.Address)
	if err != nil {
		return nil, fmt.Errorf("network-config: address %q: want CIDR like 192.168.101.101/24", s.Address)
	}
	type match struct {
		MAC string `yaml:"macaddress"`
	}
	type nameservers struct {
		Addresses []string `yaml:"addresses"`
	}
	type ethernet struct {
		Match       *match       `yaml:"match,omitempty"`
		SetName     string       `yaml:"set-name,omitempty"`
		DHCP4       bool         `yaml:"dhcp4"`
		Addresses   []string     `yaml:"addresses"`
		Gateway4    string       `yaml:"gateway4,omitempty"`
		Gateway6    string       `yaml:"gateway6,omitempty"`
		Nameservers *nameservers `yaml:"nameservers,omitempty"`
	}
	eth := ethernet{Addresses: []string{addr.String()}}
	if s.MAC != "" {
		hw, err := net.ParseMAC(s.MAC)
		if err != nil {
			return nil, fmt.Errorf("network-config: MAC %q: %v", s.MAC, err)
		}
		eth.Match, eth.SetName = &match{hw.String()}, name
	}
	if s.Gateway != "" {
		gw, err := netip.ParseAddr(s.Gateway)
		if err != nil {
			return nil, fmt.Errorf("network-config: gateway %q is not an IP address", s.Gateway)
		}
		if gw.Is4() != addr.Addr().Is4() {
			return nil, fmt.Errorf("network-config: gateway %s and address %s are of different IP versions", gw, addr)
		}
		if gw.Is4() {
			eth.Gateway4 = gw.String()
		} else {
			eth.Gateway6 = gw.String()
		}
	}
	if len(s.DNS) > 0 {
		ns := &nameservers{}
		for _, d := range s.DNS {
			a, err := netip.ParseAddr(d)
			if err != nil {
				return nil, fmt.Errorf("network-config: DNS server %q is not an IP address", d)
			}
			ns.Addresses = append(ns.Addresses, a.String())
		}
		eth.Nameservers = ns
	}
	doc := struct {
		Version   int                 `yaml:"version"`
		Ethernets map[string]ethernet `yaml:"ethernets"`
	}{2, map[string]ethernet{name: eth}}
	return yaml.Marshal(doc)
}
