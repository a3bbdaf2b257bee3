package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/swarmboot/swarmboot/pki"
	"github.com/swarmboot/swarmboot/verify"
)

const verifyHelp = `Checks the running cluster against its description, from where you sit:
  etcd member    answers /health and is listed with its peer URL
  engine         answers /version and serves classic swarm's API 1.31
  registration   one key per Docker host under swarm.path in etcd
  registrations  no key for an address the description does not have
  manager        answers /info and lists every Docker host Healthy
  managers       exactly one primary among them
With TLS it uses the operator's certificate from the PKI (--pki, default
tls.dir beside FILE). Exit 0 healthy, 1 unhealthy, 2 usage.

Examples:
  swarmboot verify cluster.yaml
  swarmboot verify cluster.yaml --wait 10m     # right after booting the machines
  swarmboot verify cluster.yaml -o json | jq '.checks[] | select(.ok | not)'`

func verifyCommand() command {
	return command{
		name: "verify", args: "FILE [--wait DURATION] [-o json] [--pki DIR]",
		summary: "check the running cluster against its description",
		help:    verifyHelp,
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			wait := fs.Duration("wait", 0, "poll until healthy or this long has passed, e.g. 10m")
			format := fs.StringP("output", "o", "table", "table or json")
			pkiDir := fs.String("pki", "", "the cluster's PKI `DIR` (default: tls.dir beside FILE)")
			timeout := fs.Duration("timeout", 5*time.Second, "bound on each request")
			return func(e env, args []string) error {
				file, err := oneFile(args)
				if err != nil {
					return err
				}
				if *format != "table" && *format != "json" {
					return usagef("-o %s: give table or json", *format)
				}
				if *wait < 0 || *timeout <= 0 {
					return usagef("--wait and --timeout take positive durations, e.g. 10m, 5s")
				}
				c, err := load(e, file, false)
				if err != nil {
					return err
				}
				o := verify.Options{Timeout: *timeout}
				if c.UsesTLS() {
					if o.TLS, o.Explain, err = verify.ClientTLS(pki.Dir(c, *pkiDir)); err != nil {
						return err
					}
				}
				r := poll(e, c.Name, *wait, func() *verify.Report { return verify.Run(context.Background(), c, o) })
				if *format == "json" {
					enc := json.NewEncoder(e.stdout)
					enc.SetIndent("", "  ")
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

// poll runs check until the report is healthy or wait has passed, with a
// progress line on stderr between passes.
func poll(e env, name string, wait time.Duration, check func() *verify.Report) *verify.Report {
	deadline := time.Now().Add(wait)
	for {
		r := check()
		if r.Healthy || !time.Now().Before(deadline) {
			return r
		}
		first, _ := r.FirstFailure()
		fmt.Fprintf(e.stderr, "waiting for cluster %s: %d of %d checks pass; %s %s: %s\n",
			name, r.Passing(), len(r.Checks), first.Node, first.What, first.Detail)
		time.Sleep(min(5*time.Second, time.Until(deadline)))
	}
}

// writeReport prints the checks as a table, ✓ or ✗ with what was seen.
func writeReport(w io.Writer, r *verify.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tCHECK\tRESULT")
	for _, ch := range r.Checks {
		mark := "✗"
		if ch.OK {
			mark = "✓"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s %s\n", ch.Node, ch.What, mark, ch.Detail)
	}
	tw.Flush()
	if r.Healthy {
		fmt.Fprintf(w, "healthy: %d of %d checks pass\n", r.Passing(), len(r.Checks))
	} else {
		fmt.Fprintf(w, "unhealthy: %d of %d checks pass\n", r.Passing(), len(r.Checks))
	}
}
