// Discovery through etcd's v2 keys API, as swarm 1.2.9 did it.
// Learned from:
//   - vendor/github.com/docker/docker/pkg/discovery/backends.go: the URL is
//     "scheme://rest"; no scheme means nodes://; an unknown scheme is
//     "discovery service not supported".
//   - vendor/github.com/docker/docker/pkg/discovery/kv/kv.go: "etcd://h1:p,
//     h2:p/prefix" gives the endpoints and an optional prefix; the nodes
//     live under <prefix>/<kv.path>; join writes <path>/<addr> = addr with
//     the TTL; the manager lists the directory (creating it if missing),
//     watches it recursively, and takes the entries from the values;
//     kv.cacertfile + kv.certfile + kv.keyfile switch to https with a
//     client certificate ("Initializing discovery with TLS").
//   - cli/manage.go getDiscoveryOpt: "--discovery-opt must contain
//     key=value strings"; kv.path defaults to docker/swarm/nodes.
//   - vendor/github.com/docker/docker/pkg/discovery/entry.go: entries are
//     host:port.
// The model adds a bound to each watch (one heartbeat, then list again) so
// that a watch held by a member that died or lost the majority cannot hang
// the manager; upstream waited forever.

package swarmmodel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/swarmboot/swarmboot/boottest/swarmmodel/etcdv2"
)

const defaultKVPath = "docker/swarm/nodes"

// discovery is an etcd-backed discovery service.
type discovery struct {
	uri       string // as given, for log fields
	endpoints []string
	prefix    string // path part of the URL
	path      string // <prefix>/<kv.path>: the nodes directory
	heartbeat time.Duration
	ttl       time.Duration
	client    *etcdv2.Client
	log       *logger
}

// parseDiscoveryOpts is getDiscoveryOpt of cli/manage.go.
func parseDiscoveryOpts(list []string) (map[string]string, error) {
	opts := map[string]string{}
	for _, o := range list {
		k, v, ok := strings.Cut(o, "=")
		if !ok {
			return nil, fatalf("--discovery-opt must contain key=value strings")
		}
		opts[k] = v
	}
	if _, ok := opts["kv.path"]; !ok {
		opts["kv.path"] = defaultKVPath
	}
	return opts, nil
}

// newDiscovery is discovery.New + kv.Initialize for etcd.
func newDiscovery(rawurl string, heartbeat, ttl time.Duration, opts map[string]string, t timing, log *logger) (*discovery, error) {
	scheme, rest := "nodes", rawurl
	if s, r, ok := strings.Cut(rawurl, "://"); ok {
		scheme, rest = s, r
	}
	switch scheme {
	case "etcd":
	case "token", "consul", "zk", "file", "nodes":
		return nil, fatalf("discovery service %q is not part of this model of swarm %s (only etcd:// is)", scheme, Version)
	default:
		return nil, fatalf("discovery service not supported")
	}
	hosts, prefix, _ := strings.Cut(rest, "/")
	d := &discovery{uri: rawurl, prefix: prefix, heartbeat: heartbeat, ttl: ttl, log: log}
	for _, h := range strings.Split(hosts, ",") {
		d.endpoints = append(d.endpoints, h)
	}
	kvPath := defaultKVPath
	if opts["kv.path"] != "" {
		kvPath = opts["kv.path"]
	}
	d.path = path.Join("/", prefix, kvPath)

	var tlsConfig *tls.Config
	if opts["kv.cacertfile"] != "" && opts["kv.certfile"] != "" && opts["kv.keyfile"] != "" {
		log.Infof("Initializing discovery with TLS")
		var err error
		tlsConfig, err = kvTLSConfig(opts["kv.cacertfile"], opts["kv.certfile"], opts["kv.keyfile"])
		if err != nil {
			return nil, err
		}
	} else {
		log.Infof("Initializing discovery without TLS")
	}
	c, err := etcdv2.New(etcdv2.Config{Endpoints: d.endpoints, TLS: tlsConfig, HeaderTimeout: t.etcdRequestTimeout})
	if err != nil {
		return nil, err
	}
	d.client = c
	return d, nil
}

// kvTLSConfig is go-connections' tlsconfig.Client as kv.go used it: trust
// the CA, present the client certificate.
func kvTLSConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("Could not read CA certificate %q: %v", caFile, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("failed to append certificates from PEM file: %q", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("Could not load X509 key pair: %v. Make sure the key is not encrypted", err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// leaderKey is where replicated managers elect their primary
// (cli/manage.go leaderElectionPath, under the URL's prefix).
func (d *discovery) leaderKey() string { return path.Join("/", d.prefix, "docker/swarm/leader") }

// register writes this engine's key with the TTL (kv.go Register).
func (d *discovery) register(ctx context.Context, addr string) error {
	_, err := d.client.Set(ctx, path.Join(d.path, addr), addr, etcdv2.SetOptions{TTL: d.ttl})
	return err
}

// list returns the registered entries (host:port, sorted) and the etcd
// index to watch from. A missing directory is created, as kv.go's Watch
// did before watching.
func (d *discovery) list(ctx context.Context) ([]string, uint64, error) {
	resp, err := d.client.Get(ctx, d.path, etcdv2.GetOptions{Recursive: true, Sorted: true, Quorum: true})
	if etcdv2.IsCode(err, etcdv2.ErrCodeKeyNotFound) {
		_, err = d.client.Set(ctx, d.path, "", etcdv2.SetOptions{Dir: true, PrevExist: etcdv2.PrevNoExist})
		if err != nil && !etcdv2.IsCode(err, etcdv2.ErrCodeNodeExist) {
			return nil, 0, err
		}
		resp, err = d.client.Get(ctx, d.path, etcdv2.GetOptions{Recursive: true, Sorted: true, Quorum: true})
	}
	if err != nil {
		return nil, 0, err
	}
	seen := map[string]bool{}
	var entries []string
	for _, n := range resp.Node.Nodes {
		if n.Dir || n.Value == "" {
			continue
		}
		host, port, err := net.SplitHostPort(n.Value)
		if err != nil {
			// discovery.CreateEntries fails the whole list on one bad value.
			return nil, 0, err
		}
		e := net.JoinHostPort(host, port)
		if !seen[e] {
			seen[e] = true
			entries = append(entries, e)
		}
	}
	sort.Strings(entries)
	return entries, resp.Index, nil
}

// watch calls update with the current entries, then again after every
// change, until ctx ends. Errors go to onErr; after one it waits a
// heartbeat before listing again (kv.go's Watch retry).
func (d *discovery) watch(ctx context.Context, update func([]string), onErr func(error)) {
	for ctx.Err() == nil {
		entries, index, err := d.list(ctx)
		if err != nil {
			if ctx.Err() == nil {
				onErr(err)
				sleepCtx(ctx, d.heartbeat)
			}
			continue
		}
		update(entries)
		// Wait for a change, at most a heartbeat, then list again: the list
		// is a quorum read that moves to a healthy member.
		wctx, cancel := context.WithTimeout(ctx, d.heartbeat)
		_, err = d.client.Watch(wctx, d.path, etcdv2.WatchOptions{Recursive: true, WaitIndex: index + 1})
		cancel()
		if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
			if !etcdv2.IsCode(err, etcdv2.ErrCodeEventIndexCleared) {
				d.log.Debugf("Discovery watch error: %v", err)
			}
			sleepCtx(ctx, time.Second)
		}
	}
}

// sleepCtx sleeps d or until ctx ends; it reports whether it slept fully.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// errorFields adds etcd's per-endpoint reasons to an error log line; the
// message itself stays upstream's.
func errorFields(err error) fields {
	var ce *etcdv2.ClusterError
	if errors.As(err, &ce) {
		return fields{"detail": ce.Detail()}
	}
	return nil
}
