package boottest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/swarmboot/swarmboot/verify"
)

// Verify runs `swarmboot verify` inside the namespace, as an operator on
// the segment runs it, with --wait; it returns the report (healthy or
// not) and the table it printed.
func (c *Cluster) Verify(ctx context.Context, wait time.Duration) (*verify.Report, string, error) {
	args := []string{"verify", c.Prep.Description, "--wait", wait.String(), "--timeout", "8s"}
	if c.Desc.UsesTLS() {
		args = append(args, "--pki", c.Prep.PKI)
	}
	table, err := c.swarmboot(ctx, args...)
	if err != nil && !isExit1(err) {
		return nil, table, err
	}
	// The JSON run waits as long: under TCG an etcd read can time out
	// once right after the table run passed (seen in CI), and a boot is
	// judged on a cluster that settles, not on one read.
	out, err := c.swarmboot(ctx, append(args, "--json")...)
	if err != nil && !isExit1(err) {
		return nil, table, err
	}
	var r verify.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return nil, table, fmt.Errorf("swarmboot verify -o json: %w: %.300s", err, out)
	}
	return &r, table, nil
}

func (c *Cluster) swarmboot(ctx context.Context, args ...string) (string, error) {
	cmd := c.NS.Command(ctx, c.Prep.Swarmboot, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("swarmboot %s: %w: %s", strings.Join(args, " "), err, tail(stderr.String(), 5))
	}
	return stdout.String(), err
}

// isExit1 is verify's "unhealthy": the report is still there to read.
func isExit1(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == 1
}

// Grow renders the grown description with the same PKI and swarmboot,
// checks that no existing node's user-data changed (so nothing is
// re-applied to them), and adds, without starting them, the VMs of the
// nodes it adds. The cluster then checks against the grown description.
func (c *Cluster) Grow(ctx context.Context, description string) ([]string, error) {
	grown, err := LoadDescription(description)
	if err != nil {
		return nil, err
	}
	rendered := filepath.Join(c.WorkDir, "rendered-grown")
	if err := Render(ctx, c.Prep.Swarmboot, description, rendered, c.Prep.PKI); err != nil {
		return nil, err
	}
	var added []string
	for _, n := range grown.Nodes {
		if _, ok := c.VMs[n.Name]; ok {
			if err := sameFolder(filepath.Join(c.Prep.Rendered, n.Name), filepath.Join(rendered, n.Name)); err != nil {
				return nil, fmt.Errorf("re-rendering changed %s's user-data: %w", n.Name, err)
			}
			continue
		}
		added = append(added, n.Name)
	}
	// The new nodes boot from an OpenStack config drive, as swarmboot's
	// config-drive packaging writes it for them alone: cloud-init's
	// ConfigDrive datasource reads it (the image lists it after NoCloud),
	// so the OpenStack path is proven by cloud-init itself.
	drives := filepath.Join(c.WorkDir, "config-drives")
	if len(added) > 0 {
		if err := Render(ctx, c.Prep.Swarmboot, description, drives, c.Prep.PKI,
			"--format", "config-drive", "--nodes", strings.Join(added, ",")); err != nil {
			return nil, err
		}
	}
	for _, name := range added {
		if err := c.addVMWithDrive(name, filepath.Join(drives, name, "config-drive.iso")); err != nil {
			return nil, err
		}
	}
	abs, err := filepath.Abs(description)
	if err != nil {
		return nil, err
	}
	c.Desc, c.Check.Desc, c.Prep.Description, c.Prep.Rendered = grown, grown, abs, rendered
	return added, nil
}

// sameFolder compares two rendered node folders file by file.
func sameFolder(a, b string) error {
	entries, err := os.ReadDir(a)
	if err != nil {
		return err
	}
	for _, e := range entries {
		x, err := os.ReadFile(filepath.Join(a, e.Name()))
		if err != nil {
			return err
		}
		y, err := os.ReadFile(filepath.Join(b, e.Name()))
		if err != nil {
			return err
		}
		if !bytes.Equal(x, y) {
			return fmt.Errorf("%s differs", e.Name())
		}
	}
	return nil
}

// Failing lists the checks of a report that do not hold.
func Failing(r *verify.Report) string {
	var out []string
	for _, ch := range r.Checks {
		if !ch.OK {
			out = append(out, fmt.Sprintf("%s %s: %s", ch.Node, ch.What, ch.Detail))
		}
	}
	return strings.Join(out, "; ")
}
