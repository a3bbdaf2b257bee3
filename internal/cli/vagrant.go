package cli

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/delivery/vagrant"
	"github.com/swarmboot/swarmboot/output"
	"github.com/swarmboot/swarmboot/profiles"
	"github.com/swarmboot/swarmboot/render"
)

func vagrantCommand() command {
	return command{
		name: "vagrant", args: "FILE -o DIR [--box PROFILE=BOX] [--memory MiB] [--cpus N]",
		summary: "write a Vagrantfile and user-data that bring the cluster up",
		help: "Writes DIR/Vagrantfile (one VM per node, private network addresses from the\n" +
			"description) and DIR/<node>/user-data. cloud-init boxes (ubuntu, debian) get\n" +
			"the user-data through Vagrant's cloud_init support; CoreOS-style boxes\n" +
			"(coreos, flatcar) through the file provisioner into /var/lib/coreos-vagrant,\n" +
			"as coreos-cloudconfig. Fedora CoreOS reads only Ignition, which VirtualBox\n" +
			"cannot carry, so fcos nodes are refused. DIR is replaced whole.\n" +
			"Then: cd DIR && VAGRANT_EXPERIMENTAL=cloud_init,disks vagrant up",
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			out := fs.StringP("output", "o", "", "write the Vagrant environment into `DIR`")
			boxes := fs.StringToString("box", nil, "use `PROFILE=BOX` instead of the default box (repeatable)")
			memory := fs.Int("memory", 1024, "memory per VM in MiB")
			cpus := fs.Int("cpus", 1, "CPUs per VM")
			strict := fs.Bool("strict", false, "fail on warnings too")
			return func(e env, args []string) error {
				file, err := oneFile(args)
				if err != nil {
					return err
				}
				if *out == "" {
					return usagef("missing -o DIR: where the Vagrantfile goes")
				}
				if *memory < vagrant.MinMemory || *memory > vagrant.MaxMemory {
					return usagef("--memory %d: give %d-%d MiB", *memory, vagrant.MinMemory, vagrant.MaxMemory)
				}
				if *cpus < vagrant.MinCPUs || *cpus > vagrant.MaxCPUs {
					return usagef("--cpus %d: give %d-%d", *cpus, vagrant.MinCPUs, vagrant.MaxCPUs)
				}
				for p := range *boxes {
					if _, ok := profiles.Lookup(p); !ok {
						return usagef("--box %s=...: unknown profile %q; profiles are %s", p, p, strings.Join(profiles.Names(), ", "))
					}
				}
				c, err := load(e, file, *strict)
				if err != nil {
					return err
				}
				tree, err := vagrantTree(c, *boxes, *memory, *cpus)
				if err != nil {
					return err
				}
				if err := output.WriteTree(*out, tree, output.Options{Warn: warner(e)}); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "wrote %s/Vagrantfile for %d VMs; run: cd %s && VAGRANT_EXPERIMENTAL=cloud_init,disks vagrant up\n", *out, len(c.Nodes), *out)
				return nil
			}
		},
	}
}

// vagrantFormat is the config a profile's Vagrant box reads.
func vagrantFormat(p *profiles.Profile) (profiles.Format, bool) {
	for _, f := range []profiles.Format{profiles.CloudConfig, profiles.CoreOSCloudConfig} {
		if p.Supports(f) {
			return f, true
		}
	}
	return "", false
}

func vagrantTree(c *cluster.Cluster, boxes map[string]string, memory, cpus int) (map[string][]byte, error) {
	// Vagrant addresses the private network itself (a second NIC); a
	// static config for the first NIC would cut the VM off Vagrant's NAT.
	vc := *c
	vc.Network = nil
	plans, err := render.Plans(&vc)
	if err != nil {
		return nil, err
	}
	tree := map[string][]byte{}
	machines := make([]vagrant.Machine, 0, len(plans))
	for i, p := range plans {
		f, ok := vagrantFormat(p.Profile)
		if !ok {
			return nil, fmt.Errorf("node %s: profile %s reads only %s, which Vagrant's VirtualBox provider cannot deliver; use ubuntu, debian, flatcar or coreos for Vagrant",
				p.Node, p.Profile.Name, profiles.JoinFormats(p.Profile.Formats))
		}
		data, err := render.Emit(p, f)
		if err != nil {
			return nil, err
		}
		userData := p.Node + "/user-data"
		tree[userData] = data
		box, _ := vagrant.DefaultBox(p.Profile.Name)
		if name, ok := boxes[p.Profile.Name]; ok {
			box = vagrant.Box{Name: name}
		}
		if box.Name == "" {
			return nil, fmt.Errorf("node %s: no default Vagrant box for profile %s; pass --box %s=BOX", p.Node, p.Profile.Name, p.Profile.Name)
		}
		machines = append(machines, vagrant.Machine{
			Name: p.Node, IP: c.Nodes[i].IP.String(), Netmask: netmask(c.Network, c.Nodes[i].IP), Box: box.Name, BoxURL: box.URL,
			Format: string(f), UserDataPath: userData, Memory: memory, CPUs: cpus,
		})
	}
	vf, err := vagrant.Vagrantfile(machines)
	if err != nil {
		return nil, err
	}
	tree["Vagrantfile"] = vf
	return tree, nil
}

// netmask is the private network's mask in Vagrant's terms: dotted for
// IPv4, the prefix length for IPv6; "" without a static network.
func netmask(nw *cluster.Network, ip netip.Addr) string {
	if nw == nil {
		return ""
	}
	if ip.Is6() {
		return strconv.Itoa(nw.Prefix)
	}
	return net.IP(net.CIDRMask(nw.Prefix, 32)).String()
}
