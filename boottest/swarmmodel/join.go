// `swarm join`: check the arguments, then write the engine's key with the
// TTL every heartbeat, forever; a failed write is logged and retried at the
// next heartbeat (so join rides out an etcd without quorum).
// Learned from cli/join.go (checks, messages, order, the log line) and
// vendor/github.com/docker/docker/pkg/discovery/kv/kv.go (Register).

package swarmmodel

import (
	"context"
	"math/rand"
	"net"
	"strconv"
	"time"
)

// checkAddrFormat is cli/join.go's: host:port with a port in 1..65535.
func checkAddrFormat(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n > 0 && n <= 65535
}

func runJoin(ctx context.Context, c *cmdContext) error {
	dflag := c.discoveryArg()
	if dflag == "" {
		return fatalf("discovery required to join a cluster. See 'swarm join --help'.")
	}
	addr := c.flags.String("advertise")
	if addr == "" {
		return fatalf("missing mandatory --advertise flag")
	}
	if !checkAddrFormat(addr) {
		return fatalf("--advertise should be of the form ip:port or hostname:port")
	}
	delay, err := time.ParseDuration(c.flags.String("delay"))
	if err != nil {
		return fatalf("invalid --delay: %v", err)
	}
	if delay < 0 {
		return fatalf("--delay should not be a negative number")
	}
	hb, err := time.ParseDuration(c.flags.String("heartbeat"))
	if err != nil {
		return fatalf("invalid --heartbeat: %v", err)
	}
	if hb < time.Second {
		return fatalf("--heartbeat should be at least one second")
	}
	ttl, err := time.ParseDuration(c.flags.String("ttl"))
	if err != nil {
		return fatalf("invalid --ttl: %v", err)
	}
	if ttl <= hb {
		return fatalf("--ttl must be strictly superior to the heartbeat value")
	}
	opts, err := parseDiscoveryOpts(c.flags.Slice("discovery-opt"))
	if err != nil {
		return err
	}
	d, err := newDiscovery(dflag, hb, ttl, opts, c.timing, c.log)
	if err != nil {
		return err
	}
	defer d.client.Close()

	if delay > 0 {
		wait := time.Duration(rand.Int63n(int64(delay)))
		c.log.Infof("Add a random delay %s to avoid synchronized registration", wait)
		if !sleepCtx(ctx, wait) {
			return nil
		}
	}
	log := c.log.with(fields{"addr": addr, "discovery": dflag})
	for {
		log.Infof("Registering on the discovery service every %s...", hb)
		// A write tries each endpoint once (up to a header timeout each);
		// SIGTERM cuts it short.
		if err := d.register(ctx, addr); err != nil && ctx.Err() == nil {
			c.log.with(errorFields(err)).Errorf("%v", err)
		}
		if !sleepCtx(ctx, hb) {
			return nil
		}
	}
}
