package cli

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/swarmboot/swarmboot/pki"
)

const pkiHelp = `Manages the cluster's PKI: a CA that swarmboot keeps beside the description
(tls.dir, default pki/), one certificate per node and the operator's client
certificate. The CA key never goes into user-data; keys are 0600.

  init    make the CA and the operator's certificate, and write
          <dir>/client/env for the docker CLI and etcdctl. A render does
          this too when the directory has no CA yet. An existing CA is
          kept unless --force (every node certificate is then re-issued on
          the next render, and nodes must be re-provisioned).
  renew   re-issue the certificates within tls.renew_before of expiry
          (all of them with --force), and those whose names changed.
          Re-render afterwards: the new certificates reach the nodes with
          their user-data.

Renders reuse stored certificates byte for byte, so output stays the same
until a node's names change or a certificate is renewed.

Examples:
  swarmboot pki init cluster.yaml
  swarmboot pki renew cluster.yaml && swarmboot render cluster.yaml -o out
  . pki/client/env && docker info      # the swarm, over mutual TLS`

func pkiCommand() command {
	return command{
		name: "pki", args: "init|renew FILE [--pki DIR] [--force]",
		summary: "make and renew the cluster's CA and certificates",
		help:    pkiHelp,
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			dir := fs.String("pki", "", "the PKI `DIR` (default: tls.dir beside FILE)")
			force := fs.Bool("force", false, "init: replace an existing CA; renew: renew every certificate")
			return func(e env, args []string) error {
				if len(args) == 0 || (args[0] != "init" && args[0] != "renew") {
					return usagef("say what to do: swarmboot pki init FILE, or swarmboot pki renew FILE")
				}
				file, err := oneFile(args[1:])
				if err != nil {
					return err
				}
				c, err := load(e, file, false)
				if err != nil {
					return err
				}
				if !c.UsesTLS() {
					return fmt.Errorf("%s turns TLS off (docker.tls and etcd.tls are false): its nodes need no certificates", c.File)
				}
				d := pki.Dir(c, *dir)
				now := time.Now()
				if args[0] == "init" {
					paths, err := pki.Init(d, c.Name, pki.SettingsOf(c, now), *force)
					if err != nil {
						return err
					}
					p, err := pki.Prepare(c, d, now, false)
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stderr, "wrote %s: the CA (keep ca-key.pem private) and the operator's certificate\n", count(len(paths), "file"))
					if err := commitTLS(e, c, p); err != nil {
						return err
					}
					fmt.Fprintf(e.stderr, "for the docker CLI and etcdctl: . %s\n", p.Env)
					return nil
				}
				s, err := pki.Open(d)
				if err != nil {
					return err
				}
				changes, err := s.Renew(pki.Requests(c), pki.SettingsOf(c, now), *force)
				if err != nil {
					return err
				}
				for _, ch := range changes {
					fmt.Fprintf(e.stderr, "%s\n", ch)
				}
				if len(changes) == 0 {
					fmt.Fprintf(e.stderr, "nothing to renew: every certificate is valid beyond tls.renew_before (%s); --force renews them all\n", c.TLS.RenewBefore)
					return nil
				}
				fmt.Fprintf(e.stderr, "renewed %s; re-render to deliver them\n", count(len(changes), "certificate"))
				return nil
			}
		},
	}
}
