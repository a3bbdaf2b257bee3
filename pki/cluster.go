package pki

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
)

// Dir is the cluster's PKI directory: override when given, else tls.dir
// taken from the description's folder (the working directory for stdin).
func Dir(c *cluster.Cluster, override string) string {
	if override != "" {
		return override
	}
	if filepath.IsAbs(c.TLS.Dir) || c.File == "" || c.File == "<stdin>" {
		return c.TLS.Dir
	}
	return filepath.Join(filepath.Dir(c.File), c.TLS.Dir)
}

// SettingsOf are the description's validity and rotation rules.
func SettingsOf(c *cluster.Cluster, now time.Time) Settings {
	return Settings{Validity: c.TLS.Validity, RenewBefore: c.TLS.RenewBefore, Now: now}
}

// Requests are the certificates the cluster's nodes need: each node's IP
// and name, and the extra SANs of the cluster and the node.
func Requests(c *cluster.Cluster) []Request {
	reqs := make([]Request, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		r := Request{Name: n.Name, IPs: []netip.Addr{n.IP}}
		for _, san := range append(append([]string(nil), c.TLS.SANs...), n.SANs...) {
			if ip, err := netip.ParseAddr(san); err == nil {
				r.IPs = append(r.IPs, ip)
			} else {
				r.DNS = append(r.DNS, san)
			}
		}
		reqs = append(reqs, r)
	}
	return reqs
}

// PlanCluster plans a render's PKI for c in t: what to reuse and what to
// issue, in memory, with client/env as it should read. The caller commits
// it once the render has succeeded.
func PlanCluster(t *Tx, c *cluster.Cluster, now time.Time, o PlanOptions) (*Prepared, error) {
	if !c.UsesTLS() {
		return &Prepared{Dir: t.Dir(), tx: t}, nil
	}
	env, err := envFile(c, t.Dir())
	if err != nil {
		return nil, err
	}
	o.Name, o.Env = c.Name, env
	return t.Plan(Requests(c), SettingsOf(c, now), o)
}

// Prepare is Begin and PlanCluster in one step, for callers that hold the
// PKI for nothing else (tools, tests): the lock is held until Commit,
// which lets go of it. With readOnly it reads the folder as it is (Load):
// a missing CA or anything to issue is an error, and Commit does nothing.
func Prepare(c *cluster.Cluster, dir string, now time.Time, readOnly bool) (*Prepared, error) {
	if readOnly {
		m, err := Load(c, dir, now)
		return &Prepared{Dir: dir, Material: m}, err
	}
	t, err := Begin(dir, nil)
	if err != nil {
		return nil, err
	}
	p, err := PlanCluster(t, c, now, PlanOptions{CA: MakeCA})
	if err != nil {
		t.Close()
		return nil, err
	}
	p.closeTx = true
	return p, nil
}

// Load is every node's material for a check that writes nothing
// (validate): from dir as it is. A missing CA wraps ErrNoCA, anything
// to issue ErrWouldIssue.
func Load(c *cluster.Cluster, dir string, now time.Time) (map[string]Material, error) {
	s, slots, unlock, err := assessNodes(c, dir, now)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := make(map[string]Material, len(slots))
	var todo []*slot
	for i := range slots {
		sl := &slots[i]
		if decide(sl, PlanOptions{}, false); sl.kind.fresh() {
			todo = append(todo, sl)
			continue
		}
		if out[sl.name], err = sl.have.material(s.caPEM); err != nil {
			return nil, err
		}
	}
	if len(todo) > 0 {
		return nil, fmt.Errorf("%w for %s", ErrWouldIssue, listSlots(todo))
	}
	return out, nil
}

// assessNodes reads dir under the shared lock and assesses what it holds
// for each node of c (the operator's own certificate left out), for the
// readers that write nothing. unlock releases the lock.
func assessNodes(c *cluster.Cluster, dir string, now time.Time) (*Store, []slot, func(), error) {
	s, unlock, err := readStore(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	slots, err := assess(c, s, now)
	if err != nil {
		unlock()
		return nil, nil, nil, err
	}
	return s, slots, unlock, nil
}

func assess(c *cluster.Cluster, s *Store, now time.Time) ([]slot, error) {
	set, err := SettingsOf(c, now).norm()
	if err != nil {
		return nil, err
	}
	if err := s.usable(set.Now); err != nil {
		return nil, err
	}
	slots, err := newSlots(Requests(c))
	if err != nil {
		return nil, err
	}
	slots = slots[:len(slots)-1] // the operator's own is not a node's
	return slots, s.assess(slots, set, true)
}

// envFile is client/env, which the operator sources for the docker CLI
// (the swarm manager) and etcdctl.
func envFile(c *cluster.Cluster, dir string) ([]byte, error) {
	abs, err := filepath.Abs(filepath.Join(dir, "client"))
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# swarmboot: the operator's environment for cluster %s. Source it:\n#   . %s\n", c.Name, filepath.Join(dir, "client", "env"))
	for i, m := range c.Managers() {
		host := "tcp://" + netip.AddrPortFrom(m.IP, uint16(c.Swarm.Manager.Port)).String()
		if i > 0 { // replicas: any of them serves the swarm's API
			fmt.Fprintf(&b, "# or DOCKER_HOST=%s (%s)\n", shellQuote(host), m.Name)
			continue
		}
		fmt.Fprintf(&b, "export DOCKER_HOST=%s\n", shellQuote(host))
		if c.Docker.TLS {
			fmt.Fprintf(&b, "export DOCKER_TLS_VERIFY=1\nexport DOCKER_CERT_PATH=%s\n", shellQuote(abs))
		}
	}
	var eps []string
	scheme := "http://"
	if c.Etcd.TLS {
		scheme = "https://"
	}
	for _, m := range c.Members() {
		eps = append(eps, scheme+netip.AddrPortFrom(m.IP, uint16(c.Etcd.ClientPort)).String())
	}
	if len(eps) > 0 {
		fmt.Fprintf(&b, "export ETCDCTL_ENDPOINTS=%s\n", shellQuote(strings.Join(eps, ",")))
		if c.Etcd.TLS {
			// etcdctl v3 reads the first three, its v2 API mode the others.
			for _, kv := range [][2]string{
				{"ETCDCTL_CACERT", "ca.pem"}, {"ETCDCTL_CERT", "cert.pem"}, {"ETCDCTL_KEY", "key.pem"},
				{"ETCDCTL_CA_FILE", "ca.pem"}, {"ETCDCTL_CERT_FILE", "cert.pem"}, {"ETCDCTL_KEY_FILE", "key.pem"},
			} {
				fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(filepath.Join(abs, kv[1])))
			}
		}
	}
	return []byte(b.String()), nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-:,=@+[]", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// StandIns are placeholder material for every node, for checks that build
// configs before anything is issued (validate); they are not certificates.
func StandIns(c *cluster.Cluster) map[string]Material {
	m := make(map[string]Material, len(c.Nodes))
	for _, n := range c.Nodes {
		m[n.Name] = Material{
			CA:   []byte("(the cluster CA, issued by swarmboot render)\n"),
			Cert: []byte("(" + n.Name + "'s certificate, issued by swarmboot render)\n"),
			Key:  []byte("(" + n.Name + "'s key, issued by swarmboot render)\n"),
		}
	}
	return m
}
