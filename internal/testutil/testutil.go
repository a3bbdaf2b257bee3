// Package testutil is what every test package shares: the -update flag
// (go test hands each flag to every package's test binary, so all of them
// must accept it) and the rule for external tools.
package testutil

import (
	"flag"
	"os"
	"os/exec"
	"testing"

	"github.com/swarmboot/swarmboot/profiles"
)

// Update rewrites golden files instead of comparing against them.
var Update = flag.Bool("update", false, "rewrite golden files")

// InCI reports whether the tests run in CI, where every tool must be there.
func InCI() bool { return os.Getenv("CI") != "" && os.Getenv("CI") != "false" }

// NeedTool returns the path of a program. Outside CI a missing tool skips
// the test; in CI it fails it, so a missing validator cannot hide.
func NeedTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if InCI() {
		t.Fatalf("%s not found; CI must install Debian's %s (scripts/install-deps.sh)", name, pkg)
	}
	t.Skipf("%s not installed (Debian package %s; scripts/install-deps.sh)", name, pkg)
	return ""
}

// EveryFormat gives every profile every format it reads: the golden
// cases render them all.
func EveryFormat() map[string][]profiles.Format {
	out := map[string][]profiles.Format{}
	for _, name := range profiles.Names() {
		p, _ := profiles.Lookup(name)
		out[name] = p.Formats
	}
	return out
}
