// Package verify checks a running cluster against its description, from
// wherever the operator sits: every etcd member healthy and listed with
// the peer URL the description gives it, every engine answering with an
// API floor classic swarm can use, one registration per Docker host and
// no strangers, and every manager listing every engine Healthy, with
// exactly one primary among them. It speaks TLS with the operator's
// certificate when the cluster uses TLS.
package verify

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"path"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
)

// Check is one finding: a node's (or the cluster's) aspect, and whether it
// holds, with what was seen or why not.
type Check struct {
	Node   string `json:"node"`
	What   string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Report is every check of one pass, in description order.
type Report struct {
	Checks  []Check `json:"checks"`
	Healthy bool    `json:"healthy"`
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

// Options are how to reach the cluster.
type Options struct {
	// TLS is the operator's client configuration (pki's client/ files);
	// nil for a cluster without TLS.
	TLS *tls.Config
	// Explain turns a TLS error into what to fix (which file); nil keeps
	// the error as it is.
	Explain func(error) string
	// Timeout bounds each request (default 5 s).
	Timeout time.Duration
	// Dial reaches an address (nil: directly). Tests map the
	// description's addresses onto loopback with it.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// swarmAPI is the Docker API version classic swarm 1.2.9 speaks to engines.
const swarmAPI = "1.31"

// Run checks the cluster once. Requests go out in parallel; the report's
// order is the description's, whatever answers first.
func Run(ctx context.Context, c *cluster.Cluster, o Options) *Report {
	v := &verifier{c: c, o: o, client: newClient(o)}
	var steps []func() []Check
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if n.Has(cluster.RoleEtcd) {
			steps = append(steps, func() []Check { return []Check{v.member(ctx, n)} })
		}
		if n.Has(cluster.RoleDocker) {
			steps = append(steps, func() []Check { return []Check{v.engine(ctx, n)} })
		}
		if n.Has(cluster.RoleManager) {
			steps = append(steps, func() []Check { return []Check{v.manager(ctx, n)} })
		}
	}
	steps = append(steps, func() []Check { return v.registrations(ctx) })
	groups := make([][]Check, len(steps))
	var wg sync.WaitGroup
	for i, step := range steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			groups[i] = step()
		}()
	}
	wg.Wait()
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
	for _, ch := range r.Checks {
		r.Healthy = r.Healthy && ch.OK
	}
	return r
}

type verifier struct {
	c      *cluster.Cluster
	o      Options
	client *http.Client

	mu    sync.Mutex
	roles map[string]string // manager node -> primary or replica, as it says
}

func newClient(o Options) *http.Client {
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	return &http.Client{
		Timeout: timeout,
		// No proxy: the operator's environment must not reroute the
		// cluster's own addresses.
		Transport: &http.Transport{TLSClientConfig: o.TLS, Proxy: nil, DisableKeepAlives: true, DialContext: o.Dial},
	}
}

// url is a node's endpoint, https when that service uses TLS.
func url(secure bool, ip netip.Addr, port int, p string) string {
	scheme := "http://"
	if secure {
		scheme = "https://"
	}
	return scheme + netip.AddrPortFrom(ip, uint16(port)).String() + p
}

// getJSON fetches u and decodes its JSON body into v.
func (v *verifier) getJSON(ctx context.Context, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return v.explain(u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusNotFound {
		return fmt.Errorf("%s: %s: %.120s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: not the expected answer: %.120s", u, strings.TrimSpace(string(body)))
	}
	return nil
}

// explain says what a failed request means: no answer, nothing
// listening, or (through Options.Explain) which TLS file to fix.
func (v *verifier) explain(u string, err error) error {
	var ne net.Error
	switch {
	case v.o.Explain != nil && v.o.Explain(err) != "":
		return fmt.Errorf("%s: %v (%s)", u, err, v.o.Explain(err))
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%s: no answer within %s (node down, or a firewall)", u, v.client.Timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%s: connection refused (the node is up; its service is not listening)", u)
	}
	return err
}

// member: the etcd member answers /health and the cluster lists it with
// the peer URL the description gives it.
func (v *verifier) member(ctx context.Context, n *cluster.Node) Check {
	ch := Check{Node: n.Name, What: "etcd member"}
	e := v.c.Etcd
	var health struct {
		Health string `json:"health"`
	}
	if err := v.getJSON(ctx, url(e.TLS, n.IP, e.ClientPort, "/health"), &health); err != nil {
		ch.Detail = err.Error()
		return ch
	}
	if health.Health != "true" {
		ch.Detail = fmt.Sprintf("unhealthy (/health says %q): no quorum, or a failed disk", health.Health)
		return ch
	}
	var list struct {
		Members []struct {
			Name       string   `json:"name"`
			PeerURLs   []string `json:"peerURLs"`
			ClientURLs []string `json:"clientURLs"`
		} `json:"members"`
	}
	if err := v.getJSON(ctx, url(e.TLS, n.IP, e.ClientPort, "/v2/members"), &list); err != nil {
		ch.Detail = err.Error()
		return ch
	}
	want := url(e.TLS, n.IP, e.PeerPort, "")
	for _, m := range list.Members {
		if m.Name != n.Name {
			continue
		}
		if len(m.PeerURLs) != 1 || m.PeerURLs[0] != want {
			ch.Detail = fmt.Sprintf("listed with peer URLs %v, want %s", m.PeerURLs, want)
			return ch
		}
		ch.OK, ch.Detail = true, fmt.Sprintf("healthy, %d members, peer %s", len(list.Members), want)
		return ch
	}
	ch.Detail = fmt.Sprintf("answers but is not among the cluster's %d members", len(list.Members))
	return ch
}

// engine: the Docker engine answers /version and serves API 1.31, which
// classic swarm pins (Docker 29 refuses it unless its floor is lowered).
func (v *verifier) engine(ctx context.Context, n *cluster.Node) Check {
	ch := Check{Node: n.Name, What: "engine"}
	var ver struct {
		Version       string `json:"Version"`
		APIVersion    string `json:"ApiVersion"`
		MinAPIVersion string `json:"MinAPIVersion"`
	}
	if err := v.getJSON(ctx, url(v.c.Docker.TLS, n.IP, v.c.Docker.Port, "/version"), &ver); err != nil {
		ch.Detail = err.Error()
		return ch
	}
	if ver.Version == "" {
		ch.Detail = "answers /version, but not as a Docker engine"
		return ch
	}
	floor := ver.MinAPIVersion
	if floor == "" {
		floor = "1.12" // engines before 1.24 did not say; they served every older version
	}
	ch.Detail = fmt.Sprintf("Docker %s, API %s, floor %s", ver.Version, ver.APIVersion, floor)
	if apiLess(swarmAPI, floor) {
		ch.Detail += fmt.Sprintf(": refuses classic swarm's API %s, so the manager keeps it Pending; the engine needs DOCKER_MIN_API_VERSION (swarmboot's 20-swarmboot-api.conf drop-in)", swarmAPI)
		return ch
	}
	ch.OK = true
	return ch
}

// apiLess compares Docker API versions "1.N".
func apiLess(a, b string) bool {
	var am, an, bm, bn int
	fmt.Sscanf(a, "%d.%d", &am, &an)
	fmt.Sscanf(b, "%d.%d", &bm, &bn)
	return am < bm || am == bm && an < bn
}

// registrations: exactly one key per Docker host under the swarm path,
// and no strangers, read from any etcd member that answers.
func (v *verifier) registrations(ctx context.Context) []Check {
	e := v.c.Etcd
	key := path.Join("/v2/keys", v.c.Swarm.Path, "docker/swarm/nodes")
	var listing struct {
		ErrorCode int `json:"errorCode"`
		Node      struct {
			Nodes []struct {
				Key string `json:"key"`
			} `json:"nodes"`
		} `json:"node"`
	}
	var err error
	for _, m := range v.c.Members() {
		if err = v.getJSON(ctx, url(e.TLS, m.IP, e.ClientPort, key), &listing); err == nil {
			break
		}
	}
	var out []Check
	hosts := v.c.DockerHosts()
	if err != nil {
		for _, n := range hosts {
			out = append(out, Check{Node: n.Name, What: "registration", Detail: "no etcd member answers: " + err.Error()})
		}
		return out
	}
	seen := map[string]bool{}
	for _, k := range listing.Node.Nodes {
		seen[path.Base(k.Key)] = true
	}
	for _, n := range hosts {
		addr := netip.AddrPortFrom(n.IP, uint16(v.c.Docker.Port)).String()
		ch := Check{Node: n.Name, What: "registration", OK: seen[addr]}
		ch.Detail = addr + " in " + path.Join(v.c.Swarm.Path, "docker/swarm/nodes")
		if !ch.OK {
			ch.Detail = addr + " is not registered: is swarm-join running on the node, and can it reach etcd?"
		}
		delete(seen, addr)
		out = append(out, ch)
	}
	strangers := make([]string, 0, len(seen))
	for addr := range seen {
		strangers = append(strangers, addr)
	}
	sort.Strings(strangers)
	ch := Check{Node: "cluster", What: "registrations", OK: len(strangers) == 0}
	ch.Detail = fmt.Sprintf("%d, no strangers", len(listing.Node.Nodes))
	if !ch.OK {
		ch.Detail = fmt.Sprintf("registered but not in the description: %s (an old node, or another cluster on this path)", strings.Join(strangers, ", "))
	}
	return append(out, ch)
}

// manager: the manager answers /info, lists every Docker host Healthy,
// and says whether it is the primary.
func (v *verifier) manager(ctx context.Context, n *cluster.Node) Check {
	ch := Check{Node: n.Name, What: "manager"}
	var info struct {
		SystemStatus [][2]string
		DriverStatus [][2]string
	}
	if err := v.getJSON(ctx, url(v.c.Docker.TLS, n.IP, v.c.Swarm.Manager.Port, "/info"), &info); err != nil {
		ch.Detail = err.Error()
		return ch
	}
	status := info.SystemStatus
	if len(status) == 0 {
		status = info.DriverStatus
	}
	role, engines := parseStatus(status)
	v.mu.Lock()
	if v.roles == nil {
		v.roles = map[string]string{}
	}
	v.roles[n.Name] = role
	v.mu.Unlock()
	var bad []string
	for _, h := range v.c.DockerHosts() {
		addr := netip.AddrPortFrom(h.IP, uint16(v.c.Docker.Port)).String()
		switch st, ok := engines[addr]; {
		case !ok:
			bad = append(bad, h.Name+" missing")
		case st.status != "Healthy":
			why := h.Name + " " + st.status
			if st.err != "" {
				why += " (" + st.err + ")"
			}
			bad = append(bad, why)
		}
	}
	if len(bad) > 0 {
		ch.Detail = fmt.Sprintf("%s; %s", role, strings.Join(bad, ", "))
		return ch
	}
	ch.OK, ch.Detail = true, fmt.Sprintf("%s; %d of %d engines Healthy", role, len(v.c.DockerHosts()), len(engines))
	return ch
}

type engineStatus struct{ status, err string }

// parseStatus reads swarm's /info SystemStatus: ["Role", "primary"], then
// " name" / "ip:port" opening each engine, followed by "  └ Status".
func parseStatus(pairs [][2]string) (role string, engines map[string]engineStatus) {
	engines = map[string]engineStatus{}
	role = "primary" // a manager without --replication says nothing else
	var addr string
	for _, kv := range pairs {
		label, value := kv[0], kv[1]
		trimmed := strings.TrimSpace(label)
		switch {
		case label == "Role":
			role = value
		case strings.HasPrefix(label, " ") && !strings.Contains(label, "└") && strings.Contains(value, ":"):
			addr = value
			engines[addr] = engineStatus{}
		case addr != "" && strings.Contains(label, "└") && trimmed == "└ Status":
			e := engines[addr]
			e.status = value
			engines[addr] = e
		case addr != "" && strings.Contains(label, "└") && trimmed == "└ Error":
			e := engines[addr]
			e.err = value
			engines[addr] = e
		}
	}
	return role, engines
}

// primaries: exactly one manager is primary (only one checked: none to
// elect).
func (v *verifier) primaries() Check {
	ch := Check{Node: "cluster", What: "managers"}
	managers := v.c.Managers()
	if len(managers) == 0 {
		ch.OK, ch.Detail = true, "none in the description"
		return ch
	}
	var primary, silent []string
	for _, m := range managers {
		switch role, ok := v.roles[m.Name]; {
		case !ok:
			silent = append(silent, m.Name)
		case role == "primary":
			primary = append(primary, m.Name)
		}
	}
	switch {
	case len(primary) == 1:
		ch.OK, ch.Detail = true, fmt.Sprintf("one primary (%s) of %d", primary[0], len(managers))
		if len(silent) > 0 {
			ch.Detail += "; not answering: " + strings.Join(silent, ", ")
		}
	case len(primary) == 0:
		ch.Detail = "no primary among the managers that answer"
	default:
		ch.Detail = "several primaries: " + strings.Join(primary, ", ") + " (replicas must share one etcd and one path)"
	}
	return ch
}
