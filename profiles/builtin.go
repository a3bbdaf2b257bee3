package profiles

// The built-in target systems. Unit commands and paths are those of the
// systems' own packages; where a release line differs (Ubuntu moved dockerd
// between /usr/bin and /usr/sbin), the bare command name is used and
// systemd (>= 239) looks it up in its fixed search path.
func init() {
	register(debianFamily("ubuntu",
		"Ubuntu with cloud-init; etcd-server and docker.io from the archive",
		"dockerd"))
	register(debianFamily("debian",
		"Debian 12 (bookworm) with cloud-init; etcd-server 3.4 and docker.io 20.10",
		"/usr/sbin/dockerd"))
	register(&Profile{
		Name:        "flatcar",
		Description: "Flatcar Container Linux with Ignition (Butane flatcar 1.0.0, spec 3.3.0); etcd-member.service",
		Formats:     []Format{Ignition, Butane, CoreOSCloudConfig},
		Defaults:    []Format{Ignition, Butane},
		Etcd: Etcd{
			Config: EtcdDropin, Unit: "etcd-member.service",
			DataDir: "/var/lib/etcd", EnableV2: true,
		},
		Docker: Docker{
			Unit: "docker.service",
			ExecStart: "/usr/bin/dockerd --host=fd:// --containerd=/run/docker/libcontainerd/docker-containerd.sock " +
				"$DOCKER_SELINUX $DOCKER_OPTS $DOCKER_CGROUPS $DOCKER_OPT_BIP $DOCKER_OPT_MTU $DOCKER_OPT_IPMASQ",
			CLI:              "/usr/bin/docker",
			SocketActivation: true,
		},
		Network:  NetworkNetworkd,
		Ignition: IgnitionTarget{Variant: "flatcar", Version: "1.0.0", Spec: "3.3.0", User: "core"},
		Shell:    "/bin/sh",
	})
	register(&Profile{
		Name:        "fcos",
		Description: "Fedora CoreOS with Ignition (Butane fcos 1.4.0, spec 3.3.0); etcd runs as a podman container",
		Formats:     []Format{Ignition, Butane},
		Defaults:    []Format{Ignition, Butane},
		Etcd: Etcd{
			Config: EtcdContainerUnit, Unit: "etcd-member.service", EnvFile: "/etc/etcd/etcd.env",
			DataDir: "/var/lib/etcd", EnableV2: true,
			Image: "quay.io/coreos/etcd:v3.5.17", Runtime: "/usr/bin/podman",
		},
		Docker: Docker{
			Unit:      "docker.service",
			ExecStart: "/usr/bin/dockerd --host=fd:// --exec-opt native.cgroupdriver=systemd $OPTIONS",
			CLI:       "/usr/bin/docker",
		},
		Network:  NetworkManager,
		Ignition: IgnitionTarget{Variant: "fcos", Version: "1.4.0", Spec: "3.3.0", User: "core"},
		Shell:    "/bin/sh",
	})
	register(&Profile{
		Name:        "coreos",
		Description: "legacy CoreOS (and old Flatcar) with coreos-cloudinit: coreos.etcd2 and coreos.units",
		Formats:     []Format{CoreOSCloudConfig},
		Defaults:    []Format{CoreOSCloudConfig},
		Etcd: Etcd{
			Config: EtcdCoreOSEtcd2, Unit: "etcd2.service",
			DataDir: "/var/lib/etcd2",
		},
		Docker: Docker{
			Unit:             "docker.service",
			ExecStart:        "/usr/lib/coreos/dockerd --daemon --host=fd:// $DOCKER_OPTS $DOCKER_OPT_BIP $DOCKER_OPT_MTU $DOCKER_OPT_IPMASQ",
			CLI:              "/usr/bin/docker",
			SocketActivation: true,
		},
		Network: NetworkCoreOSUnit,
		Shell:   "/bin/sh",
	})
}

// debianFamily is Ubuntu or Debian: cloud-init, the archive's etcd-server
// (reads /etc/default/etcd) and docker.io; they differ in where dockerd is.
func debianFamily(name, description, dockerd string) *Profile {
	return &Profile{
		Name:        name,
		Description: description,
		Formats:     []Format{CloudConfig},
		Defaults:    []Format{CloudConfig},
		Packages: map[string][]string{
			"etcd":    {"etcd-server", "etcd-client"},
			"docker":  {"docker.io"},
			"manager": {"docker.io"},
		},
		Etcd: Etcd{
			Config: EtcdEnvFile, Unit: "etcd.service", EnvFile: "/etc/default/etcd",
			DataDir: "/var/lib/etcd/%s", EnableV2: true,
		},
		Docker: Docker{
			Unit:      "docker.service",
			ExecStart: dockerd + " -H fd:// --containerd=/run/containerd/containerd.sock $DOCKER_OPTS",
			CLI:       "/usr/bin/docker",
		},
		Network: NetworkCloudInit,
		Shell:   "/bin/sh",
	}
}
