package swarmmodel

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/boottest/swarmmodel/etcdv2"
)

// TestJoinTTLRefreshAndExpiry: join writes <path>/docker/swarm/nodes/ADDR
// with the TTL and rewrites it every heartbeat, so the key outlives several
// TTLs; the manager lists the engine. Once join stops the key expires
// within the TTL and the manager drops the engine.
func TestJoinTTLRefreshAndExpiry(t *testing.T) {
	t.Parallel()
	etcd := startEtcd(t, 1)
	cl := etcd.client()
	eng := newFakeEngine(t, "node-1")
	const ttl = 3 * time.Second
	key := "/swarm/docker/swarm/nodes/" + eng.addr

	join := startProc(t, nil, "join", "--addr="+eng.addr, "--heartbeat=1s", "--ttl=3s", etcd.url("swarm"))
	_, addr := startManager(t, etcd.url("swarm"))

	var first uint64
	eventually(t, 5*time.Second, "the registration", func() (bool, string) {
		n, ok := etcd.get(cl, key)
		if ok {
			first = n.ModifiedIndex
			if n.Value != eng.addr || n.TTL <= 0 || n.TTL > 3 {
				t.Fatalf("registration %+v, want value %s and a TTL of at most 3 s", n, eng.addr)
			}
		}
		return ok, join.out.String()
	})
	if !strings.Contains(join.out.String(), fmt.Sprintf(`level=info msg="Registering on the discovery service every 1s..." addr=%q discovery=%q`, eng.addr, etcd.url("swarm"))) {
		t.Errorf("join's log lacks swarm's line:\n%s", join.out.String())
	}

	// The key must be there at every look for more than two TTLs.
	start := time.Now()
	for time.Since(start) < 2*ttl+time.Second {
		n, ok := etcd.get(cl, key)
		if !ok {
			t.Fatalf("key expired %s after registration while join runs", time.Since(start))
		}
		if n.TTL > 3 {
			t.Fatalf("ttl %d", n.TTL)
		}
		time.Sleep(200 * time.Millisecond)
	}
	n, _ := etcd.get(cl, key)
	if n.ModifiedIndex < first+5 {
		t.Errorf("modifiedIndex %d -> %d in %s: join did not rewrite the key every heartbeat", first, n.ModifiedIndex, time.Since(start))
	}
	// swarm list prints the entries after its log line (also on stdout).
	if code, stdout, stderr := runOnce(t, nil, "list", etcd.url("swarm")); code != 0 ||
		!strings.HasSuffix(stdout, `level=info msg="Initializing discovery without TLS" `+"\n"+eng.addr+"\n") {
		t.Errorf("swarm list: status %d, %q %s", code, stdout, stderr)
	}
	eventually(t, 5*time.Second, "the manager to see the engine Healthy", func() (bool, string) {
		info := getInfo(t, addr)
		nd, ok := info.node(eng.addr)
		return ok && nd.Fields["Status"] == "Healthy", info.String()
	})

	if code := join.stop(t); code != 0 {
		t.Errorf("join exit status on SIGTERM: %d", code)
	}
	stopped := time.Now()
	eventually(t, ttl+3*time.Second, "the key to expire", func() (bool, string) {
		_, ok := etcd.get(cl, key)
		return !ok, ""
	})
	if d := time.Since(stopped); d > ttl+2*time.Second {
		t.Errorf("key expired %s after join stopped, TTL is %s", d, ttl)
	}
	eventually(t, 5*time.Second, "the manager to drop the engine", func() (bool, string) {
		info := getInfo(t, addr)
		_, ok := info.node(eng.addr)
		return !ok && info.status("Nodes") == "0", info.String()
	})
}

// TestEndpointFailover: with a dead first endpoint, then with the member
// in use frozen (a hung member: connections open, no answers), then with
// the member in use killed, join keeps registering and the manager keeps
// following the registrations through the other members.
func TestEndpointFailover(t *testing.T) {
	t.Parallel()
	etcd := startEtcd(t, 3)
	cl := etcd.client()
	dead := fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1)[0])
	url := etcd.url("fo", append([]string{dead}, etcd.endpoints()...)...)
	engines := []*fakeEngine{newFakeEngine(t, "node-1"), newFakeEngine(t, "node-2"), newFakeEngine(t, "node-3")}

	startProc(t, nil, "join", "--addr="+engines[0].addr, "--heartbeat=1s", "--ttl=3s", url)
	_, addr := startManager(t, url)
	key := "/fo/docker/swarm/nodes/" + engines[0].addr
	seen := func(n int) {
		t.Helper()
		eng := engines[n-1]
		eventually(t, 10*time.Second, fmt.Sprintf("the manager to see engine %d", n), func() (bool, string) {
			info := getInfo(t, addr)
			nd, ok := info.node(eng.addr)
			return ok && nd.Fields["Status"] == "Healthy" && info.status("Nodes") == fmt.Sprint(n), info.String()
		})
	}
	rewritten := func() {
		t.Helper()
		var before uint64
		eventually(t, 10*time.Second, "a quorum read", func() (bool, string) {
			n, ok, err := tryGet(cl, key)
			if ok {
				before = n.ModifiedIndex
			}
			return ok, fmt.Sprint(err)
		})
		// Only join writes the key, and before was read after the change.
		eventually(t, 10*time.Second, "join to rewrite its key", func() (bool, string) {
			n, ok, err := tryGet(cl, key)
			return ok && n.ModifiedIndex > before, fmt.Sprintf("%+v %v", n, err)
		})
	}
	eventually(t, 5*time.Second, "registration past the dead endpoint", func() (bool, string) {
		_, ok := etcd.get(cl, key)
		return ok, ""
	})
	seen(1)
	t0 := time.Now()
	phase := func(what string) { t.Logf("%s after %s", what, time.Since(t0).Round(10*time.Millisecond)) }

	// Both clients are now pinned to member 0, the first live endpoint.
	etcd.freeze(0)
	rewritten()
	phase("rewritten with member 0 frozen")
	startProc(t, nil, "join", "--addr="+engines[1].addr, "--heartbeat=1s", "--ttl=3s", url)
	seen(2)
	phase("engine 2 seen")

	etcd.thaw(0)
	only0, err := etcdv2.New(etcdv2.Config{Endpoints: etcd.endpoints()[:1]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(only0.Close)
	eventually(t, 10*time.Second, "member 0 to catch up", func() (bool, string) {
		_, _, err := tryGet(only0, key)
		return err == nil, fmt.Sprint(err)
	})
	phase("member 0 caught up")
	etcd.stop(1) // where the clients moved to (or 2; either way one is dead)
	rewritten()
	startProc(t, nil, "join", "--addr="+engines[2].addr, "--heartbeat=1s", "--ttl=3s", url)
	seen(3)
	phase("engine 3 seen")
}

// TestJoinWithoutQuorum: while two of three members are down, join logs
// swarm's error and keeps trying; once they are back it registers.
func TestJoinWithoutQuorum(t *testing.T) {
	t.Parallel()
	etcd := startEtcd(t, 3)
	etcd.stop(1)
	etcd.stop(2)
	join := startProc(t, nil, "join", "--addr=10.77.0.11:2375", "--heartbeat=1s", "--ttl=3s", etcd.url("q"))
	const errLine = `level=error msg="client: etcd cluster is unavailable or misconfigured" detail=`
	eventually(t, 10*time.Second, "two failed registrations", func() (bool, string) {
		return strings.Count(join.out.String(), errLine) >= 2, join.out.String()
	})
	select {
	case <-join.exited:
		t.Fatalf("join gave up:\n%s", join.out.String())
	default:
	}
	etcd.start(1)
	etcd.start(2)
	cl := etcd.client()
	eventually(t, 20*time.Second, "the registration after quorum is back", func() (bool, string) {
		_, ok, err := tryGet(cl, "/q/docker/swarm/nodes/10.77.0.11:2375")
		return ok, fmt.Sprintf("%v\n%s", err, join.out.String())
	})
}
