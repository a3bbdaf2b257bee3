package boottest

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Netns is a private network namespace made for one test run. It lives as
// long as a holder process (`unshare --net sleep infinity`) started here;
// every command that must see the VMs' segment — QEMU, etcdctl, curl,
// docker — runs in it through nsenter. Nothing outside the namespace can
// reach the VMs and the VMs can reach nothing outside it: there is no route
// out, no NAT and no user-mode networking.
type Netns struct {
	holder *exec.Cmd
	path   string // /proc/PID/ns/net of the holder
	Bridge string
}

// NewNetns starts the holder process and brings up loopback.
func NewNetns() (*Netns, error) {
	cmd := exec.Command("unshare", "--net", "--", "sleep", "infinity")
	// Pdeathsig: if the test binary dies hard, the holder goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the namespace holder: %w", err)
	}
	ns := &Netns{holder: cmd, path: fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid), Bridge: "br0"}
	// unshare(2) happens just before the exec of sleep: wait until the
	// holder's namespace differs from ours.
	self, _ := os.Readlink("/proc/self/ns/net")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if l, err := os.Readlink(ns.path); err == nil && l != self {
			break
		}
		if time.Now().After(deadline) {
			ns.Close()
			return nil, fmt.Errorf("namespace holder %d never left the host namespace", cmd.Process.Pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := ns.Run(context.Background(), "ip", "link", "set", "lo", "up"); err != nil {
		ns.Close()
		return nil, err
	}
	return ns, nil
}

// Command returns a command that runs inside the namespace.
func (n *Netns) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	full := append([]string{"--net=" + n.path, "--", name}, args...)
	return exec.CommandContext(ctx, "nsenter", full...)
}

// Run runs a command inside the namespace and returns its stdout; the error
// carries stderr.
func (n *Netns) Run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := n.Command(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err,
			strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// SetupBridge creates the bridge with the host's address on the segment.
func (n *Netns) SetupBridge(ctx context.Context, host netip.Prefix) error {
	for _, args := range [][]string{
		{"link", "add", n.Bridge, "type", "bridge"},
		{"addr", "add", host.String(), "dev", n.Bridge},
		{"link", "set", n.Bridge, "up"},
	} {
		if _, err := n.Run(ctx, "ip", args...); err != nil {
			return err
		}
	}
	return nil
}

// AddTap creates a tap device on the bridge for one VM's NIC.
func (n *Netns) AddTap(ctx context.Context, name string) error {
	for _, args := range [][]string{
		{"tuntap", "add", "dev", name, "mode", "tap"},
		{"link", "set", name, "master", n.Bridge},
		{"link", "set", name, "up"},
	} {
		if _, err := n.Run(ctx, "ip", args...); err != nil {
			return err
		}
	}
	return nil
}

// Close kills the holder (by its PID); the namespace and its devices go
// away once the last process in it (the VMs) has exited too.
func (n *Netns) Close() {
	if n.holder != nil && n.holder.Process != nil {
		_ = n.holder.Process.Kill()
		_ = n.holder.Wait()
		n.holder = nil
	}
}
