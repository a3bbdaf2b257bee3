package cluster

import (
	"strings"
	"testing"
)

// TestTLSBoundaries pins the edges of the TLS rules, where a plausible
// slip (a prefix check for "..", > for >=, a node's SANs left unchecked)
// would let a bad description through.
func TestTLSBoundaries(t *testing.T) {
	for _, tc := range []struct{ name, tls, node, path, want string }{
		{"dotdot after a folder", "tls: {dir: a/../../x}\n", "", "$.tls.dir", "no .."},
		{"dotdot at the end", "tls: {dir: pki/..}\n", "", "$.tls.dir", "no .."},
		{"renew when issued", "tls: {validity: 24h, renew_before: 24h}\n", "", "$.tls.renew_before", "must be shorter than validity"},
		{"node SAN not a name", "", ", sans: [\"not a name\"]", "$.nodes[1].sans[0]", "neither an IP address nor a DNS name"},
		{"node SAN zoned", "", ", sans: [b.example.com, \"fe80::1%eth0\"]", "$.nodes[1].sans[1]", "without the zone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			desc := strings.Replace(base, "swarm: {manager: {port: 8333}}\n", "swarm: {manager: {port: 8333}}\n"+tc.tls, 1)
			desc = strings.Replace(desc, "roles: [etcd, docker]}\n  - {name: c", "roles: [etcd, docker]"+tc.node+"}\n  - {name: c", 1)
			_, rep := Load("tls.yaml", []byte(desc))
			if !rep.IsFatal(false) || !strings.Contains(rep.String(), "error at "+tc.path+": ") || !strings.Contains(rep.String(), tc.want) {
				t.Errorf("want an error at %s with %q:\n%s", tc.path, tc.want, rep)
			}
		})
	}
	// The same rules pass what they should.
	for _, ok := range []string{"tls: {dir: a/..b/c}\n", "tls: {validity: 24h, renew_before: 23h59m}\n"} {
		desc := strings.Replace(base, "swarm: {manager: {port: 8333}}\n", "swarm: {manager: {port: 8333}}\n"+ok, 1)
		if _, rep := Load("tls.yaml", []byte(desc)); rep.IsFatal(false) {
			t.Errorf("%q refused:\n%s", ok, rep)
		}
	}
}
