package matchbox

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/swarmboot/swarmboot/profiles"
)

// pxe is the profile's network boot (profiles.PXE) of an OS matchbox
// boots, the Ignition variant that names it: flatcar or fcos.
func pxe(os string) (*profiles.PXE, bool) {
	p, ok := profiles.Lookup(os)
	if !ok || p.PXE == nil {
		return nil, false
	}
	return p.PXE, true
}

// example is the release messages give as an example for an OS.
func example(os string) string {
	if x, ok := pxe(os); ok {
		return x.Example
	}
	return ""
}

// ExampleFlatcarVersion is the Flatcar stable release the flatcar profile
// lists (swarmboot profiles), so the example in a message works today.
func ExampleFlatcarVersion() string { return example("flatcar") }

// ExampleFCOSVersion is the FCOS release messages give as an example (the
// fcos profile names streams, not releases).
func ExampleFCOSVersion() string { return example("fcos") }

// ignitionQuery is how matchbox's examples point a machine at its config:
// iPXE fills ${uuid} and ${mac:hexhyp} (MAC with hyphens), and matchbox
// matches the group's mac selector against it.
const ignitionQuery = "/ignition?uuid=${uuid}&mac=${mac:hexhyp}"

var versionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// release is the channel (stream) and version the options give an OS:
// its own flags on the command line.
func (o Options) release(os string) (channel, version, flag string) {
	switch os {
	case "flatcar":
		return o.FlatcarChannel, o.FlatcarVersion, "--flatcar-version"
	case "fcos":
		return o.FCOSStream, o.FCOSVersion, "--fcos-version"
	}
	return "", "", ""
}

// Missing names each flag a render for machines of these OSes lacks,
// with an example value: --matchbox-url, and an OS version per OS.
func (o Options) Missing(oses []string) []string {
	var out []string
	if o.URL == "" {
		out = append(out, "--matchbox-url, its HTTP endpoint as machines reach it (e.g. http://matchbox.lan:8080)")
	}
	for _, os := range []string{"flatcar", "fcos"} {
		channel, version, flag := o.release(os)
		x, ok := pxe(os)
		if !ok || version != "" || !slices.Contains(oses, os) {
			continue
		}
		hint := x.Example
		if os == "flatcar" {
			hint += ", " + cmp.Or(channel, x.Channels[0])
		}
		out = append(out, flag+", the release to boot (e.g. "+hint+")")
	}
	return out
}

// netBoot is a machine's kernel, initramfs and arguments, from its
// profile's PXE settings with the release and URLs filled in.
func netBoot(m Machine, base string, o Options) (NetBoot, error) {
	x, ok := pxe(m.OS)
	if !ok {
		return NetBoot{}, fmt.Errorf("matchbox: machine %q: OS %q: want flatcar or fcos", m.Name, m.OS)
	}
	channel, version, _ := o.release(m.OS)
	channel = cmp.Or(channel, x.Channels[0])
	if !slices.Contains(x.Channels, channel) {
		last := len(x.Channels) - 1
		return NetBoot{}, fmt.Errorf("matchbox: machine %q: %s %s %q: want %s or %s", m.Name, x.Name, x.Channel, channel,
			strings.Join(x.Channels[:last], ", "), x.Channels[last])
	}
	if !versionRE.MatchString(version) {
		return NetBoot{}, fmt.Errorf("matchbox: machine %q: %s version %q: set one, e.g. %s", m.Name, x.Name, version, x.Example)
	}
	fill := strings.NewReplacer("{version}", version, "{channel}", channel).Replace
	assets, assetsURL := fill(x.LocalAssets), base+fill(x.LocalAssets)
	if o.RemoteAssets {
		assets = fill(x.RemoteAssets)
		assetsURL = assets
	}
	fill = strings.NewReplacer("{version}", version, "{channel}", channel, "{assets}", assets,
		"{assets_url}", assetsURL, "{ignition}", base+ignitionQuery).Replace
	b := NetBoot{Kernel: fill(x.Kernel)}
	for _, s := range x.Initrd {
		b.Initrd = append(b.Initrd, fill(s))
	}
	for _, s := range x.Args {
		b.Args = append(b.Args, fill(s))
	}
	b.Args = append(b.Args, o.ExtraArgs...)
	return b, nil
}
