// Package verify checks a running cluster against its description, from
// wherever the operator sits: every etcd member healthy and in one cluster
// with the peer URLs the description gives, every engine answering with an
// API floor classic swarm can use, one registration per Docker host and no
// strangers, every manager listing every engine Healthy with exactly one
// primary among them, and, with TLS, the certificate each endpoint serves:
// from the cluster's CA, valid, the one the PKI holds, and how long it has
// left.
//
// What a node answers is untrusted: verify follows no redirect, reads a
// bounded amount of each answer, keeps a bounded number of requests in
// flight, escapes every string that came from the network, and names the
// URL in every error.
package verify

import (
	"context"
	"crypto/x509"
	"net"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
)

// Check is one finding: a node's (or the cluster's) aspect, and whether it
// holds, with what was seen or why not. A check that holds with a Warning
// needs attention soon (a certificate to renew) but does not make the
// cluster unhealthy.
type Check struct {
	Node    string `json:"node"`
	What    string `json:"check"`
	OK      bool   `json:"ok"`
	Warning bool   `json:"warning"`
	Detail  string `json:"detail"`
	// A certificate check's served certificate, for scripts: its end
	// (RFC 3339) and fingerprint (pki.Fingerprint: "sha256:<hex>").
	NotAfter    string `json:"not_after,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
}

// Mark is how a table shows the outcome: ✓ holds, ! holds with a
// warning, ✗ does not.
func (c Check) Mark() string {
	switch {
	case c.OK && c.Warning:
		return "!"
	case c.OK:
		return "✓"
	}
	return "✗"
}

// Report is every check of one pass, in description order.
type Report struct {
	Checks   []Check `json:"checks"`
	Healthy  bool    `json:"healthy"`
	Warnings int     `json:"warnings"`
}

// Passing counts the checks that hold.
func (r *Report) Passing() int {
	n := 0
	for _, c := range r.Checks {
		if c.OK {
			n++
		}
	}
	return n
}

// FirstFailure is the first check that does not hold, if any.
func (r *Report) FirstFailure() (Check, bool) {
	for _, c := range r.Checks {
		if !c.OK {
			return c, true
		}
	}
	return Check{}, false
}

// Options are how to reach the cluster and what to expect of it.
type Options struct {
	// TLS is the operator's client (ClientTLS); nil for a cluster without
	// TLS.
	TLS *Client
	// Certs are the certificates the PKI holds, by node name: a node that
	// serves another one is named. Nil compares nothing.
	Certs map[string]*x509.Certificate
	// RenewBefore: a served certificate that expires sooner is a warning
	// (0: the description's tls.renew_before).
	RenewBefore time.Duration
	// Timeout bounds each request (default 5 s).
	Timeout time.Duration
	// Dial reaches an address (nil: directly). Tests map the
	// description's addresses onto loopback with it.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now is the clock certificates are judged by (nil: time.Now).
	Now func() time.Time
}

// swarmAPI is the Docker API version classic swarm 1.2.9 speaks to engines.
const swarmAPI = "1.31"

// Run checks the cluster once; ctx bounds the whole pass. Requests go out
// in parallel, at most maxInFlight steps at a time, etcd's first; the
// report's order is the description's, whatever answers first.
func Run(ctx context.Context, c *cluster.Cluster, o Options) *Report {
	v := newVerifier(c, o)
	var steps []func() []Check // in report order
	var early, late []int      // the order they start in
	add := func(first bool, step func() []Check) {
		if first {
			early = append(early, len(steps))
		} else {
			late = append(late, len(steps))
		}
		steps = append(steps, step)
	}
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if n.Has(cluster.RoleEtcd) {
			add(true, func() []Check { return v.member(ctx, n) })
		}
		if n.Has(cluster.RoleDocker) {
			add(false, func() []Check { return v.engine(ctx, n) })
		}
		if n.Has(cluster.RoleManager) {
			add(false, func() []Check { return v.manager(ctx, n) })
		}
	}
	add(true, func() []Check { return v.registrations(ctx) })
	groups := make([][]Check, len(steps))
	parallel(append(early, late...), func(i int) { groups[i] = steps[i]() })

	r := &Report{Healthy: true}
	for _, g := range groups {
		r.Checks = append(r.Checks, g...)
	}
	r.Checks = append(r.Checks, v.primaries())
	// One block per node, in the description's order; the cluster's last.
	order := map[string]int{"cluster": len(c.Nodes)}
	for i, n := range c.Nodes {
		order[n.Name] = i
	}
	sort.SliceStable(r.Checks, func(i, j int) bool { return order[r.Checks[i].Node] < order[r.Checks[j].Node] })
	for i := range r.Checks {
		ch := &r.Checks[i]
		ch.Node, ch.What, ch.Detail = printable(ch.Node), printable(ch.What), printable(ch.Detail)
		ch.Warning = ch.Warning && ch.OK
		r.Healthy = r.Healthy && ch.OK
		if ch.Warning {
			r.Warnings++
		}
	}
	return r
}

// Poll runs passes, one every pollInterval, until one is healthy or wait
// has passed. Each pass is bounded by what is left of wait, and Poll
// returns as soon as no further pass can start in time; progress sees
// every unhealthy pass that another follows. wait <= 0 is one pass.
func Poll(ctx context.Context, c *cluster.Cluster, o Options, wait time.Duration, progress func(*Report)) *Report {
	if wait <= 0 {
		return Run(ctx, c, o)
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	deadline, _ := ctx.Deadline()
	for {
		r := Run(ctx, c, o)
		if r.Healthy || time.Until(deadline) <= pollInterval {
			return r
		}
		progress(r)
		select {
		case <-ctx.Done(): // canceled by the caller
			return r
		case <-time.After(pollInterval):
		}
	}
}

// parallel runs do(i) for each i of order, starting them in that order,
// at most maxInFlight at a time.
func parallel(order []int, do func(int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(maxInFlight, len(order)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				do(i)
			}
		}()
	}
	for _, i := range order {
		next <- i
	}
	close(next)
	wg.Wait()
}

type verifier struct {
	c           *cluster.Cluster
	o           Options
	f           *fetcher
	now         func() time.Time
	renewBefore time.Duration

	mu    sync.Mutex
	roles map[string]string // manager node -> primary or replica, as it says
}

func newVerifier(c *cluster.Cluster, o Options) *verifier {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	renew := o.RenewBefore
	if renew == 0 {
		renew = c.TLS.RenewBefore
	}
	if renew == 0 {
		renew = cluster.DefaultRenewBefore
	}
	return &verifier{c: c, o: o, f: newFetcher(o, now), now: now, renewBefore: renew, roles: map[string]string{}}
}

// endpoint is a node's URL for a service, https when it uses TLS.
func endpoint(secure bool, ip netip.Addr, port int, path string) string {
	scheme := "http://"
	if secure {
		scheme = "https://"
	}
	return scheme + netip.AddrPortFrom(ip, uint16(port)).String() + path
}
