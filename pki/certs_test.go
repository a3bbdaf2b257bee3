package pki

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
)

func loadCluster(t *testing.T, text string) *cluster.Cluster {
	t.Helper()
	c, rep := cluster.Load("c.yaml", []byte(text))
	if err := rep.Err(false); err != nil {
		t.Fatal(err)
	}
	return c
}

const certsCluster = `version: 1
cluster: c
nodes:
  - {name: a, ip: 10.0.0.1, roles: [etcd, docker, manager]}
  - {name: b, ip: 10.0.0.2, roles: [etcd]}
  - {name: c, ip: 10.0.0.3, roles: [etcd]}
`

// NodeCerts hands on what the PKI holds for each node, byte for byte,
// when it can reach the node; otherwise it says why and what to do.
func TestNodeCerts(t *testing.T) {
	c := loadCluster(t, certsCluster)
	dir := filepath.Join(t.TempDir(), "pki")
	p, err := Prepare(c, dir, t0, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	certs, err := NodeCerts(c, dir, t0)
	if err != nil || len(certs) != 3 {
		t.Fatalf("%v %v", certs, err)
	}
	for _, nc := range certs {
		stored := mustRead(t, filepath.Join(dir, "nodes", nc.Node, "cert.pem"))
		if nc.Problem != "" || nc.State != OK || string(nc.PEM) != string(stored) || !nc.NotAfter.Equal(mustCert(t, stored).NotAfter) {
			t.Errorf("%+v", nc)
		}
	}
	// b moved (still its current certificate: handed on), c lost its
	// certificate (nothing to hand on), and later all have expired.
	moved := loadCluster(t, strings.Replace(certsCluster, "10.0.0.2", "10.0.0.9", 1))
	os.Remove(filepath.Join(dir, "nodes", "c", "cert.pem"))
	certs, err = NodeCerts(moved, dir, t0)
	if err != nil {
		t.Fatal(err)
	}
	if b := certs[1]; b.State != SANsStale || b.Problem != "" || b.PEM == nil {
		t.Errorf("moved: %+v", b)
	}
	if cc := certs[2]; cc.PEM != nil || !strings.Contains(cc.Problem, "`swarmboot render c.yaml` issues it") {
		t.Errorf("missing: %+v", cc)
	}
	certs, err = NodeCerts(c, dir, certs[0].NotAfter.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if a := certs[0]; a.State != Expired || !strings.Contains(a.Problem, "`swarmboot pki renew c.yaml` renews it") {
		t.Errorf("expired: %+v", a)
	}
}
