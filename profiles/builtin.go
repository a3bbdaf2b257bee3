package profiles

// The built-in target systems. Every fact here about a system (unit names
// and command lines, paths, users, SELinux, NIC names) is read from that
// system's own sources; contracts/<system>.yaml records each with the
// file and commit it was read from, and the contract tests hold every
// rendered config against it.
//
// Releases list what each release ships and how its support is known:
// booted here, or checked against its sources on the contract's date (see
// ../shared/FACTS.md). Docker 29.0-29.2 refuse API versions below 1.44 and
// 29.3+ below 1.40; every engine drop-in lowers the floor for classic
// swarm (see render). etcd 3.6 removed the v2 API swarm needs; images are
// pinned to v3.5, packages cannot be.
func init() {
	register(&Profile{
		Name:        "ubuntu",
		Description: "Ubuntu with cloud-init; etcd-server and docker.io from the archive",
		Formats:     []Format{CloudConfig},
		Defaults:    []Format{CloudConfig},
		// Ubuntu's docker.io carries the docker CLI itself (its
		// docker.io.install), unlike Debian's from 13 on.
		Packages: &Packages{
			Etcd:   []string{"etcd-server", "etcd-client"},
			Docker: []string{"docker.io"},
			Agent:  agentPackages,
		},
		Releases: []Release{
			{Version: "22.04", Codename: "jammy", Docker: "29.1.3 (jammy-updates)", Etcd: "3.3.25", Evidence: FromSources},
			{Version: "24.04", Codename: "noble", Docker: "29.1.3 (noble-updates)", Etcd: "3.4.30", Evidence: FromSources},
		},
		Etcd: debianEtcd,
		// Ubuntu's own docker.service (docker.io-app): /usr/bin/dockerd,
		// no EnvironmentFile and no $DOCKER_OPTS.
		Docker: Docker{Unit: "docker.service", CLI: "/usr/bin/docker",
			ExecStart: "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock"},
		Network:  NetworkCloudInit,
		NICNames: nicNames,
		Shell:    "/bin/sh",
		Vagrant:  &VagrantBox{Name: "ubuntu/jammy64"},
	})
	register(&Profile{
		Name: "debian",
		Description: "Debian with cloud-init; etcd-server and docker.io from the archive. " +
			"Name the release (debian-12, debian-13, debian-14) when packages are installed at boot",
		Formats:  []Format{CloudConfig},
		Defaults: []Format{CloudConfig},
		// From Debian 13 on the docker CLI the swarm units run is its own
		// package, which docker.io only recommends (and images often skip
		// recommends): one list cannot serve every release.
		Packages:    nil,
		WhyReleases: "the docker CLI is its own package, docker-cli, from Debian 13 on",
		Releases: []Release{
			{Version: "12", Codename: "bookworm", Docker: "20.10.24", Etcd: "3.4.23", Evidence: BootTested,
				Packages: debianPackages(), Vagrant: &VagrantBox{Name: "debian/bookworm64"}},
			{Version: "13", Codename: "trixie", Docker: "26.1.5", Etcd: "3.5.16", Evidence: FromSources,
				Packages: debianPackages("docker-cli"), Vagrant: &VagrantBox{Name: "debian/trixie64"}},
			{Version: "14", Codename: "forky (testing)", Docker: "28.5.2", Etcd: "3.5.30", Evidence: BootTested,
				Packages: debianPackages("docker-cli"), Vagrant: &VagrantBox{Name: "debian/testing64"}},
		},
		Etcd: debianEtcd,
		Docker: Docker{Unit: "docker.service", CLI: "/usr/bin/docker",
			ExecStart: "/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock $DOCKER_OPTS"},
		Network:  NetworkCloudInit,
		NICNames: nicNames,
		Shell:    "/bin/sh",
		// Each release names its own box; this one is the family's.
		Vagrant: &VagrantBox{Name: "debian/bookworm64"},
	})
	register(&Profile{
		Name:        "flatcar",
		Description: "Flatcar Container Linux with Ignition (Butane flatcar 1.0.0, spec 3.3.0); etcd-member.service",
		Formats:     []Format{Ignition, Butane, CoreOSCloudConfig},
		Defaults:    []Format{Ignition, Butane},
		Releases: []Release{
			{Version: "stable", Codename: flatcarStable, Docker: "28.0.4", Etcd: "v3.5.17 image (etcd.image)", Evidence: FromSources},
			{Version: "alpha", Codename: "", Docker: "29.1.3", Etcd: "v3.5.17 image (etcd.image)", Evidence: FromSources},
			{Version: "main", Codename: "", Docker: "29.5.2", Etcd: "v3.5.17 image (etcd.image)", Evidence: FromSources},
		},
		Etcd: Etcd{
			Config: EtcdDropin, Unit: "etcd-member.service",
			DataDir: "/var/lib/etcd", EnableV2: true, FromImage: true, ReloadsTLS: true,
			// etcd-wrapper runs the image as the etcd user (uid 232,
			// in /usr/share/baselayout/passwd, which NSS and so Ignition
			// read) with the directory ETCD_SSL_DIR names mounted at
			// /etc/ssl/certs; the unit's own ETCD_SSL_DIR is the host's
			// CA bundle, so the render sets it to Dir.
			TLS: EtcdTLS{Files: EtcdTLSCopy, Dir: "/etc/ssl/etcd", DirVar: "ETCD_SSL_DIR", SeenAs: "/etc/ssl/certs", User: "etcd"},
		},
		Docker:   containerLinuxDocker,
		Network:  NetworkNetworkd,
		NICNames: nicNames,
		// Flatcar's policy is permissive (Gentoo's selinux-base config).
		SELinux:  SELinuxPermissive,
		Ignition: IgnitionTarget{Variant: "flatcar", Version: "1.0.0", Spec: "3.3.0", User: "core"},
		Shell:    "/bin/sh",
		// matchbox's examples/profiles/flatcar.json: the PXE kernel and
		// image, flatcar.config.url, and flatcar.first_boot so Ignition
		// runs on this (every) PXE boot.
		PXE: &PXE{
			Name: "Flatcar Container Linux", Channel: "channel", Channels: []string{"stable", "beta", "alpha", "lts"}, Example: flatcarStable,
			LocalAssets:  "/assets/flatcar/{version}",
			RemoteAssets: "https://{channel}.release.flatcar-linux.net/amd64-usr/{version}",
			Kernel:       "{assets}/flatcar_production_pxe.vmlinuz",
			Initrd:       []string{"{assets}/flatcar_production_pxe_image.cpio.gz"},
			Args:         []string{"initrd=flatcar_production_pxe_image.cpio.gz", "flatcar.config.url={ignition}", "flatcar.first_boot=yes"},
		},
		// Flatcar's box is outside Vagrant's catalogue: its metadata URL.
		Vagrant: &VagrantBox{Name: "flatcar-stable", URL: "https://stable.release.flatcar-linux.net/amd64-usr/current/flatcar_production_vagrant.json"},
	})
	register(&Profile{
		Name:        "fcos",
		Description: "Fedora CoreOS with Ignition (Butane fcos 1.4.0, spec 3.3.0); etcd runs as a podman container",
		Formats:     []Format{Ignition, Butane},
		Defaults:    []Format{Ignition, Butane},
		Releases: []Release{
			{Version: "stable", Docker: "29 (moby-engine)", Etcd: "v3.5.17 image (etcd.image)", Evidence: FromSources},
		},
		Etcd: Etcd{
			Config: EtcdContainerUnit, Unit: "etcd-member.service", EnvFile: "/etc/etcd/etcd.env",
			DataDir: "/var/lib/etcd", EnableV2: true, FromImage: true, ReloadsTLS: true, Runtime: "/usr/bin/podman",
			TLS: EtcdTLS{Files: EtcdTLSMount},
		},
		Docker: Docker{
			Unit:      "docker.service",
			ExecStart: "/usr/bin/dockerd --host=fd:// --exec-opt native.cgroupdriver=systemd $OPTIONS",
			CLI:       "/usr/bin/docker",
		},
		Network:  NetworkManager,
		NICNames: nicNames,
		// Enforcing: the containers' bind mounts are relabelled (z).
		SELinux:  SELinuxEnforcing,
		Ignition: IgnitionTarget{Variant: "fcos", Version: "1.4.0", Spec: "3.3.0", User: "core"},
		// matchbox's examples/profiles/fedora-coreos.json, with the
		// artifact names FCOS uses now (live-kernel.x86_64; builds before
		// about FCOS 40 used live-kernel-x86_64). The live image runs from
		// RAM and fetches its rootfs itself, so that one is a full URL.
		PXE: &PXE{
			Name: "Fedora CoreOS", Channel: "stream", Channels: []string{"stable", "testing", "next"}, Example: "42.20250914.3.0",
			LocalAssets:  "/assets/fedora-coreos",
			RemoteAssets: "https://builds.coreos.fedoraproject.org/prod/streams/{channel}/builds/{version}/x86_64",
			Kernel:       "{assets}/fedora-coreos-{version}-live-kernel.x86_64",
			Initrd:       []string{"--name main {assets}/fedora-coreos-{version}-live-initramfs.x86_64.img"},
			Args: []string{"initrd=main", "coreos.live.rootfs_url={assets_url}/fedora-coreos-{version}-live-rootfs.x86_64.img",
				"ignition.firstboot", "ignition.platform.id=metal", "ignition.config.url={ignition}"},
		},
		Shell: "/bin/sh",
	})
	register(&Profile{
		Name:        "coreos",
		Description: "legacy CoreOS Container Linux (the releases with etcd2, to early 2018) with coreos-cloudinit: coreos.etcd2 and coreos.units",
		Formats:     []Format{CoreOSCloudConfig},
		Defaults:    []Format{CoreOSCloudConfig},
		Releases: []Release{
			// The engines coreos-overlay built while it shipped etcd2
			// (dropped 2018-01-25): 1.12 to 18.01.
			{Version: "legacy", Codename: "(end of life 2020-05-26)", Docker: "1.12-18.01", Etcd: "2.3 (etcd2)", Evidence: FromSources},
		},
		Etcd: Etcd{
			Config: EtcdCoreOSEtcd2, Unit: "etcd2.service",
			DataDir: "/var/lib/etcd2",
			// etcd2 reads its certificate only when it starts:
			// ReloadsTLS is false, the agent restarts it.
			// etcd2.service runs as the etcd user.
			TLS: EtcdTLS{Files: EtcdTLSCopy, Dir: "/etc/ssl/etcd", SeenAs: "/etc/ssl/etcd", User: "etcd"},
		},
		Docker:   containerLinuxDocker,
		Network:  NetworkCoreOSUnit,
		NICNames: nicNames,
		SELinux:  SELinuxPermissive,
		Shell:    "/bin/sh",
		// CoreOS Container Linux reached its end of life in 2020; its box
		// server is gone, so a legacy box must already be added locally.
		Vagrant: &VagrantBox{Name: "coreos-stable"},
	})
}

// flatcarStable is the Flatcar stable release the contract was read at.
const flatcarStable = "4593.2.5"

// nicNames: systemd's predictable names (ens3, enp1s0, eno1) and the
// kernel's (eth0), which a system keeps with net.ifnames=0 (Flatcar's EC2
// images) or where udev has no better name (Xen).
var nicNames = []string{"en*", "eth*"}

// containerLinuxDocker is the docker.service CoreOS shipped from 2017-05-09
// on and Flatcar still ships: socket-activated, dockerd with SELinux
// labelling from $DOCKER_SELINUX.
var containerLinuxDocker = Docker{
	Unit: "docker.service",
	ExecStart: "/usr/bin/dockerd --host=fd:// --containerd=/var/run/docker/libcontainerd/docker-containerd.sock " +
		"$DOCKER_SELINUX $DOCKER_OPTS $DOCKER_CGROUPS $DOCKER_OPT_BIP $DOCKER_OPT_MTU $DOCKER_OPT_IPMASQ",
	CLI:              "/usr/bin/docker",
	SocketActivation: true,
}

// debianEtcd: the archive's etcd-server, whose unit starts as soon as
// the network is up (After=network.target), maybe before cloud-init has
// written anything or loaded swarmboot's drop-ins. Its settings therefore
// live in a file only swarmboot's drop-in names, not in the package's
// /etc/default/etcd: started early, etcd runs the package's defaults on
// loopback, and the restart cloud-init runs brings up the member. A data
// directory per member keeps a member from reusing that default cluster.
var debianEtcd = Etcd{
	Config: EtcdEnvFile, Unit: "etcd.service", EnvFile: "/etc/swarmboot/etcd.env",
	DataDir: "/var/lib/etcd/%s", EnableV2: true, ReloadsTLS: true,
	TLS: EtcdTLS{Files: EtcdTLSCredentials},
}

// agentPackages: the certificate agent's curl and openssl are not
// Essential on Debian and Ubuntu.
var agentPackages = []string{"curl", "openssl"}

// debianPackages lists Debian's packages; extra is what every Docker host
// and manager needs besides docker.io on that release.
func debianPackages(extra ...string) *Packages {
	return &Packages{
		Etcd:   []string{"etcd-server", "etcd-client"},
		Docker: append([]string{"docker.io"}, extra...),
		Agent:  agentPackages,
	}
}
