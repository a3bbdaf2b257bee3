package cli

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/output"
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
			o := delivery.Options{Packaging: delivery.Vagrant}
			fs.StringToStringVar(&o.Vagrant.Boxes, "box", nil, "use `PROFILE=BOX` instead of the default box (repeatable)")
			fs.IntVar(&o.Vagrant.Memory, "memory", 1024, "memory per VM in MiB")
			fs.IntVar(&o.Vagrant.CPUs, "cpus", 1, "CPUs per VM")
			strict := fs.Bool("strict", false, "fail on warnings too")
			return func(e env, args []string) error {
				file, err := oneFile(args)
				if err != nil {
					return err
				}
				if *out == "" {
					return usagef("missing -o DIR: where the Vagrantfile goes")
				}
				if err := o.Validate(); err != nil {
					return err
				}
				c, err := load(e, file, *strict)
				if err != nil {
					return err
				}
				res, err := delivery.Build(c, nil, o)
				if err != nil {
					return err
				}
				if err := output.WriteTree(*out, res.Files, output.Options{FileMode: res.Mode, Warn: warner(e)}); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "wrote %s/Vagrantfile for %d VMs; run: cd %s && VAGRANT_EXPERIMENTAL=cloud_init,disks vagrant up\n", *out, res.Nodes, *out)
				return nil
			}
		},
	}
}
