package cluster

import (
	"fmt"
	"strings"
	"testing"
)

// TestHasNodeIsBrief: an unknown name gets the likely one, or the first
// few names; a huge cluster's message stays short.
func TestHasNodeIsBrief(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\ncluster: big\nnodes:\n  - {name: etcd, ip: 10.0.0.1, roles: [etcd, manager]}\n")
	for i := range 20000 {
		fmt.Fprintf(&b, "  - {name: n%05d, ip: 10.%d.%d.%d, roles: [docker]}\n", i, 1+i/62500, i/250%250, 1+i%250)
	}
	c, rep := Load("big.yaml", []byte(b.String()))
	if rep.IsFatal(false) {
		t.Fatal(rep)
	}
	err := c.HasNode("gateway")
	if err == nil || len(err.Error()) > 300 || !strings.HasSuffix(err.Error(), "n00008 and 19991 more") {
		t.Errorf("unknown node in 20,000: %d bytes: %.300v", len(err.Error()), err)
	}
	if err := c.HasNode("n0007"); err == nil || !strings.Contains(err.Error(), `did you mean "n00007"?`) {
		t.Errorf("near miss: %v", err)
	}
	if err := c.HasNode("n12345"); err != nil {
		t.Errorf("a node it has: %v", err)
	}
	if _, err := c.Select("n00001,,n00002"); err == nil || !strings.Contains(err.Error(), "an empty name") {
		t.Errorf("empty name in a selector: %v", err)
	}
}
