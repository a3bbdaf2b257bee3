package verifytest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/verify"
)

// Service is one of a node's endpoints.
type Service int

const (
	Etcd    Service = iota // the etcd member's client URL
	Engine                 // the Docker engine
	Manager                // the swarm manager
)

func (s Service) String() string { return [...]string{"etcd", "engine", "manager"}[s] }

// Mode is how a service's address behaves when verify connects.
type Mode int

const (
	Up        Mode = iota
	Refused        // nothing listens: the connection is refused
	BlackHole      // nothing answers: the dial hangs until the request gives up
)

// Member is what a fake etcd member answers.
type Member struct {
	Health     string // /health's "health"
	HealthCode int    // /health's status
	// List replaces the member list it answers (nil: every member of the
	// description, by name, with its peer URL).
	List []Listed
	// Partitioned: cut off from the others. A quorum read hangs until
	// the request gives up; a plain read answers Stale, what it last saw.
	Partitioned bool
	Stale       []string
	// Lag holds its answers this long (or until the request gives up).
	Lag time.Duration
}

// Listed is one entry of etcd's member list.
type Listed struct {
	Name     string   `json:"name"`
	PeerURLs []string `json:"peerURLs"`
}

// Version is what a fake Docker engine answers on /version.
type Version struct{ Version, APIVersion, MinAPIVersion string }

// Info is what a fake swarm manager answers on /info.
type Info struct {
	Role string // "primary", "replica"
	// Status is the └ Status it lists for a Docker host, by node name
	// (absent: Healthy; "-": the host is not listed).
	Status map[string]string
}

// State is what every fake service answers, by node name.
type State struct {
	Members  map[string]*Member
	Engines  map[string]*Version
	Managers map[string]*Info
}

// Fake is a description's cluster served on loopback.
type Fake struct {
	C *cluster.Cluster
	// CA signs every certificate (nil: the cluster has no TLS); Client
	// is the operator's, PKI the certificate each node's PKI entry holds.
	CA     *CA
	Client *verify.Client
	PKI    map[string]Leaf
	// Delay holds every answer this long (or until the request gives up).
	Delay time.Duration

	mu       sync.Mutex
	state    State
	keys     map[string]bool     // registered ip:port
	services map[string]*service // by the description's ip:port

	active, peak   atomic.Int64 // answers being made
	holes, peakHol atomic.Int64 // dials held in a black hole
}

type service struct {
	node    string
	kind    Service
	loop    string // the loopback address it listens on
	mode    Mode
	handler http.Handler // nil: the fake's own
	cert    tls.Certificate
}

// New serves c on loopback: every member healthy, every engine Docker
// 29.1.3 with floor 1.24, the first manager primary and the others
// replicas, each listing every Docker host Healthy; nothing registered.
// With TLS every node serves a certificate from a fresh CA, valid a year,
// which is also what its PKI entry holds.
func New(t testing.TB, c *cluster.Cluster) *Fake {
	t.Helper()
	f := &Fake{C: c, state: State{Members: map[string]*Member{}, Engines: map[string]*Version{}, Managers: map[string]*Info{}},
		keys: map[string]bool{}, services: map[string]*service{}, PKI: map[string]Leaf{}}
	now := time.Now()
	if c.UsesTLS() {
		f.CA = NewCA(c.Name+" test CA", now)
		client := f.CA.Issue("operator", nil, now.Add(-time.Hour), now.Add(365*24*time.Hour), nil, true)
		var err error
		if f.Client, err = verify.NewClient(f.CA.PEM, client.CertPEM, client.KeyPEM, "pki/ca.pem", "pki/client/cert.pem"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range c.Nodes {
		n := &c.Nodes[i]
		if f.CA != nil {
			f.PKI[n.Name] = f.CA.Issue(n.Name, []netip.Addr{n.IP}, now.Add(-time.Hour), now.Add(365*24*time.Hour), nil, false)
		}
		if n.Has(cluster.RoleEtcd) {
			f.state.Members[n.Name] = &Member{Health: "true", HealthCode: http.StatusOK}
			f.listen(t, n, Etcd, c.Etcd.ClientPort, c.Etcd.TLS)
		}
		if n.Has(cluster.RoleDocker) {
			f.state.Engines[n.Name] = &Version{Version: "29.1.3", APIVersion: "1.52", MinAPIVersion: "1.24"}
			f.listen(t, n, Engine, c.Docker.Port, c.Docker.TLS)
		}
		if n.Has(cluster.RoleManager) {
			role := "replica"
			if len(f.state.Managers) == 0 {
				role = "primary"
			}
			f.state.Managers[n.Name] = &Info{Role: role, Status: map[string]string{}}
			f.listen(t, n, Manager, c.Swarm.Manager.Port, c.Docker.TLS)
		}
	}
	return f
}

// Options reach the fake cluster: through its dialer, with the
// operator's client and the PKI's certificates when it has TLS.
func (f *Fake) Options() verify.Options {
	o := verify.Options{Dial: f.Dial, Timeout: 2 * time.Second}
	if f.CA != nil {
		o.TLS = f.Client
		o.Certs = map[string]*x509.Certificate{}
		for name, l := range f.PKI {
			o.Certs[name] = l.Cert
		}
	}
	return o
}

// listen starts a node's service on a loopback port of its own.
func (f *Fake) listen(t testing.TB, n *cluster.Node, kind Service, port int, secure bool) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &service{node: n.Name, kind: kind, loop: ln.Addr().String()}
	if secure {
		s.cert = f.PKI[n.Name].TLS
		pool := x509.NewCertPool()
		pool.AddCert(f.CA.Cert)
		ln = tls.NewListener(ln, &tls.Config{
			ClientAuth: tls.RequireAndVerifyClientCert,
			ClientCAs:  pool,
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
				f.mu.Lock()
				defer f.mu.Unlock()
				c := s.cert
				return &c, nil
			},
		})
	}
	f.services[netip.AddrPortFrom(n.IP, uint16(port)).String()] = s
	srv := &http.Server{Handler: f.dispatch(s), ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// Dial reaches the description's addresses on loopback; an address no
// service has is refused.
func (f *Fake) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	f.mu.Lock()
	s := f.services[addr]
	mode := Refused
	if s != nil {
		mode = s.mode
	}
	f.mu.Unlock()
	switch mode {
	case BlackHole:
		n := f.holes.Add(1)
		for p := f.peakHol.Load(); n > p && !f.peakHol.CompareAndSwap(p, n); p = f.peakHol.Load() {
		}
		defer f.holes.Add(-1)
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
	case Refused:
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	return (&net.Dialer{}).DialContext(ctx, "tcp", s.loop)
}

// Peak is the most answers the fake made at once; PeakHoles the most
// dials it held in black holes at once, Holes how many it holds now.
func (f *Fake) Peak() int64      { return f.peak.Load() }
func (f *Fake) PeakHoles() int64 { return f.peakHol.Load() }
func (f *Fake) Holes() int64     { return f.holes.Load() }

// Change runs fn under the fake's lock, to change what it answers.
func (f *Fake) Change(fn func(*State)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.state)
}

// Register puts swarm join's key for each Docker host named (every host
// when none is).
func (f *Fake) Register(nodes ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.C.DockerHosts() {
		if len(nodes) == 0 || slices.Contains(nodes, n.Name) {
			f.keys[netip.AddrPortFrom(n.IP, uint16(f.C.Docker.Port)).String()] = true
		}
	}
}

// RegisterAddr puts a registration key for any address.
func (f *Fake) RegisterAddr(addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[addr] = true
}

// Set makes a node's service behave as mode.
func (f *Fake) Set(node string, kind Service, mode Mode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.service(node, kind).mode = mode
}

// SetAll makes every service behave as mode.
func (f *Fake) SetAll(mode Mode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.services {
		s.mode = mode
	}
}

// Handle answers a node's service with h instead of the fake's answers.
func (f *Fake) Handle(node string, kind Service, h http.Handler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.service(node, kind).handler = h
}

// Serve makes a node's service present cert in its handshakes.
func (f *Fake) Serve(node string, kind Service, cert tls.Certificate) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.service(node, kind).cert = cert
}

// Has says whether a node runs a service.
func (f *Fake) Has(node string, kind Service) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.services {
		if s.node == node && s.kind == kind {
			return true
		}
	}
	return false
}

func (f *Fake) service(node string, kind Service) *service {
	for _, s := range f.services {
		if s.node == node && s.kind == kind {
			return s
		}
	}
	panic(fmt.Sprintf("verifytest: %s has no %s", node, kind))
}

// dispatch answers one service's requests, counting them.
func (f *Fake) dispatch(s *service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.active.Add(1)
		defer f.active.Add(-1)
		for p := f.peak.Load(); n > p && !f.peak.CompareAndSwap(p, n); p = f.peak.Load() {
		}
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return
			}
		}
		f.mu.Lock()
		h := s.handler
		f.mu.Unlock()
		switch {
		case h != nil:
			h.ServeHTTP(w, r)
		case s.kind == Etcd:
			f.etcd(s.node, w, r)
		case s.kind == Engine:
			f.engine(s.node, w, r)
		default:
			f.manager(s.node, w, r)
		}
	})
}

func (f *Fake) etcd(node string, w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	m := *f.state.Members[node]
	keys := make([]string, 0, len(f.keys))
	for k := range f.keys {
		keys = append(keys, k)
	}
	f.mu.Unlock()
	slices.Sort(keys)
	select {
	case <-time.After(m.Lag):
	case <-r.Context().Done():
		return
	}
	e := f.C.Etcd
	switch {
	case r.URL.Path == "/health":
		w.WriteHeader(m.HealthCode)
		json.NewEncoder(w).Encode(map[string]string{"health": m.Health})
	case r.URL.Path == "/v2/members":
		list := m.List
		if list == nil {
			for _, n := range f.C.Members() {
				list = append(list, Listed{Name: n.Name, PeerURLs: []string{url(e.TLS, n.IP, e.PeerPort)}})
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"members": list})
	case strings.HasPrefix(r.URL.Path, "/v2/keys/"):
		if m.Partitioned {
			if r.URL.Query().Get("quorum") == "true" {
				<-r.Context().Done()
				return
			}
			keys = m.Stale
		}
		dir := strings.TrimPrefix(r.URL.Path, "/v2/keys")
		if dir != path.Join("/", f.C.Swarm.Path, "docker/swarm/nodes") || len(keys) == 0 {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"errorCode":100,"message":"Key not found","cause":%q,"index":12}`+"\n", dir)
			return
		}
		WriteListing(w, dir, keys)
	default:
		http.NotFound(w, r)
	}
}

// WriteListing answers as etcd's v2 API lists dir holding keys.
func WriteListing(w io.Writer, dir string, keys []string) {
	nodes := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		nodes = append(nodes, map[string]any{"key": dir + "/" + k, "value": k, "expiration": "2026-12-06T10:01:00Z", "ttl": 60, "modifiedIndex": 7, "createdIndex": 7})
	}
	json.NewEncoder(w).Encode(map[string]any{"action": "get", "node": map[string]any{"key": dir, "dir": true, "nodes": nodes, "modifiedIndex": 5, "createdIndex": 5}})
}

func (f *Fake) engine(node string, w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	e := *f.state.Engines[node]
	f.mu.Unlock()
	if r.URL.Path != "/version" {
		http.NotFound(w, r)
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"Version": e.Version, "ApiVersion": e.APIVersion, "MinAPIVersion": e.MinAPIVersion, "Os": "linux", "Arch": "amd64"})
}

func (f *Fake) manager(node string, w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/info" {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	m := f.state.Managers[node]
	pairs := [][2]string{{"Role", m.Role}, {"Strategy", "spread"}, {"Filters", "health, port, containerslots, dependency, affinity, constraint, whitelist"}}
	var listed [][2]string
	count := 0
	for _, h := range f.C.DockerHosts() {
		st, ok := m.Status[h.Name]
		if !ok {
			st = "Healthy"
		}
		if st == "-" {
			continue
		}
		count++
		listed = append(listed, EngineLines(h.Name, netip.AddrPortFrom(h.IP, uint16(f.C.Docker.Port)).String(), st)...)
	}
	f.mu.Unlock()
	pairs = append(append(pairs, [2]string{"Nodes", fmt.Sprint(count)}), listed...)
	json.NewEncoder(w).Encode(map[string]any{"ServerVersion": "swarm/1.2.9", "Containers": 0, "SystemStatus": pairs})
}

// EngineLines are the lines classic swarm 1.2.9's /info gives one engine.
func EngineLines(name, addr, status string) [][2]string {
	return [][2]string{
		{" " + name, addr},
		{"  └ ID", "QWERTY:ABCD:EFGH:IJKL:MNOP:QRST:UVWX:YZ01:2345:6789:ABCD:EFGH"},
		{"  └ Status", status},
		{"  └ Containers", "2 (2 Running, 0 Paused, 0 Stopped)"},
		{"  └ Reserved CPUs", "0 / 2"},
		{"  └ Reserved Memory", "0 B / 2.052 GiB"},
		{"  └ Labels", "kernelversion=6.1.0-28-cloud-amd64, operatingsystem=Debian GNU/Linux 12 (bookworm), ostype=linux, storagedriver=overlay2"},
		{"  └ UpdatedAt", "2026-12-06T10:00:00Z"},
		{"  └ ServerVersion", "29.1.3"},
		{"  └ Error", "(none)"},
	}
}

func url(secure bool, ip netip.Addr, port int) string {
	scheme := "http://"
	if secure {
		scheme = "https://"
	}
	return scheme + netip.AddrPortFrom(ip, uint16(port)).String()
}

// Load loads a description written in a test, failing the test on any
// error.
func Load(t testing.TB, yaml string) *cluster.Cluster {
	t.Helper()
	c, rep := cluster.Load("test.yaml", []byte(yaml))
	if err := rep.Err(false); err != nil {
		t.Fatalf("the test's description: %v", err)
	}
	return c
}
