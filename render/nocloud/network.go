package nocloud

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"

	"gopkg.in/yaml.v3"
)

// Static describes one statically addressed NIC. One of Interface, MAC
// and Names selects it.
type Static struct {
	// Interface is the NIC's exact name. With MAC as well, it is the name
	// the NIC matched by MAC is given (set-name).
	Interface string
	// MAC matches the NIC by its address, whatever the kernel named it.
	MAC string
	// Names are globs of the names the system gives a NIC (en*, eth*),
	// for when neither Interface nor MAC is known; every NIC so named
	// gets the address. Each glob is an entry of its own, keyed by the
	// glob, with the glob as its match.name: cloud-init's own renderers
	// ignore match.name and take the key as the name (networkd: Name=,
	// which reads it as a glob). netplan, which cloud-init hands the
	// document to unchanged where it renders through netplan (Ubuntu's
	// and Debian 12+'s cloud images), refuses the whole document
	// ("Definition ID 'en*' must not use globbing", every netplan since
	// 0.1). It needs a plain key with the glob in match.name, which
	// cloud-init's own renderers would take as the NIC's name: no one
	// document serves both, so nodes on netplan images need a mac or
	// network.interface.
	Names   []string
	Address string   // CIDR, e.g. 192.168.101.101/24
	Gateway string   // optional
	DNS     []string // optional nameserver addresses
}

// NetworkConfig returns a cloud-init network config version 2 document
// for s.
//
// An IPv4 gateway is a default route, `routes: [{to: 0.0.0.0/0, via: GW}]`:
// netplan (0.103+, Ubuntu 22.04 on) warns that gateway4 is deprecated;
// `to: default` is unknown to cloud-init's own renderers before 25.3
// (22.4, Debian 12's, fails: "Address default is not a valid ip address")
// and to netplan before 0.103.
// An IPv6 gateway stays gateway6, which netplan also calls deprecated but
// applies: cloud-init before 23.1 (Debian 12's 22.4) renders a `to: ::/0`
// route as ::/64 with its own renderers (networkd, eni, NetworkManager),
// leaving the node without a default route; cloud-init passes the
// document to netplan unchanged, so netplan nodes would not mind.
func NetworkConfig(s Static) ([]byte, error) {
	addr, err := netip.ParsePrefix(s.Address)
	if err != nil {
		return nil, fmt.Errorf("network-config: address %q: want CIDR like 192.168.101.101/24", s.Address)
	}
	type match struct {
		MAC  string `yaml:"macaddress,omitempty"`
		Name string `yaml:"name,omitempty"`
	}
	type nameservers struct {
		Addresses []string `yaml:"addresses"`
	}
	type route struct {
		To  string `yaml:"to"`
		Via string `yaml:"via"`
	}
	type ethernet struct {
		Match       *match       `yaml:"match,omitempty"`
		SetName     string       `yaml:"set-name,omitempty"`
		DHCP4       bool         `yaml:"dhcp4"`
		Addresses   []string     `yaml:"addresses"`
		Routes      []route      `yaml:"routes,omitempty"`
		Gateway6    string       `yaml:"gateway6,omitempty"`
		Nameservers *nameservers `yaml:"nameservers,omitempty"`
	}
	eth := ethernet{Addresses: []string{addr.String()}}
	if s.Gateway != "" {
		gw, err := netip.ParseAddr(s.Gateway)
		if err != nil {
			return nil, fmt.Errorf("network-config: gateway %q is not an IP address", s.Gateway)
		}
		if gw.Is4() != addr.Addr().Is4() {
			return nil, fmt.Errorf("network-config: gateway %s and address %s are of different IP versions", gw, addr)
		}
		if gw.Is4() {
			eth.Routes = []route{{To: "0.0.0.0/0", Via: gw.String()}}
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
	ethernets := map[string]ethernet{}
	switch {
	case s.MAC != "":
		hw, err := net.ParseMAC(s.MAC)
		if err != nil {
			return nil, fmt.Errorf("network-config: MAC %q: %v", s.MAC, err)
		}
		// Without set-name, cloud-init names the entry after the NIC
		// it finds by the MAC; the key only identifies it.
		eth.Match, eth.SetName = &match{MAC: hw.String()}, s.Interface
		ethernets[cmp.Or(s.Interface, "static")] = eth
	case s.Interface != "":
		ethernets[s.Interface] = eth
	case len(s.Names) > 0:
		for _, glob := range s.Names {
			e := eth
			e.Match = &match{Name: glob}
			ethernets[glob] = e
		}
	default:
		return nil, fmt.Errorf("network-config: nothing selects the NIC: give its interface name, its MAC or name globs")
	}
	doc := struct {
		Version   int                 `yaml:"version"`
		Ethernets map[string]ethernet `yaml:"ethernets"`
	}{2, ethernets}
	return yaml.Marshal(doc)
}
