// Package configdrive writes OpenStack config drives: an ISO 9660 volume
// labelled config-2 holding openstack/latest/user_data, meta_data.json and,
// with a static address, network_data.json, as Nova writes them and as
// cloud-init's ConfigDrive datasource reads them
// (cloudinit/sources/DataSourceConfigDrive.py, sources/helpers/openstack.py).
//
// cloud-init finds the drive by its label (config-2 or CONFIG-2, on a
// vfat or iso9660 file system), picks the newest version folder under
// openstack/ it knows, else "latest", and requires meta_data.json with a
// "uuid" (its instance-id). network_data.json's links are matched to NICs
// by ethernet_mac_address, so a static address needs the NIC's MAC.
package configdrive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/swarmboot/swarmboot/delivery/seediso"
)

// VolumeLabel is the label cloud-init's ConfigDrive datasource looks for.
const VolumeLabel = "config-2"

// Paths of the files on the drive.
const (
	UserDataPath    = "openstack/latest/user_data"
	MetaDataPath    = "openstack/latest/meta_data.json"
	NetworkDataPath = "openstack/latest/network_data.json"
)

// Drive is the content of one node's config drive.
type Drive struct {
	UserData    []byte // required
	MetaData    []byte // required: MetaData's JSON
	NetworkData []byte // optional: NetworkData's JSON; without it cloud-init falls back to DHCP
}

// Image returns the config drive as bytes, the same for the same drive.
func Image(d Drive) ([]byte, error) {
	if len(d.UserData) == 0 {
		return nil, errors.New("config drive: user_data is empty")
	}
	var md struct {
		UUID string `json:"uuid"`
	}
	if err := json.Unmarshal(d.MetaData, &md); err != nil || md.UUID == "" {
		return nil, errors.New("config drive: meta_data.json needs a uuid (cloud-init's instance-id)")
	}
	files := []seediso.File{{Path: UserDataPath, Data: d.UserData}, {Path: MetaDataPath, Data: d.MetaData}}
	if d.NetworkData != nil {
		files = append(files, seediso.File{Path: NetworkDataPath, Data: d.NetworkData})
	}
	img, err := seediso.Volume(VolumeLabel, files)
	if err != nil {
		return nil, fmt.Errorf("config drive: %w", err)
	}
	return img, nil
}

// Meta is what meta_data.json says about the instance.
type Meta struct {
	// UUID is cloud-init's instance-id: it re-applies the user-data when
	// it changes (render/nocloud.InstanceID makes one that changes with
	// the node's config).
	UUID string `json:"uuid"`
	// Name is the instance's name, Hostname its host name (cloud-init's
	// local-hostname).
	Name     string `json:"name"`
	Hostname string `json:"hostname"`
}

// MetaData returns meta_data.json for m.
func MetaData(m Meta) []byte {
	return marshal(m)
}

// Static is one statically addressed NIC, found by its MAC.
type Static struct {
	MAC string
	// Name, if set, is the name cloud-init gives the NIC (a cloud-init
	// extension of the link; Nova does not write it).
	Name    string
	Address netip.Prefix
	Gateway netip.Addr // invalid: none
	DNS     []netip.Addr
}

// The network_data.json documents (Nova's format, the fields cloud-init's
// convert_net_json reads).
type (
	networkData struct {
		Links    []link    `json:"links"`
		Networks []network `json:"networks"`
		Services []service `json:"services"`
	}
	link struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		MAC  string `json:"ethernet_mac_address"`
		Name string `json:"name,omitempty"`
	}
	network struct {
		ID        string  `json:"id"`
		Type      string  `json:"type"`
		Link      string  `json:"link"`
		IPAddress string  `json:"ip_address"`
		Netmask   string  `json:"netmask"`
		Routes    []route `json:"routes"`
	}
	route struct {
		Network string `json:"network"`
		Netmask string `json:"netmask"`
		Gateway string `json:"gateway"`
	}
	service struct {
		Type    string `json:"type"`
		Address string `json:"address"`
	}
)

// NetworkData returns network_data.json for s: one physical link matched
// by its MAC, one static network on it with the gateway as its default
// route, and the DNS servers as services.
func NetworkData(s Static) ([]byte, error) {
	hw, err := net.ParseMAC(s.MAC)
	if err != nil || len(hw) != 6 {
		return nil, fmt.Errorf("network_data.json: MAC %q: want an Ethernet address like 52:54:00:aa:bb:01", s.MAC)
	}
	if !s.Address.IsValid() {
		return nil, errors.New("network_data.json: no address")
	}
	addr := s.Address.Addr()
	nw := network{ID: "network0", Type: "ipv4", Link: "nic0", IPAddress: addr.String(), Netmask: mask(s.Address.Bits(), addr.BitLen()), Routes: []route{}}
	if addr.Is6() {
		nw.Type = "ipv6"
	}
	if s.Gateway.IsValid() {
		if s.Gateway.Is4() != addr.Is4() {
			return nil, fmt.Errorf("network_data.json: gateway %s and address %s are of different IP versions", s.Gateway, addr)
		}
		// Nova writes the default route as network and netmask all zero.
		zero := netip.IPv4Unspecified()
		if addr.Is6() {
			zero = netip.IPv6Unspecified()
		}
		nw.Routes = append(nw.Routes, route{Network: zero.String(), Netmask: zero.String(), Gateway: s.Gateway.String()})
	}
	doc := networkData{
		Links:    []link{{ID: "nic0", Type: "phy", MAC: hw.String(), Name: s.Name}},
		Networks: []network{nw},
		Services: []service{},
	}
	for _, d := range s.DNS {
		doc.Services = append(doc.Services, service{Type: "dns", Address: d.String()})
	}
	return marshal(doc), nil
}

// mask writes a prefix length as Nova does: a dotted mask for IPv4, the
// mask as an address for IPv6 (ffff:ffff:ffff:ffff::).
func mask(bits, length int) string {
	m, _ := netip.AddrFromSlice(net.CIDRMask(bits, length))
	return m.String()
}

// marshal is JSON as people read it; the documents hold only strings.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // cannot happen for these types
		panic(err)
	}
	return b.Bytes()
}
