package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/pki"
)

const pkiHelp = `Manages the cluster's PKI: a CA that swarmboot keeps beside the description
(tls.dir, default pki/), one certificate per node and the operator's client
certificate. The CA key never goes into user-data; keys are 0600.

  init    make the CA and the operator's certificate, issue every node's,
          and write <dir>/client/env for the docker CLI and etcdctl. A
          render does this too when the folder has no CA yet. An existing
          CA is kept; --force moves it (with the certificates it signed)
          into <dir>/backup/<time>/ and makes a new one: every node then
          needs its new user-data.
  renew   renew the certificates within tls.renew_before of expiry (all
          of them with --force), each for its node's own key, so only a
          public certificate has to reach the node; re-issue with a new
          key those whose names changed (those nodes need their new
          user-data). --publish publishes them right after.
  publish write every node's certificate (--nodes: some) into the
          cluster's etcd, where the node's certificate agent fetches it
          over mutual TLS, checks it, installs it and restarts what reads
          it only at start: running nodes get renewed certificates without
          SSH and without new user-data. Uses the operator's certificate
          (<dir>/client); says per node what it wrote, or that etcd held
          it already; one etcd holds that was issued later (from a newer
          copy of the PKI) is left in place, and the node reported. A node
          whose certificate has expired cannot fetch one (see the README's
          "Certificate lifetime").
  status  list the CA, the operator's certificate and every node's, with
          their names, expiry and state (ok, renew soon, expired, not yet
          valid, missing, key mismatch, SANs stale, other CA, key offline);
          exit 1 when any needs action.

Every change is one transaction: a run stopped at any point leaves the PKI
as it was or fully changed. Renders reuse stored certificates, so output
stays the same until a node's names change or a certificate is renewed.
ca-key.pem may be kept offline: only runs that issue need it.

Examples:
  swarmboot pki init cluster.yaml
  swarmboot pki status cluster.yaml
  swarmboot pki renew cluster.yaml --publish   # then: swarmboot verify cluster.yaml
  swarmboot pki publish cluster.yaml --nodes docker-01,docker-02
  . pki/client/env && docker info      # the swarm, over mutual TLS`

func pkiCommand() command {
	return command{
		name: "pki", args: "init|renew|publish|status FILE [--pki DIR] [--force] [--publish] [--nodes S] [--json] [--at TIME]",
		summary: "make, renew, publish and inspect the cluster's CA and certificates",
		help:    pkiHelp,
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			dir := fs.String("pki", "", "the PKI `DIR` (default: tls.dir beside FILE)")
			force := fs.Bool("force", false, "init: set the existing CA aside in backup/ and make a new one; renew: renew every certificate")
			asJSON := fs.Bool("json", false, "status: print JSON")
			at := fs.String("at", "", "status: as of `TIME` (2027-01-31 or RFC 3339) instead of now")
			pub := fs.Bool("publish", false, "renew: publish the certificates to the running nodes afterwards")
			nodes := fs.String("nodes", "", "publish: only these nodes (a,b | role=R | profile=P)")
			timeout := fs.Duration("timeout", 5*time.Second, "publish: bound on each request to etcd")
			return func(e env, args []string) error {
				if len(args) == 0 || !slices.Contains([]string{"init", "renew", "publish", "status"}, args[0]) {
					return usagef("say what to do: swarmboot pki init FILE, pki renew FILE, pki publish FILE or pki status FILE")
				}
				if args[0] != "status" && (*asJSON || *at != "") {
					return usagef("--json and --at apply to pki status only")
				}
				if *force && args[0] != "init" && args[0] != "renew" {
					return usagef("--force applies to pki init and pki renew")
				}
				if *pub && args[0] != "renew" {
					return usagef("--publish applies to pki renew (pki publish publishes)")
				}
				if fs.Changed("nodes") && args[0] != "publish" {
					return usagef("--nodes applies to pki publish")
				}
				if *timeout <= 0 {
					return usagef("--timeout takes a positive duration, e.g. 5s")
				}
				now, err := parseAt(*at)
				if err != nil {
					return err
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
				switch args[0] {
				case "status":
					return pkiStatus(e, c, d, now, *asJSON)
				case "publish":
					keep, err := c.Select(*nodes)
					if err != nil {
						return usagef("%v", err)
					}
					return pkiPublish(e, c, d, keep, *timeout)
				}
				if err := pkiChange(e, c, d, args[0], *force); err != nil || !*pub {
					return err
				}
				return pkiPublish(e, c, d, nil, *timeout)
			}
		},
	}
}

// parseAt reads --at: a date (midnight UTC) or an RFC 3339 time.
func parseAt(s string) (time.Time, error) {
	if s == "" {
		return time.Now(), nil
	}
	for _, layout := range []string{"2006-01-02", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("--at %s: give a date such as 2027-01-31, or a time such as 2027-01-31T12:00:00Z", s)
}

// pkiChange runs pki init or pki renew as one transaction.
func pkiChange(e env, c *cluster.Cluster, dir, what string, force bool) error {
	tx, err := pki.Begin(dir, func(holder string) {
		fmt.Fprintf(e.stderr, "swarmboot: waiting for %s, which holds the PKI %s\n", holder, dir)
	})
	if err != nil {
		return err
	}
	defer tx.Close()
	o := pki.PlanOptions{CA: pki.UseCA, Renew: true, RenewAll: force}
	if what == "init" {
		o = pki.PlanOptions{CA: pki.NewCA}
		if force {
			o.CA = pki.ReplaceCA
		}
	}
	p, err := pki.PlanCluster(tx, c, time.Now(), o)
	if err != nil {
		return err
	}
	if err := p.Commit(); err != nil {
		return err
	}
	if what == "init" {
		reportPKI(e, c, p)
		return nil
	}
	changed, counts := false, map[pki.ChangeKind]int{} // nodes' changes, by kind
	for _, ch := range p.Changes {
		if ch.Kind == pki.Expiring {
			continue
		}
		fmt.Fprintf(e.stderr, "%s\n", ch)
		changed = true
		if ch.Node != pki.ClientName {
			counts[ch.Kind]++
		}
	}
	if !changed {
		fmt.Fprintf(e.stderr, "nothing to renew: every certificate is valid beyond tls.renew_before (%s); --force renews them all\n", c.TLS.RenewBefore)
		return nil
	}
	if n := counts[pki.Renewed]; n > 0 {
		fmt.Fprintf(e.stderr, "renewed %s, each for the key its node holds: `swarmboot pki publish %s` hands them to the running nodes (renders carry them too)\n", count(n, "node certificate"), c.File)
	}
	if n := counts[pki.Reissued] + counts[pki.Issued]; n > 0 {
		fmt.Fprintf(e.stderr, "issued %s with a new key: those nodes need their new user-data (`swarmboot render %s`, then re-provision them)\n", count(n, "node certificate"), c.File)
	}
	return nil
}

// errNeedsAction: the status report said what; exit 1.
var errNeedsAction = fmt.Errorf("%w: the PKI needs action", errReported)

// pkiStatus prints the PKI's state as a table or JSON.
func pkiStatus(e env, c *cluster.Cluster, dir string, now time.Time, asJSON bool) error {
	r, err := pki.Status(c, dir, now)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		writeStatus(e.stdout, c, r)
	}
	if r.NeedsAction {
		return errNeedsAction
	}
	return nil
}

// writeStatus prints one line per certificate, the notes, then what to do.
func writeStatus(w io.Writer, c *cluster.Cluster, r *pki.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CERTIFICATE\tSTATE\tNOT AFTER\tDAYS\tSUBJECT\tSANS")
	var notes []string
	for _, en := range r.Entries {
		notAfter, days := "-", "-"
		if !en.NotAfter.IsZero() {
			notAfter, days = en.NotAfter.Format("2006-01-02"), fmt.Sprint(en.DaysLeft)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", en.Name, en.State, notAfter, days, orDash(en.Subject), orDash(strings.Join(en.SANs, ",")))
		if en.Detail != "" {
			notes = append(notes, en.Name+": "+en.Detail)
		}
	}
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	fmt.Fprintln(w, statusSummary(c, r))
}

// statusSummary says how many certificates need action, and what does it.
func statusSummary(c *cluster.Cluster, r *pki.Report) string {
	act, offline := 0, false
	var todo []string
	add := func(s string) {
		if !slices.Contains(todo, s) {
			todo = append(todo, s)
		}
	}
	for _, en := range r.Entries {
		offline = offline || en.State == pki.KeyOffline
		if !en.State.NeedsAction() {
			continue
		}
		act++
		switch {
		case en.Name == "CA":
			add("the CA itself needs care: see its note")
		case en.State == pki.Refused:
			add("fix what the notes say")
		case en.State == pki.RenewSoon:
			add(fmt.Sprintf("`swarmboot pki renew %s` renews what expires soon", c.File))
		default:
			add(fmt.Sprintf("`swarmboot render %s` issues what is missing or stale", c.File))
		}
	}
	if act == 0 {
		return fmt.Sprintf("%s: all %d certificates are in order as of %s", r.Dir, len(r.Entries), r.At)
	}
	what := strings.Join(todo, "; ")
	if offline && slices.ContainsFunc(todo, func(s string) bool { return strings.HasPrefix(s, "`") }) {
		what = "put the CA key at " + filepath.Join(r.Dir, "ca-key.pem") + ", then " + what
	}
	return fmt.Sprintf("%s: %d of %d certificates need action as of %s: %s", r.Dir, act, len(r.Entries), r.At, what)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
