package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/netip"
	"text/tabwriter"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/pki"
	"github.com/swarmboot/swarmboot/pki/publish"
	"github.com/swarmboot/swarmboot/render"
	"github.com/swarmboot/swarmboot/verify"
)

// errNotPublished: the table said which nodes did not get theirs; exit 1.
var errNotPublished = fmt.Errorf("%w: not every certificate was published", errReported)

// pkiPublish writes the certificate the PKI holds for each node keep
// selects (nil: every node) into the cluster's etcd, with the operator's
// certificate, and prints per node what became of it.
func pkiPublish(e env, c *cluster.Cluster, dir string, keep func(*cluster.Node) bool, timeout time.Duration) error {
	certs, err := pki.NodeCerts(c, dir, time.Now())
	if err != nil {
		return err
	}
	o := publish.Options{Timeout: timeout}
	scheme := "http://"
	if c.Etcd.TLS {
		scheme = "https://"
		client, err := verify.ClientTLS(dir)
		if err != nil {
			return err
		}
		o.TLS = client.Config.Clone()
		o.TLS.MinVersion = tls.VersionTLS12
	}
	for _, m := range c.Members() {
		o.Endpoints = append(o.Endpoints, scheme+netip.AddrPortFrom(m.IP, uint16(c.Etcd.ClientPort)).String())
	}
	selected := func(name string) bool {
		for i := range c.Nodes {
			if c.Nodes[i].Name == name {
				return keep == nil || keep(&c.Nodes[i])
			}
		}
		return false
	}
	var targets []publish.Target
	var rows []pki.NodeCert // what the table shows, in name order
	for _, nc := range certs {
		if !selected(nc.Node) {
			continue
		}
		rows = append(rows, nc)
		if nc.Problem == "" {
			targets = append(targets, publish.Target{Node: nc.Node, Key: publish.Key(c.Name, nc.Node), PEM: nc.PEM})
		}
	}
	results := map[string]publish.Result{}
	for _, r := range publish.Publish(context.Background(), targets, o) {
		results[r.Node] = r
	}

	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tRESULT\tNOT AFTER\tDETAIL")
	counts := map[publish.Outcome]int{}
	for _, nc := range rows {
		notAfter := "-"
		if !nc.NotAfter.IsZero() {
			notAfter = nc.NotAfter.UTC().Format("2006-01-02 15:04 UTC")
		}
		r, tried := results[nc.Node]
		outcome, detail := publish.Outcome("not published"), nc.Problem
		switch {
		case !tried:
		case r.Outcome == publish.Failed:
			outcome, detail = r.Outcome, r.Err.Error()
		case r.Outcome == publish.Unchanged:
			outcome, detail = r.Outcome, "etcd holds it already: "+r.URL
		default:
			outcome, detail = r.Outcome, r.URL
		}
		counts[outcome]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", nc.Node, outcome, notAfter, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	period := render.AgentPeriod(c.TLS.RenewBefore)
	fmt.Fprintf(e.stderr, "%d published, %d unchanged, %d not published, under /swarmboot/%s/certs/ in etcd; each node's swarmboot-cert-renew.timer installs its own within %s (a look every %s, at a random moment) and restarts what reads it only at start; `swarmboot verify %s` shows which nodes serve it\n",
		counts[publish.Published], counts[publish.Unchanged], len(rows)-counts[publish.Published]-counts[publish.Unchanged], c.Name, 2*period, period, c.File)
	if counts[publish.Published]+counts[publish.Unchanged] < len(rows) {
		return errNotPublished
	}
	return nil
}
