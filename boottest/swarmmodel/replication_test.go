package swarmmodel

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestReplication: two managers with --replication elect one primary
// through <path>/docker/swarm/leader; the replica shows "Role: replica"
// and the primary's address, serves /info itself and forwards the rest.
// When the primary dies without releasing the key, the replica takes over
// once the key's TTL has run out.
func TestReplication(t *testing.T) {
	t.Parallel()
	etcd := startEtcd(t, 1)
	cl := etcd.client()
	eng := newFakeEngine(t, "node-1")
	register(t, cl, "/r", eng.addr, time.Minute)
	ports := freePorts(t, 2)
	a1, a2 := fmt.Sprintf("127.0.0.1:%d", ports[0]), fmt.Sprintf("127.0.0.1:%d", ports[1])
	const ttl = 2 * time.Second
	manage := func(a string) *proc {
		p := startProc(t, nil, "manage", "-H", "tcp://"+a, "--replication", "--advertise="+a, "--replication-ttl=2s",
			"--heartbeat=1s", "--engine-refresh-min-interval=100ms", "--engine-refresh-max-interval=200ms", etcd.url("r"))
		p.listenAddr(t)
		return p
	}
	m1 := manage(a1)
	eventually(t, 5*time.Second, "m1 primary", func() (bool, string) {
		info := getInfo(t, a1)
		return info.status("Role") == "primary", info.String()
	})
	m2 := manage(a2)
	eventually(t, 5*time.Second, "m2 replica of m1", func() (bool, string) {
		info := getInfo(t, a2)
		return info.status("Role") == "replica" && info.status("Primary") == a1 && info.SystemStatus[0][0] == "Role" &&
			info.SystemStatus[1][0] == "Primary", info.String()
	})
	waitStatus(t, a2, eng.addr, "Healthy", 5*time.Second) // the replica tracks the engines too
	if n, _ := etcd.get(cl, "/r/docker/swarm/leader"); n.Value != a1 || n.TTL <= 0 || n.TTL > 2 {
		t.Errorf("leader key %+v, want %s with a TTL of at most 2 s", n, a1)
	}
	if body, code := httpGet(t, "http://"+a2+"/v1.30/containers/json"); code != 200 || !strings.HasPrefix(body, "[") {
		t.Errorf("forwarded GET /containers/json: %d %s", code, body)
	}
	// A container run through the replica: requests forwarded, the attach
	// connection joined through both managers to the engine.
	rs := &swarmCluster{t: t, addr: a2, mgr: m2, engines: []*fakeEngine{eng}}
	if _, stdout, _ := rs.runAttached("via-replica", []string{"out:hi", "cat"}, true, "through two managers\n"); stdout != "hi\nthrough two managers\n" {
		t.Errorf("attached through the replica: %q", stdout)
	}
	// Without the upgrade header (older clients) the engine answers 200 and
	// takes the connection over: only a copy of the raw connection, as
	// swarm's replica made, carries the input then.
	if _, stdout, _ := rs.runAttached("old-client", []string{"cat"}, false, "no upgrade\n"); stdout != "no upgrade\n" {
		t.Errorf("attached through the replica without upgrading: %q", stdout)
	}
	if out, errOut, code := rs.docker("x\n", "run", "-i", "--rm", "busybox", "cat", "exit:2"); out != "x\n" || code != 2 {
		t.Errorf("docker run through the replica: %q %q exit %d", out, errOut, code)
	}

	// Kill the primary: it keeps the key until the TTL runs out.
	m1.stop(t)
	killed := time.Now()
	body, code := httpGet(t, "http://"+a2+"/version")
	if code != http.StatusInternalServerError || !strings.Contains(body, "Unable to reach primary cluster manager ("+a1+")") {
		t.Errorf("replica with a dead primary: %d %s (it must forward, not answer itself)", code, body)
	}
	if body, code := httpGet(t, "http://"+a2+"/_ping"); code != 200 || body != "OK" {
		t.Errorf("replica's own /_ping: %d %s", code, body)
	}
	eventually(t, ttl+3*time.Second, "m2 to become primary", func() (bool, string) {
		info := getInfo(t, a2)
		return info.status("Role") == "primary", info.String()
	})
	t.Logf("replica became primary %s after the primary died (replication-ttl %s)", time.Since(killed).Round(10*time.Millisecond), ttl)
	if body, code := httpGet(t, "http://"+a2+"/version"); code != 200 || !strings.Contains(body, `"Version":"swarm/1.2.9"`) {
		t.Errorf("new primary's /version: %d %s", code, body)
	}
	out := m2.out.String()
	for _, line := range []string{`msg="Leader Election: Cluster leadership lost"`, `msg="New leader elected: ` + a1 + `"`,
		`msg="Leader Election: Cluster leadership acquired"`, `msg="New leader elected: ` + a2 + `"`} {
		if !strings.Contains(out, line) {
			t.Errorf("m2's log lacks %s:\n%s", line, out)
		}
	}
	if n, _ := etcd.get(cl, "/r/docker/swarm/leader"); n.Value != a2 {
		t.Errorf("leader key %+v, want %s", n, a2)
	}
}
