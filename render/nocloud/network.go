package nocloud

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

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
	// gets the address. Each glob is an entry of its own with the glob as
	// its match.name and a plain key (static-en), which is what netplan
	// reads: it refuses a whole document whose key is a glob ("Definition
	// ID 'en*' must not use globbing", every netplan since 0.1), and
	// cloud-init hands v2 to it unchanged on the images swarmboot targets
	// (Ubuntu's, and Debian's from 12 on). cloud-init's own renderers
	// (networkd, eni, on an image without netplan) ignore match.name and
	// take the key as the NIC's name, so there a node needs a mac or
	// network.interface: no one document serves both readers.
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
		To     string `yaml:"to"`
		Via    string `yaml:"via"`
		Metric int    `yaml:"metric,omitempty"`
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
		for i, glob := range s.Names {
			e := eth
			e.Match = &match{Name: glob}
			// netplan calls one default route in two definitions a
			// conflict unless their metrics differ; only the NIC that
			// exists installs its own.
			if len(eth.Routes) > 0 && len(s.Names) > 1 {
				e.Routes = []route{{To: eth.Routes[0].To, Via: eth.Routes[0].Via, Metric: 100 + i}}
			}
			key := globKey(glob)
			if _, taken := ethernets[key]; taken || key == "static-" {
				key += strconv.Itoa(i)
			}
			ethernets[key] = e
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

// globKey names the entry of a NIC name glob for netplan, which wants a
// plain ID: the glob's letters and digits (en* -> static-en).
func globKey(glob string) string {
	return "static-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, glob)
}
