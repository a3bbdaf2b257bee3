package cli

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/swarmboot/swarmboot/delivery"
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
			o := delivery.Options{Packaging: delivery.Vagrant}
			fs.StringToStringVar(&o.Vagrant.Boxes, "box", nil, "use `PROFILE=BOX` instead of the default box (repeatable)")
			fs.IntVar(&o.Vagrant.Memory, "memory", 1024, "memory per VM in MiB")
			fs.IntVar(&o.Vagrant.CPUs, "cpus", 1, "CPUs per VM")
			strict := fs.Bool("strict", false, "fail on warnings too")
			pkiDir := fs.String("pki", "", "the cluster's PKI `DIR` (default: tls.dir beside FILE)")
			newCA := fs.Bool("new-ca", false, "write into an output made with another CA (its nodes must all get their new user-data)")
			return func(e env, args []string) error {
				file, err := oneFile(args)
				if err != nil {
					return err
				}
				if *out == "" {
					return usagef("missing -o DIR: where the Vagrantfile goes")
				}
				// 0 would mean "the default" to delivery; on the command line it is a mistake.
				if fs.Changed("cpus") && o.Vagrant.CPUs == 0 || fs.Changed("memory") && o.Vagrant.Memory == 0 {
					return usagef("--cpus and --memory take positive numbers")
				}
				if err := o.Validate(); err != nil {
					return err
				}
				c, err := load(e, file, *strict)
				if err != nil {
					return err
				}
				if err := o.CheckNodes(c, nil); err != nil {
					return err
				}
				dest, err := checkDest(c, *pkiDir, *out)
				if err != nil {
					return err
				}
				tls, err := startPKI(e, c, *pkiDir, dest, *newCA)
				if err != nil {
					return err
				}
				defer tls.close()
				res, err := delivery.Build(c, render.Options{TLS: tls.material()}, o)
				if err != nil {
					return err
				}
				if err := writeResult(e, c, res, *out, tls, *pkiDir); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "run: cd %s && VAGRANT_EXPERIMENTAL=cloud_init,disks vagrant up\n", *out)
				return nil
			}
		},
	}
}
