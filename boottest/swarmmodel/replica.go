// A replica manager's API, as api/replica.go and api/server.go of swarm
// 1.2.9: requests whose path ends in /_ping, /info or /debug are served
// locally (so `docker info` on a replica shows "Role: replica" and the
// primary's address); everything else waits for a known primary and is
// forwarded to it, or served locally if this manager has meanwhile become
// the primary. Swarm forwarded every request by copying the raw connection
// (hijack); the model does so for the routes whose connection the primary
// takes over too (attach), and uses a reverse proxy for the others, which
// carries the same requests and answers.

package swarmmodel

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

var replicaLocalRoutes = []string{"/_ping", "/info", "/debug"}

type replica struct {
	local     http.Handler
	tlsConfig *tls.Config
	addr      string // this manager's --advertise
	transport *http.Transport

	mu      sync.Mutex
	primary string
	changed chan struct{} // closed when primary changes
}

func newReplica(local http.Handler, tlsConfig *tls.Config, addr string) *replica {
	return &replica{
		local: local, tlsConfig: tlsConfig, addr: addr,
		transport: &http.Transport{TLSClientConfig: tlsConfig},
		changed:   make(chan struct{}),
	}
}

func (p *replica) setPrimary(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.primary = addr
	if addr != "" {
		close(p.changed)
		p.changed = make(chan struct{})
	}
}

// getPrimary blocks until a primary is known or ctx ends.
func (p *replica) getPrimary(ctx context.Context) (string, error) {
	for {
		p.mu.Lock()
		primary, changed := p.primary, p.changed
		p.mu.Unlock()
		if primary != "" {
			return primary, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("No elected primary cluster manager: %v", ctx.Err())
		case <-changed:
		}
	}
}

func (p *replica) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for _, route := range replicaLocalRoutes {
		if strings.HasSuffix(r.URL.Path, route) {
			p.local.ServeHTTP(w, r)
			return
		}
	}
	primary, err := p.getPrimary(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if primary == p.addr {
		p.local.ServeHTTP(w, r)
		return
	}
	if isHijackRoute(r) {
		if err := hijack(p.tlsConfig, primary, w, r); err != nil {
			http.Error(w, fmt.Sprintf("Unable to reach primary cluster manager (%s): %v", primary, err), http.StatusInternalServerError)
		}
		return
	}
	scheme := "http"
	if p.tlsConfig != nil {
		scheme = "https"
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&url.URL{Scheme: scheme, Host: primary})
			pr.Out.Host = r.Host
		},
		Transport: p.transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, fmt.Sprintf("Unable to reach primary cluster manager (%s): %v", primary, err), http.StatusInternalServerError)
		},
	}
	proxy.ServeHTTP(w, r)
}

// dispatcher is api/server.go's: the handler is switched between the
// primary's router and the replica at run time.
type dispatcher struct {
	h atomic.Pointer[http.Handler]
}

func (d *dispatcher) set(h http.Handler) { d.h.Store(&h) }

func (d *dispatcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := d.h.Load()
	if h == nil {
		http.Error(w, "No dispatcher defined", http.StatusInternalServerError)
		return
	}
	(*h).ServeHTTP(w, r)
}
