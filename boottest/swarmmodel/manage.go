// `swarm manage`: check the arguments in swarm's order and words, then
// follow the discovery, track the engines and serve the Docker API on every
// -H address, with leader election when --replication is given.
// Learned from cli/manage.go (checks, messages, replication wiring),
// cli/flags.go (defaults: -H tcp://127.0.0.1:2375, --heartbeat 60s,
// refresh 30s..60s, 3 failures, --replication-ttl 20s), api/server.go
// (listeners, "Listening for HTTP", the hint when :2375 is taken),
// cluster/swarm/cluster.go NewCluster (swarm.overcommit 0.05) and
// scheduler/strategy, scheduler/filter (names accepted).

package swarmmodel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// timing holds the intervals swarm hard-coded; tests shorten them.
type timing struct {
	etcdRequestTimeout     time.Duration // libkv's per-request header timeout
	engineRequestTimeout   time.Duration // cluster/engine.go requestTimeout
	pendingCheckInterval   time.Duration // monitorPendingEngines
	pendingMinBackoff      time.Duration // TimeToValidate minFailureBackoff
	pendingBackoffUnit     time.Duration // TimeToValidate: 2^failures of this
	pendingValidationLimit time.Duration // TimeToValidate validationLimit
	specUpdateInterval     time.Duration // refreshLoop specUpdateInterval
	recoverTime            time.Duration // cli/manage.go defaultRecoverTime
}

func defaultTiming() timing {
	return timing{
		etcdRequestTimeout:     3 * time.Second,
		engineRequestTimeout:   2 * time.Minute, // swarm: 30 s (README, deliberate differences)
		pendingCheckInterval:   10 * time.Second,
		pendingMinBackoff:      30 * time.Second,
		pendingBackoffUnit:     time.Second,
		pendingValidationLimit: 4 * time.Hour,
		specUpdateInterval:     5 * time.Minute,
		recoverTime:            10 * time.Second,
	}
}

func runManage(ctx context.Context, c *cmdContext) error {
	f := c.flags
	tlsOn := f.Bool("tls") || f.Bool("tlsverify")
	var tlsConfig *tls.Config
	if tlsOn {
		if !f.IsSet("tlscert") || !f.IsSet("tlskey") {
			return fatalf("--tlscert and --tlskey must be provided when using --tls")
		}
		if f.Bool("tlsverify") && !f.IsSet("tlscacert") {
			return fatalf("--tlscacert must be provided when using --tlsverify")
		}
		cfg, err := loadTLSConfig(f.String("tlscacert"), f.String("tlscert"), f.String("tlskey"), f.Bool("tlsverify"))
		if err != nil {
			return fatalf("%v", err)
		}
		tlsConfig = cfg
	} else if f.IsSet("tlscert") || f.IsSet("tlskey") || f.IsSet("tlscacert") {
		return fatalf("--tlscert, --tlskey and --tlscacert require the use of either --tls or --tlsverify")
	}

	refreshMin := c.duration("engine-refresh-min-interval")
	refreshMax := c.duration("engine-refresh-max-interval")
	if refreshMin <= 0 {
		return fatalf("min refresh interval should be a positive number")
	}
	if refreshMax < refreshMin {
		return fatalf("max refresh interval cannot be less than min refresh interval")
	}
	if f.Int("engine-refresh-retry") != 3 {
		return fatalf("--engine-refresh-retry is deprecated. Use --engine-failure-retry")
	}
	failureRetry := f.Int("engine-failure-retry")
	if failureRetry <= 0 {
		return fatalf("invalid failure retry count")
	}

	uri := c.discoveryArg()
	if uri == "" {
		return fatalf("discovery required to manage a cluster. See 'swarm manage --help'.")
	}
	hb, err := time.ParseDuration(f.String("heartbeat"))
	if err != nil {
		return fatalf("invalid --heartbeat: %v", err)
	}
	if hb < time.Second {
		return fatalf("--heartbeat should be at least one second")
	}
	opts, err := parseDiscoveryOpts(f.Slice("discovery-opt"))
	if err != nil {
		return err
	}
	d, err := newDiscovery(uri, hb, 0, opts, c.timing, c.log)
	if err != nil {
		return err
	}
	defer d.client.Close()

	strategy := f.String("strategy")
	if strategy == "binpacking" {
		strategy = "binpack"
	}
	if !contains(strategies, strategy) {
		return fatalf("strategy not supported")
	}
	filters := f.Slice("filter")
	for _, name := range filters {
		if !contains(filterNames, name) {
			return fatalf("filter not supported")
		}
	}
	if drv := f.String("cluster-driver"); drv != "swarm" {
		return fatalf("unsupported cluster %q", drv)
	}
	overcommit := 0.05
	for _, o := range f.Slice("cluster-opt") {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "swarm.overcommit":
			if x, err := strconv.ParseFloat(v, 64); err == nil {
				if x <= -1 {
					return fatalf("swarm.overcommit should be larger than -1, %f is invalid", x)
				}
				overcommit = x
			}
		case "swarm.createretry":
			if x, err := strconv.ParseInt(v, 10, 64); err == nil && x < 0 {
				return fatalf("swarm.createretry can not be negative, %d is invalid", x)
			}
		}
	}
	hosts := f.Slice("host")

	var el *election
	if f.Bool("replication") {
		addr := f.String("advertise")
		if addr == "" {
			return fatalf("--advertise address must be provided when using --leader-election")
		}
		if !checkAddrFormat(addr) {
			return fatalf("--advertise should be of the form ip:port or hostname:port")
		}
		ttl, err := time.ParseDuration(f.String("replication-ttl"))
		if err != nil {
			return fatalf("invalid --replication-ttl: %v", err)
		}
		if ttl <= 0 {
			return fatalf("--replication-ttl should be a positive number")
		}
		el = &election{client: d.client, key: d.leaderKey(), node: addr, ttl: ttl, recover: c.timing.recoverTime, log: c.log}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cl := newCluster(engineOpts{refreshMin: refreshMin, refreshMax: refreshMax, failureRetry: failureRetry,
		overcommit: int64(overcommit * 100)}, c.timing, tlsConfig, strategy, filters, c.log)
	clusterDone := make(chan struct{})
	go func() {
		defer close(clusterDone)
		cl.run(ctx, d)
	}()
	defer func() { cancel(); <-clusterDone }()

	api := &apiServer{cluster: cl, log: c.log, debug: c.debug, cors: f.Bool("cors")}
	disp := &dispatcher{}
	if el == nil {
		api.status = func() [][2]string { return [][2]string{{"Role", "primary"}} }
		disp.set(api)
	} else {
		api.status = func() [][2]string {
			if !el.isLeader() {
				return [][2]string{{"Role", "replica"}, {"Primary", el.currentPrimary()}}
			}
			return [][2]string{{"Role", "primary"}}
		}
		rep := newReplica(api, tlsConfig, el.node)
		el.onChange = func(leader bool) {
			if leader {
				disp.set(api)
			} else {
				disp.set(rep)
			}
		}
		el.onPrimary = rep.setPrimary
		disp.set(api)
		go el.run(ctx)
	}
	return serve(ctx, c, hosts, tlsConfig, disp)
}

// serve listens on every host and serves until ctx ends or one fails.
func serve(ctx context.Context, c *cmdContext, hosts []string, tlsConfig *tls.Config, h http.Handler) error {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for _, host := range hosts {
		proto, addr, ok := strings.Cut(host, "://")
		if !ok {
			proto, addr = "tcp", host
		}
		c.log.with(fields{"proto": proto, "addr": addr}).Infof("Listening for HTTP")
		var l net.Listener
		var err error
		switch proto {
		case "tcp":
			l, err = net.Listen("tcp", addr)
			if err != nil && strings.Contains(err.Error(), "address already in use") && strings.Contains(addr, ":2375") {
				err = fmt.Errorf("%s: is Docker already running on this machine? Try using a different port", err)
			}
		case "unix":
			if rmErr := os.Remove(addr); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
				err = rmErr
			} else {
				l, err = net.Listen("unix", addr)
			}
		default:
			err = fmt.Errorf("unsupported protocol: %q", proto)
		}
		if err != nil {
			return fatalf("%v", err)
		}
		if tlsConfig != nil {
			l = tls.NewListener(l, serverTLS(tlsConfig))
		}
		listeners = append(listeners, l)
	}
	if c.ready != nil {
		var addrs []string
		for _, l := range listeners {
			addrs = append(addrs, l.Addr().String())
		}
		c.ready(addrs)
	}
	errCh := make(chan error, len(listeners))
	var servers []*http.Server
	for _, l := range listeners {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Minute,
			ErrorLog: stdlog.New(c.stderr, "", stdlog.LstdFlags)}
		servers = append(servers, srv)
		go func(l net.Listener) { errCh <- srv.Serve(l) }(l)
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errCh:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range servers {
		s.Shutdown(sctx)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fatalf("%v", err)
	}
	return nil
}
