package boottest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/swarmboot/swarmboot/internal/testutil"
)

// HostTools are the host commands the boot test runs; boottest/host-deps.sh
// installs them.
var HostTools = []string{
	"go", "qemu-system-x86_64", "qemu-img", "debootstrap", "mkfs.ext4",
	"unshare", "nsenter", "ip", "etcdctl", "curl",
}

// RequireTools checks for root and the host tools: outside CI the test
// skips without them, in CI it fails.
func RequireTools(t testing.TB) {
	t.Helper()
	var missing []string
	for _, tool := range HostTools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	why := ""
	switch {
	case os.Geteuid() != 0:
		why = "the boot test needs root (network namespace, tap devices, debootstrap)"
	case len(missing) > 0:
		why = "missing host tools " + strings.Join(missing, ", ") + "; run boottest/host-deps.sh"
	default:
		return
	}
	if testutil.InCI() {
		t.Fatal(why)
	}
	t.Skip(why)
}
