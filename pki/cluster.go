package pki

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
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

// Prepared is the PKI of one render: every node's material, made in
// memory; Commit stores what is new.
type Prepared struct {
	Dir      string
	Created  bool // a new CA: the first render of the cluster
	Changes  []Change
	Material map[string]Material // by node name
	Env      string              // the operator's environment file (written by Commit)
	commit   func() error
}

// Commit stores the new CA and certificates and writes the operator's
// environment. A render commits only once it has succeeded, so a failed
// render leaves the PKI as it was.
func (p *Prepared) Commit() error {
	if p.commit == nil {
		return nil
	}
	err := p.commit()
	p.commit = nil
	return err
}

// Prepare gets every node's material for a render: from dir's CA, or from
// a new one when dir has none yet (the first render); what is missing or
// stale is issued, the rest reused byte for byte. Nothing is written until
// Commit. With readOnly, a missing CA or anything to issue is an error.
func Prepare(c *cluster.Cluster, dir string, now time.Time, readOnly bool) (*Prepared, error) {
	out := &Prepared{Dir: dir}
	if !c.UsesTLS() {
		return out, nil
	}
	set := SettingsOf(c, now)
	s, err := Open(dir)
	if errors.Is(err, ErrNoCA) && !readOnly {
		out.Created = true
		s, err = Create(dir, c.Name, set)
	}
	if err != nil {
		return nil, err
	}
	if readOnly {
		out.Material, out.Changes, err = s.Ensure(Requests(c), set, true)
		return out, err
	}
	iss, err := s.Pending(Requests(c), set)
	if err != nil {
		return nil, err
	}
	out.Material, out.Changes = iss.Material, iss.Changes
	out.Env = filepath.Join(dir, "client", "env")
	out.commit = func() error {
		if err := iss.Commit(); err != nil {
			return err
		}
		return writeEnv(c, dir)
	}
	return out, nil
}

// writeEnv writes client/env, which the operator sources for the docker
// CLI (the swarm manager) and etcdctl; rewritten only when it changes.
func writeEnv(c *cluster.Cluster, dir string) error {
	abs, err := filepath.Abs(filepath.Join(dir, "client"))
	if err != nil {
		return err
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
	path := filepath.Join(dir, "client", "env")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, []byte(b.String())) {
		return nil
	}
	return writeAtomic(path, []byte(b.String()), 0o600)
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
