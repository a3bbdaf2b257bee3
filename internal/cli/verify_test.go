package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestVerifyUnreachable: a cluster that is not there is unhealthy (exit
// 1), with a ✗ and the reason on every row; -o json says the same to
// scripts; bad flags are usage errors.
func TestVerifyUnreachable(t *testing.T) {
	// 192.0.2.0/24 (TEST-NET-1) is never routed: every request fails.
	desc := strings.ReplaceAll(mustRead(t, seedPath(t)), "192.168.101.", "192.0.2.")
	code, out, errOut := runCLI(t, desc, "verify", "-", "--timeout", "300ms")
	if code != ExitInvalid || !strings.Contains(out, "NODE") || !strings.Contains(out, "etcd-01    etcd member") ||
		strings.Contains(out, "✓ ") && !strings.Contains(out, "managers") || !strings.Contains(out, "unhealthy: ") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, desc, "verify", "-", "--timeout", "300ms", "-o", "json")
	var r struct {
		Healthy bool
		Checks  []struct {
			Node, Check, Detail string
			OK                  bool
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != ExitInvalid || r.Healthy || len(r.Checks) < 10 {
		t.Fatalf("-o json: exit %d, %v\n%s", code, err, out)
	}
	for _, ch := range r.Checks {
		if ch.Node != "cluster" && (ch.OK || ch.Detail == "") {
			t.Errorf("%s %s: %+v, want a failure with its reason", ch.Node, ch.Check, ch)
		}
	}
	for _, args := range [][]string{{"verify", "-", "-o", "yaml"}, {"verify", "-", "--wait", "-1s"}, {"verify"}} {
		if code, _, errOut := runCLI(t, desc, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want a usage error\n%s", args, code, errOut)
		}
	}
	// A TLS cluster without its PKI says which directory it looked in.
	secure := secureDesc(t)
	if code, _, errOut := runCLI(t, "", "verify", secure); code != ExitInvalid || !strings.Contains(errOut, "swarmboot pki init") {
		t.Errorf("verify without a PKI: exit %d\n%s", code, errOut)
	}
}
