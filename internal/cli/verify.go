package cli

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/pki"
	"github.com/swarmboot/swarmboot/verify"
)

const verifyHelp = `Checks the running cluster against its description, from where you sit:
  etcd member    answers /health and its cluster lists every member with
                 the peer URL of the description, and no stranger
  engine         answers /version and serves classic swarm's API 1.31
  registration   one key per Docker host under swarm.path in etcd (a
                 quorum read: every member is asked, the first answer wins)
  registrations  no key for an address the description does not have
  manager        answers /info and lists every Docker host Healthy
  managers       exactly one primary among them
  etcd, engine, manager certificate
                 with TLS, what the endpoint served in the handshake: from
                 the cluster's CA, valid now, for the node's address; its
                 not-after and days left; a warning (!) inside
                 tls.renew_before or when it is not the one the PKI holds
                 (renewed, not yet picked up)
With TLS it uses the operator's certificate from the PKI (--pki, default
tls.dir beside FILE). Exit 0 healthy (warnings allowed), 1 unhealthy, 2 usage.

Examples:
  swarmboot verify cluster.yaml
  swarmboot verify cluster.yaml --wait 10m     # right after booting the machines
  swarmboot verify cluster.yaml --json | jq '.checks[] | select(.ok | not)'`

func verifyCommand() command {
	return command{
		name: "verify", args: "FILE [--wait DURATION] [--json] [--pki DIR]",
		summary: "check the running cluster against its description",
		help:    verifyHelp,
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			wait := fs.Duration("wait", 0, "poll until healthy or this long has passed, e.g. 10m")
			asJSON := fs.Bool("json", false, "print the report as JSON")
			pkiDir := fs.String("pki", "", "the cluster's PKI `DIR` (default: tls.dir beside FILE)")
			timeout := fs.Duration("timeout", 5*time.Second, "bound on each request")
			format := fs.StringP("output", "o", "", "deprecated: --json")
			fs.MarkHidden("output")
			return func(e env, args []string) error {
				file, err := oneFile(args)
				if err != nil {
					return err
				}
				if fs.Changed("output") {
					if *format != "table" && *format != "json" {
						return usagef("-o %s: give --json for JSON (the table is the default)", *format)
					}
					fmt.Fprintf(e.stderr, "swarmboot verify: -o %s is deprecated and will name an output folder; use --json for JSON (the table is the default)\n", *format)
					*asJSON = *asJSON || *format == "json"
				}
				if *wait < 0 || *timeout <= 0 {
					return usagef("--wait and --timeout take positive durations, e.g. 10m, 5s")
				}
				c, err := load(e, file, false)
				if err != nil {
					return err
				}
				o := verify.Options{Timeout: *timeout, RenewBefore: c.TLS.RenewBefore}
				if c.UsesTLS() {
					dir := pki.Dir(c, *pkiDir)
					if o.TLS, err = verify.ClientTLS(dir); err != nil {
						return err
					}
					if o.Certs, err = nodeCerts(dir, c); err != nil {
						return err
					}
				}
				r := verify.Poll(context.Background(), c, o, *wait, func(r *verify.Report) {
					first, _ := r.FirstFailure()
					fmt.Fprintf(e.stderr, "waiting for cluster %s: %d of %d checks pass; %s %s: %s\n",
						c.Name, r.Passing(), len(r.Checks), first.Node, first.What, first.Detail)
				})
				if *asJSON {
					enc := json.NewEncoder(e.stdout)
					enc.SetIndent("", "  ")
					enc.SetEscapeHTML(false)
					if err := enc.Encode(r); err != nil {
						return err
					}
				} else {
					writeReport(e.stdout, r)
				}
				if !r.Healthy {
					return errUnhealthy
				}
				return nil
			}
		},
	}
}

// errUnhealthy: the report said it all; exit 1.
var errUnhealthy = fmt.Errorf("%w: unhealthy", errReported)

// nodeCerts is the certificate the PKI holds for each node (a node
// without one is left out), read by the pki package as strictly as a
// render reads it, for verify to compare with what the node serves.
func nodeCerts(dir string, c *cluster.Cluster) (map[string]*x509.Certificate, error) {
	certs, err := pki.NodeCerts(c, dir, time.Now())
	if err != nil {
		return nil, err
	}
	out := map[string]*x509.Certificate{}
	for _, nc := range certs {
		if b, _ := pem.Decode(nc.PEM); b != nil {
			if out[nc.Node], err = x509.ParseCertificate(b.Bytes); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// writeReport prints the checks as a table: ✓ holds, ! holds with a
// warning, ✗ does not, with what was seen. verify has escaped every
// string that came from the network, so no answer can add a line.
func writeReport(w io.Writer, r *verify.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tCHECK\tRESULT")
	for _, ch := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s %s\n", ch.Node, ch.What, ch.Mark(), ch.Detail)
	}
	tw.Flush()
	state := "healthy"
	if !r.Healthy {
		state = "unhealthy"
	}
	fmt.Fprintf(w, "%s: %d of %d checks pass", state, r.Passing(), len(r.Checks))
	if r.Warnings > 0 {
		fmt.Fprintf(w, ", %s", count(r.Warnings, "warning"))
	}
	fmt.Fprintln(w)
}
