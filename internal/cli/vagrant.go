package cli

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/swarmboot/swarmboot"
	"github.com/swarmboot/swarmboot/delivery"
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
			o := swarmboot.Options{Delivery: delivery.Options{Packaging: delivery.Vagrant}}
			fs.StringVarP(&o.Output, "output", "o", "", "write the Vagrant environment into `DIR`")
			v := &o.Delivery.Vagrant
			fs.StringToStringVar(&v.Boxes, "box", nil, "use `PROFILE=BOX` instead of the default box (repeatable)")
			fs.IntVar(&v.Memory, "memory", 1024, "memory per VM in MiB")
			fs.IntVar(&v.CPUs, "cpus", 1, "CPUs per VM")
			commonFlags(fs, &o)
			return func(e env, args []string) error {
				file, err := oneFile(args)
				if err != nil {
					return err
				}
				if o.Output == "" {
					return usagef("missing -o DIR: where the Vagrantfile goes")
				}
				// 0 would mean "the default" to delivery; on the command line it is a mistake.
				if fs.Changed("cpus") && v.CPUs == 0 || fs.Changed("memory") && v.Memory == 0 {
					return usagef("--cpus and --memory take positive numbers")
				}
				res, err := buildWithPKI(e, file, o)
				if err != nil {
					return err
				}
				if err := commit(e, res); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "run: cd %s && VAGRANT_EXPERIMENTAL=cloud_init,disks vagrant up\n", o.Output)
				return nil
			}
		},
	}
}
