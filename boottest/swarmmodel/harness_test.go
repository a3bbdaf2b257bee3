package swarmmodel

// Running the model in-process: a command with its own context, output
// buffers and shortened internal intervals, and reading a manager's /info.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fastTiming shortens swarm's fixed intervals so the tests take seconds.
func fastTiming() timing {
	return timing{
		etcdRequestTimeout:     time.Second,
		engineRequestTimeout:   2 * time.Second,
		pendingCheckInterval:   100 * time.Millisecond,
		pendingMinBackoff:      200 * time.Millisecond,
		pendingBackoffUnit:     10 * time.Millisecond,
		pendingValidationLimit: time.Hour,
		specUpdateInterval:     5 * time.Minute,
		recoverTime:            200 * time.Millisecond,
	}
}

// proc is one running command of the model.
type proc struct {
	cancel context.CancelFunc
	exited chan struct{}
	code   int           // valid once exited is closed
	out    *lockedBuffer // stdout and stderr
	addrs  chan []string
}

// startProc runs `swarm args...` in the background until stopped.
func startProc(t *testing.T, env map[string]string, args ...string) *proc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &proc{cancel: cancel, exited: make(chan struct{}), out: &lockedBuffer{}, addrs: make(chan []string, 1)}
	getenv := func(k string) string { return env[k] }
	go func() {
		defer close(p.exited)
		p.code = runWith(ctx, args, getenv, p.out, p.out, fastTiming(), func(a []string) { p.addrs <- a })
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop cancels the command (as SIGTERM does) and returns its exit status.
func (p *proc) stop(t *testing.T) int {
	p.cancel()
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("command did not stop on cancel; output:\n%s", p.out.String())
	}
	return p.code
}

// listenAddr waits for a manager to listen and returns its first address.
func (p *proc) listenAddr(t *testing.T) string {
	t.Helper()
	select {
	case a := <-p.addrs:
		return a[0]
	case <-p.exited:
		t.Fatalf("manager exited with %d:\n%s", p.code, p.out.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("manager did not listen:\n%s", p.out.String())
	}
	return ""
}

// startManager runs `swarm manage` on a free loopback port with fast
// refreshes; extra flags come before the discovery URL.
func startManager(t *testing.T, url string, extra ...string) (*proc, string) {
	t.Helper()
	args := append([]string{"manage", "-H", "tcp://127.0.0.1:0", "--heartbeat=1s",
		"--engine-refresh-min-interval=100ms", "--engine-refresh-max-interval=200ms", "--engine-failure-retry=2"}, extra...)
	args = append(args, url)
	p := startProc(t, nil, args...)
	return p, p.listenAddr(t)
}

// swarmInfo is the part of GET /info the tests read.
type swarmInfo struct {
	ServerVersion string
	Containers    int
	Images        int
	NCPU          int64
	MemTotal      int64
	SystemStatus  [][2]string
}

// node is one engine of SystemStatus: " NAME" / ADDR and its "└" pairs.
type node struct {
	Name, Addr string
	Fields     map[string]string
}

func (i swarmInfo) status(label string) string {
	for _, kv := range i.SystemStatus {
		if kv[0] == label {
			return kv[1]
		}
	}
	return ""
}

func (i swarmInfo) nodes() []node {
	var out []node
	for _, kv := range i.SystemStatus {
		switch {
		case strings.HasPrefix(kv[0], "  └ ") && len(out) > 0:
			out[len(out)-1].Fields[strings.TrimPrefix(kv[0], "  └ ")] = kv[1]
		case strings.HasPrefix(kv[0], " ") && !strings.HasPrefix(kv[0], "  "):
			out = append(out, node{Name: kv[0][1:], Addr: kv[1], Fields: map[string]string{}})
		}
	}
	return out
}

func (i swarmInfo) node(addr string) (node, bool) {
	for _, n := range i.nodes() {
		if n.Addr == addr {
			return n, true
		}
	}
	return node{}, false
}

func (i swarmInfo) String() string {
	var b strings.Builder
	for _, kv := range i.SystemStatus {
		fmt.Fprintf(&b, "\n  %s: %s", kv[0], kv[1])
	}
	return b.String()
}

func getInfo(t *testing.T, addr string) swarmInfo {
	t.Helper()
	var info swarmInfo
	body, code := httpGet(t, "http://"+addr+"/info")
	if code != http.StatusOK {
		t.Fatalf("GET /info: %d %s", code, body)
	}
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatalf("GET /info: %v: %s", err, body)
	}
	return info
}

func httpGet(t *testing.T, url string) (string, int) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	res, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b), res.StatusCode
}
