package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/swarmboot/swarmboot/internal/failpoint"
)

// The test binary doubles as swarmboot: with SWARMBOOT_TEST_MAIN set to a
// JSON list of arguments, TestMain runs cli.Main with them and exits. The
// tests run it as a separate process to race real processes, to kill it
// at a step of a render (SWARMBOOT_TEST_FAILPOINT=kill:STEP:N, or
// fail:STEP:N to make that step fail), to bind-mount a folder first
// (SWARMBOOT_TEST_BIND=SRC:DST, in a mount namespace of its own) or to run
// as another user.
func TestMain(m *testing.M) {
	if args := os.Getenv("SWARMBOOT_TEST_MAIN"); args != "" {
		os.Exit(childMain(args))
	}
	os.Exit(m.Run())
}

func childMain(argsJSON string) int {
	var args []string
	if err := json.Unmarshal([]byte(argsJSON), &args); err != nil {
		fmt.Fprintln(os.Stderr, "SWARMBOOT_TEST_MAIN:", err)
		return 99
	}
	if fp := os.Getenv("SWARMBOOT_TEST_FAILPOINT"); fp != "" {
		how, rest, _ := strings.Cut(fp, ":")
		i := strings.LastIndex(rest, ":")
		step := rest[:i]
		n, _ := strconv.Atoi(rest[i+1:])
		seen := 0
		failpoint.Hook = func(s string) error {
			if s != step {
				return nil
			}
			if seen++; seen != n {
				return nil
			}
			if how == "kill" {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // the signal is on its way
			}
			return errors.New("injected failure at " + s)
		}
	}
	if bind := os.Getenv("SWARMBOOT_TEST_BIND"); bind != "" {
		src, dst, _ := strings.Cut(bind, ":")
		if err := syscall.Mount(src, dst, "", syscall.MS_BIND, ""); err != nil {
			fmt.Fprintln(os.Stderr, "bind mount:", err)
			return 99
		}
	}
	return Main(args, os.Stdin, os.Stdout, os.Stderr)
}

// child is `swarmboot args...` as a process of its own, with env added.
func child(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(args)
	cmd := exec.Command(exe)
	cmd.Env = append(append(os.Environ(), "SWARMBOOT_TEST_MAIN="+string(b)), env...)
	return cmd
}
