// `swarm list <discovery>`: print the registered host:port entries, one a
// line, from the first answer of the discovery watch; give up after
// --timeout. Learned from cli/list.go, which (unlike the other commands)
// reported its fatal errors through Go's standard log package.

package swarmmodel

import (
	"context"
	"fmt"
	"time"
)

func runList(ctx context.Context, c *cmdContext) error {
	dflag := c.discoveryArg()
	if dflag == "" {
		return &stdlogFatal{"discovery required to list a cluster. See 'swarm list --help'."}
	}
	timeout, err := time.ParseDuration(c.flags.String("timeout"))
	if err != nil {
		return &stdlogFatal{fmt.Sprintf("invalid --timeout: %v", err)}
	}
	if timeout <= 0 {
		return &stdlogFatal{"--timeout should be a positive number"}
	}
	opts, err := parseDiscoveryOpts(c.flags.Slice("discovery-opt"))
	if err != nil {
		return err
	}
	d, err := newDiscovery(dflag, timeout, 0, opts, c.timing, c.log)
	if err != nil {
		return &stdlogFatal{err.Error()}
	}
	defer d.client.Close()

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	entries, _, err := d.list(ctx)
	switch {
	case err == nil:
		for _, e := range entries {
			fmt.Fprintln(c.stdout, e)
		}
		return nil
	case ctx.Err() != nil:
		return &stdlogFatal{"Timed out"}
	default:
		return &stdlogFatal{err.Error()}
	}
}
