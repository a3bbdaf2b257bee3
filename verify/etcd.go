package verify

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/swarmboot/swarmboot/cluster"
)

// member: the etcd member answers /health with "true", and the cluster it
// is in lists it under its name with the peer URL the description gives
// it, lists every other member of the description, and no stranger.
func (v *verifier) member(ctx context.Context, n *cluster.Node) []Check {
	ch := Check{Node: n.Name, What: "etcd member"}
	e := v.c.Etcd
	var peer *x509.Certificate
	out := func() []Check { return v.withCertificate(ch, e.TLS, n, "etcd certificate", peer) }
	var health struct {
		Health string `json:"health"`
		Reason string `json:"reason"` // etcd 3.5 and later
	}
	// etcd answers 503 with {"health":"false"} when it has no quorum.
	a, err := v.f.getJSON(ctx, endpoint(e.TLS, n.IP, e.ClientPort, "/health"), smallAnswer, &health, http.StatusOK, http.StatusServiceUnavailable)
	peer = a.peer
	if err != nil {
		ch.Detail = err.Error()
		return out()
	}
	if health.Health != "true" {
		ch.Detail = fmt.Sprintf("unhealthy: /health says %s", quote(health.Health))
		if health.Reason != "" {
			ch.Detail += " (" + quote(health.Reason) + ")"
		}
		ch.Detail += ": no quorum, or a failed disk"
		return out()
	}
	var list struct {
		Members []listed `json:"members"`
	}
	if _, err := v.f.getJSON(ctx, endpoint(e.TLS, n.IP, e.ClientPort, "/v2/members"), smallAnswer, &list); err != nil {
		ch.Detail = err.Error()
		return out()
	}
	if problems := v.memberList(n, list.Members); len(problems) > 0 {
		ch.Detail = strings.Join(problems, "; ")
		return out()
	}
	ch.OK, ch.Detail = true, fmt.Sprintf("healthy, %d members, peer %s", len(list.Members), endpoint(e.TLS, n.IP, e.PeerPort, ""))
	return out()
}

// listed is one entry of etcd's member list.
type listed struct {
	Name     string   `json:"name"`
	PeerURLs []string `json:"peerURLs"`
}

// memberList compares the member list node n answered with the
// description: n under its name with its one peer URL, every other member
// (by peer URL: a member that has never started is listed without a
// name), and no stranger.
func (v *verifier) memberList(n *cluster.Node, members []listed) (problems []string) {
	e := v.c.Etcd
	ours := map[string]bool{} // the description's peer URLs
	for _, m := range v.c.Members() {
		ours[endpoint(e.TLS, m.IP, e.PeerPort, "")] = true
	}
	self := endpoint(e.TLS, n.IP, e.PeerPort, "")
	seen := map[string]bool{}
	found := false
	var strangers []string
	for _, m := range members {
		if m.Name == n.Name {
			found = true
			if len(m.PeerURLs) != 1 || m.PeerURLs[0] != self {
				problems = append(problems, fmt.Sprintf("listed with peer URLs %s, want %s", quoteAll(m.PeerURLs), self))
			}
		}
		known := false
		for _, u := range m.PeerURLs {
			seen[u], known = true, known || ours[u]
		}
		if !known {
			strangers = append(strangers, quote(m.Name)+" "+quoteAll(m.PeerURLs))
		}
	}
	if !found {
		problems = append([]string{fmt.Sprintf("answers, but its cluster's %d members do not include %s: it runs another etcd cluster, or kept an old data dir", len(members), n.Name)}, problems...)
	}
	var missing []string
	for _, m := range v.c.Members() {
		if u := endpoint(e.TLS, m.IP, e.PeerPort, ""); !seen[u] && m.Name != n.Name {
			missing = append(missing, m.Name+" ("+u+")")
		}
	}
	if len(missing) > 0 {
		problems = append(problems, "its cluster has no member "+list8(missing)+": that member runs an etcd cluster of its own, or was removed")
	}
	if len(strangers) > 0 {
		problems = append(problems, "its cluster has members the description does not: "+list8(strangers))
	}
	return problems
}

// registrations: exactly one key per Docker host under the swarm path,
// and no strangers. Every member is asked at once for a quorum read, which
// goes through the cluster's leader, so a member cut off from the others
// cannot answer with what it last saw; the first answer wins.
func (v *verifier) registrations(ctx context.Context) []Check {
	hosts := v.c.DockerHosts()
	dir := path.Join("/", v.c.Swarm.Path, "docker/swarm/nodes")
	keys, err := v.listRegistrations(ctx, dir, smallAnswer+perKey*len(hosts))
	var out []Check
	if err != nil {
		for _, n := range hosts {
			out = append(out, Check{Node: n.Name, What: "registration", Detail: err.Error()})
		}
		return append(out, Check{Node: "cluster", What: "registrations", Detail: err.Error()})
	}
	seen := map[string]bool{}
	for _, k := range keys {
		seen[k] = true
	}
	for _, n := range hosts {
		addr := netip.AddrPortFrom(n.IP, uint16(v.c.Docker.Port)).String()
		ch := Check{Node: n.Name, What: "registration", OK: seen[addr]}
		ch.Detail = addr + " in " + dir
		if !ch.OK {
			ch.Detail = addr + " is not registered: is swarm-join running on the node, and can it reach etcd?"
		}
		delete(seen, addr)
		out = append(out, ch)
	}
	strangers := make([]string, 0, len(seen))
	for k := range seen {
		strangers = append(strangers, quote(k))
	}
	sort.Strings(strangers)
	ch := Check{Node: "cluster", What: "registrations", OK: len(strangers) == 0}
	ch.Detail = fmt.Sprintf("%d, no strangers", len(keys))
	if !ch.OK {
		ch.Detail = fmt.Sprintf("registered but not in the description: %s (an old node, or another cluster on this path)", list8(strangers))
	}
	return append(out, ch)
}

// listRegistrations asks every member at once for the keys directly under
// dir (their last path element: ip:port) and returns the first answer.
func (v *verifier) listRegistrations(ctx context.Context, dir string, limit int) ([]string, error) {
	e := v.c.Etcd
	members := v.c.Members()
	if len(members) == 0 {
		return nil, errors.New("no etcd member in the description")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		keys []string
		err  error
	}
	results := make(chan result, len(members))
	for _, m := range members {
		go func() {
			u := endpoint(e.TLS, m.IP, e.ClientPort, "/v2/keys"+dir+"?quorum=true")
			keys, err := v.readListing(ctx, u, dir, limit)
			results <- result{keys, err}
		}()
	}
	var errs []string
	for range members {
		r := <-results
		if r.err == nil {
			return r.keys, nil
		}
		errs = append(errs, r.err.Error())
	}
	sort.Strings(errs) // the order members failed in is the scheduler's
	return nil, fmt.Errorf("no etcd member answers: %s", strings.Join(errs, "; "))
}

// readListing reads one member's listing of dir.
func (v *verifier) readListing(ctx context.Context, u, dir string, limit int) ([]string, error) {
	var listing struct {
		ErrorCode int `json:"errorCode"`
		Node      struct {
			Key   string `json:"key"`
			Dir   bool   `json:"dir"`
			Nodes []struct {
				Key string `json:"key"`
				Dir bool   `json:"dir"`
			} `json:"nodes"`
		} `json:"node"`
	}
	a, err := v.f.getJSON(ctx, u, limit, &listing, http.StatusOK, http.StatusNotFound)
	switch {
	case err != nil:
		return nil, err
	case a.status == http.StatusNotFound && listing.ErrorCode == 100: // key not found: nothing registered yet
		return nil, nil
	case a.status == http.StatusNotFound:
		return nil, fmt.Errorf("%s: HTTP 404 without etcd's key-not-found error (100): not etcd's v2 API (ETCD_ENABLE_V2=true?)", u)
	case listing.Node.Key != dir || !listing.Node.Dir:
		return nil, fmt.Errorf("%s: answers for %s, not the directory %s", u, quote(listing.Node.Key), dir)
	}
	var keys []string
	for _, k := range listing.Node.Nodes {
		if rest, ok := strings.CutPrefix(k.Key, dir+"/"); ok && !k.Dir && rest != "" && !strings.Contains(rest, "/") {
			keys = append(keys, rest)
		} else {
			return nil, fmt.Errorf("%s: lists %s, which is not a key directly under %s", u, quote(k.Key), dir)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// quoteAll quotes each string from the network.
func quoteAll(ss []string) string {
	q := make([]string, 0, len(ss))
	for _, s := range ss {
		q = append(q, quote(s))
	}
	return "[" + list8(q) + "]"
}

// list8 joins at most 8 items, and says how many more there are.
func list8(items []string) string {
	if len(items) <= 8 {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:8], ", "), len(items)-8)
}
