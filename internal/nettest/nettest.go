// Package nettest runs a test inside a network namespace of its own, where
// a cluster's addresses can be real without reaching anything off the
// machine: the test binary re-runs the test under `unshare -n` (root
// only), and the test puts the description's addresses on loopback or on
// a bridge there, with machines (processes in namespaces of their own,
// each on a veth pair) behind it. Nothing in the namespace has a route
// out, and IPv6 is off in it, so not even neighbour discovery leaves a
// trace.
package nettest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/internal/testutil"
)

// inside names the test a re-run binary is to run in its namespace.
const inside = "SWARMBOOT_NETNS_TEST"

// Isolate re-runs the calling test alone in a new network namespace and
// reports its verdict: it returns true in the caller, whose test is then
// over, and false in the re-run, where loopback is up and the test goes
// on. Without root the test is skipped, except under CI, where it fails.
func Isolate(t *testing.T) (done bool) {
	t.Helper()
	if os.Getenv(inside) == t.Name() {
		for _, knob := range []string{"all", "default"} {
			sysctl(t, "net/ipv6/conf/"+knob+"/disable_ipv6", "1")
		}
		Run(t, "ip", "link", "set", "lo", "up")
		return false
	}
	if os.Geteuid() != 0 {
		if testutil.InCI() {
			t.Fatal("this test needs root to make a network namespace (unshare -n); CI runs the tests as root")
		}
		t.Skip("needs root to make a network namespace (unshare -n)")
	}
	unshare := testutil.NeedTool(t, "unshare", "util-linux")
	testutil.NeedTool(t, "ip", "iproute2")
	testutil.NeedTool(t, "nsenter", "util-linux")
	var pattern []string
	for _, part := range strings.Split(t.Name(), "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	args := []string{"-n", "--", os.Args[0], "-test.run", strings.Join(pattern, "/"), "-test.v", "-test.count=1"}
	if d, ok := t.Deadline(); ok {
		args = append(args, "-test.timeout", time.Until(d).Round(time.Second).String())
	}
	cmd := exec.Command(unshare, args...)
	cmd.Env = append(os.Environ(), inside+"="+t.Name())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	switch {
	case err != nil:
		t.Fatalf("in its network namespace: %v\n%s", err, out.String())
	case strings.Contains(out.String(), "--- SKIP: "+t.Name()):
		t.Skipf("in its network namespace:\n%s", out.String())
	}
	t.Logf("in its network namespace:\n%s", out.String())
	return true
}

// Run runs a command, failing the test with its output if it fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func sysctl(t testing.TB, key, value string) {
	t.Helper()
	if err := os.WriteFile("/proc/sys/"+key, []byte(value), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Loopback puts addresses on lo, for servers the test runs itself.
func Loopback(t testing.TB, addrs ...netip.Addr) {
	t.Helper()
	for _, a := range addrs {
		Run(t, "ip", "addr", "add", netip.PrefixFrom(a, a.BitLen()).String(), "dev", "lo")
	}
}

// Bridge makes the segment machines join, with the test's own address on
// it.
func Bridge(t testing.TB, name string, self netip.Prefix) {
	t.Helper()
	Run(t, "ip", "link", "add", name, "type", "bridge")
	Run(t, "ip", "addr", "add", self.String(), "dev", name)
	Run(t, "ip", "link", "set", name, "up")
}

// Machine runs a shell script in a network and mount namespace of its
// own, on the bridge with address addr, as if on a machine of the segment:
// its mounts (tmpfs over /run, say) stay its own. The script starts once
// the network is up; env is its whole environment. It is killed, by its
// PID, when the test ends; its output goes to log.
func Machine(t testing.TB, bridge string, addr netip.Prefix, env []string, log io.Writer, script string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("unshare", append([]string{"-n", "-m", "--propagation", "private", "--", "sh", "-c", "read _; " + script, "sh"}, args...)...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// unshare(2) happens before sh starts: wait until the process is in
	// a namespace of its own.
	pid := cmd.Process.Pid
	self, _ := os.Readlink("/proc/self/ns/net")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid)); err == nil && l != self {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d never left the test's network namespace", pid)
		}
	}
	veth := fmt.Sprintf("v%d", pid)
	Run(t, "ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", fmt.Sprint(pid))
	Run(t, "ip", "link", "set", veth, "master", bridge, "up")
	Run(t, "nsenter", fmt.Sprintf("--net=/proc/%d/ns/net", pid), "sh", "-c",
		"echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6 && "+
			"ip addr add "+addr.String()+" dev eth0 && ip link set eth0 up && ip link set lo up")
	fmt.Fprintln(start)
	return cmd
}

// Tail is the last lines of a log, for a failure message.
func Tail(b []byte, lines int) string {
	var all []string
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		all = append(all, s.Text())
	}
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}
