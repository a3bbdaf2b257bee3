package matchbox

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/swarmboot/swarmboot/profiles"
)

// ExampleFCOSVersion is the FCOS release messages give as an example
// (the fcos profile names streams, not releases).
const ExampleFCOSVersion = "42.20250914.3.0"

// ExampleFlatcarVersion is the Flatcar stable release the flatcar profile
// lists (swarmboot profiles), so the example in a message works today.
func ExampleFlatcarVersion() string {
	if p, ok := profiles.Lookup("flatcar"); ok {
		for _, r := range p.Releases {
			if r.Version == "stable" && r.Codename != "" {
				return r.Codename
			}
		}
	}
	return "4081.2.0"
}

// ignitionQuery is how matchbox's examples point a machine at its config:
// iPXE fills ${uuid} and ${mac:hexhyp} (MAC with hyphens), and matchbox
// matches the group's mac selector against it.
const ignitionQuery = "/ignition?uuid=${uuid}&mac=${mac:hexhyp}"

var (
	versionRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	channels  = map[string]bool{"stable": true, "beta": true, "alpha": true, "lts": true}
	streams   = map[string]bool{"stable": true, "testing": true, "next": true}
)

// Missing names each flag a render for machines of these OSes lacks,
// with an example value: --matchbox-url, and an OS version per OS.
func (o Options) Missing(oses []string) []string {
	var out []string
	if o.URL == "" {
		out = append(out, "--matchbox-url, its HTTP endpoint as machines reach it (e.g. http://matchbox.lan:8080)")
	}
	if slices.Contains(oses, "flatcar") && o.FlatcarVersion == "" {
		out = append(out, "--flatcar-version, the release to boot (e.g. "+ExampleFlatcarVersion()+", "+channelOr(o.FlatcarChannel)+")")
	}
	if slices.Contains(oses, "fcos") && o.FCOSVersion == "" {
		out = append(out, "--fcos-version, the release to boot (e.g. "+ExampleFCOSVersion+")")
	}
	return out
}

func channelOr(ch string) string {
	if ch == "" {
		return "stable"
	}
	return ch
}

func netBoot(m Machine, base string, o Options) (NetBoot, error) {
	switch m.OS {
	case "flatcar":
		return flatcar(m, base, o)
	case "fcos":
		return fcos(m, base, o)
	}
	return NetBoot{}, fmt.Errorf("matchbox: machine %q: OS %q: want flatcar or fcos", m.Name, m.OS)
}

// flatcar follows matchbox's examples/profiles/flatcar.json: the PXE
// kernel and image, flatcar.config.url and flatcar.first_boot so Ignition
// runs on this (every) PXE boot. Assets: scripts/get-flatcar layout, or
// https://CHANNEL.release.flatcar-linux.net/amd64-usr/VERSION/.
func flatcar(m Machine, base string, o Options) (NetBoot, error) {
	ch := o.FlatcarChannel
	if ch == "" {
		ch = "stable"
	}
	if !channels[ch] {
		return NetBoot{}, fmt.Errorf("matchbox: machine %q: Flatcar channel %q: want stable, beta, alpha or lts", m.Name, ch)
	}
	if !versionRE.MatchString(o.FlatcarVersion) {
		return NetBoot{}, fmt.Errorf("matchbox: machine %q: Flatcar version %q: set one, e.g. %s", m.Name, o.FlatcarVersion, ExampleFlatcarVersion())
	}
	dir := "/assets/flatcar/" + o.FlatcarVersion
	if o.RemoteAssets {
		dir = "https://" + ch + ".release.flatcar-linux.net/amd64-usr/" + o.FlatcarVersion
	}
	return NetBoot{
		Kernel: dir + "/flatcar_production_pxe.vmlinuz",
		Initrd: []string{dir + "/flatcar_production_pxe_image.cpio.gz"},
		Args: append([]string{
			"initrd=flatcar_production_pxe_image.cpio.gz",
			"flatcar.config.url=" + base + ignitionQuery,
			"flatcar.first_boot=yes",
		}, o.ExtraArgs...),
	}, nil
}

// fcos follows matchbox's examples/profiles/fedora-coreos.json, with the
// artifact names FCOS uses now (live-kernel.x86_64; builds before about
// FCOS 40 used live-kernel-x86_64). The live image runs from RAM.
// Assets: scripts/get-fedora-coreos layout, or the build's directory on
// builds.coreos.fedoraproject.org.
func fcos(m Machine, base string, o Options) (NetBoot, error) {
	st := o.FCOSStream
	if st == "" {
		st = "stable"
	}
	if !streams[st] {
		return NetBoot{}, fmt.Errorf("matchbox: machine %q: FCOS stream %q: want stable, testing or next", m.Name, st)
	}
	v := o.FCOSVersion
	if !versionRE.MatchString(v) {
		return NetBoot{}, fmt.Errorf("matchbox: machine %q: FCOS version %q: set one, e.g. %s", m.Name, v, ExampleFCOSVersion)
	}
	dir, rootfsDir := "/assets/fedora-coreos", base+"/assets/fedora-coreos"
	if o.RemoteAssets {
		dir = "https://builds.coreos.fedoraproject.org/prod/streams/" + st + "/builds/" + v + "/x86_64"
		rootfsDir = dir
	}
	prefix := "/fedora-coreos-" + v + "-live-"
	return NetBoot{
		Kernel: dir + prefix + "kernel.x86_64",
		Initrd: []string{"--name main " + dir + prefix + "initramfs.x86_64.img"},
		Args: append([]string{
			"initrd=main",
			"coreos.live.rootfs_url=" + rootfsDir + prefix + "rootfs.x86_64.img",
			"ignition.firstboot",
			"ignition.platform.id=metal",
			"ignition.config.url=" + base + ignitionQuery,
		}, o.ExtraArgs...),
	}, nil
}
