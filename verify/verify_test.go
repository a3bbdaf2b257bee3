package verify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/internal/verifytest"
	"github.com/swarmboot/swarmboot/verify"
)

// The fixture: three etcd members, three Docker hosts, two of them
// managers (replicas electing a primary). Its addresses are only ever
// dialled through the fake's mapping onto loopback.
const nodes = `nodes:
  - {name: e1, ip: 10.200.0.1, roles: [etcd]}
  - {name: e2, ip: 10.200.0.2, roles: [etcd]}
  - {name: e3, ip: 10.200.0.3, roles: [etcd]}
  - {name: d1, ip: 10.200.0.11, roles: [docker, manager]}
  - {name: d2, ip: 10.200.0.12, roles: [docker, manager]}
  - {name: d3, ip: 10.200.0.13, roles: [docker]}
`

func description(t testing.TB, secure bool) *cluster.Cluster {
	head := "version: 1\ncluster: v\nprofile: debian-12\n"
	if !secure {
		head += "docker: {port: 2375, tls: false}\netcd: {tls: false}\n"
	}
	return verifytest.Load(t, head+nodes)
}

// deadMembers serves five etcd members, every one a black hole, and two
// Docker hosts, one a manager; requests time out after timeout.
func deadMembers(t testing.TB, timeout time.Duration) (*verifytest.Fake, verify.Options) {
	c := verifytest.Load(t, "version: 1\ncluster: dead\nprofile: debian-12\ndocker: {port: 2375, tls: false}\netcd: {tls: false}\nnodes:\n"+
		"  - {name: e1, ip: 10.200.0.1, roles: [etcd]}\n  - {name: e2, ip: 10.200.0.2, roles: [etcd]}\n  - {name: e3, ip: 10.200.0.3, roles: [etcd]}\n"+
		"  - {name: e4, ip: 10.200.0.4, roles: [etcd]}\n  - {name: e5, ip: 10.200.0.5, roles: [etcd]}\n"+
		"  - {name: d1, ip: 10.200.0.11, roles: [docker, manager]}\n  - {name: d2, ip: 10.200.0.12, roles: [docker]}\n")
	f := verifytest.New(t, c)
	for _, m := range c.Members() {
		f.Set(m.Name, verifytest.Etcd, verifytest.BlackHole)
	}
	o := f.Options()
	o.Timeout = timeout
	return f, o
}

// fixture is the cluster served by fakes, every Docker host registered.
func fixture(t testing.TB, secure bool) (*verifytest.Fake, verify.Options) {
	f := verifytest.New(t, description(t, secure))
	f.Register()
	return f, f.Options()
}

func find(r *verify.Report, node, what string) verify.Check {
	for _, ch := range r.Checks {
		if ch.Node == node && ch.What == what {
			return ch
		}
	}
	return verify.Check{Node: node, What: what, Detail: "(no such check)"}
}

// want asserts a check's outcome: "✓", "!" (holds, with a warning) or
// "✗", and text in its detail.
func want(t *testing.T, r *verify.Report, node, what, mark, text string) {
	t.Helper()
	ch := find(r, node, what)
	if ch.Mark() != mark || !strings.Contains(ch.Detail, text) {
		t.Errorf("%s %s: %s %s\nwant %s …%s…", node, what, ch.Mark(), ch.Detail, mark, text)
	}
}

func run(f *verifytest.Fake, o verify.Options) *verify.Report {
	return verify.Run(context.Background(), f.C, o)
}

func TestHealthy(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "tls"}[secure], func(t *testing.T) {
			f, o := fixture(t, secure)
			r := run(f, o)
			if !r.Healthy || r.Warnings != 0 {
				t.Fatalf("a healthy cluster: healthy %v, %d warnings: %+v", r.Healthy, r.Warnings, r.Checks)
			}
			scheme, port := "http", "2375"
			if secure {
				scheme, port = "https", "2376"
			}
			want(t, r, "e1", "etcd member", "✓", "healthy, 3 members, peer "+scheme+"://10.200.0.1:2380")
			want(t, r, "d1", "engine", "✓", "Docker 29.1.3, API 1.52, floor 1.24")
			want(t, r, "d1", "manager", "✓", "primary; 3 of 3 engines Healthy")
			want(t, r, "d2", "manager", "✓", "replica; 3 of 3 engines Healthy")
			want(t, r, "d3", "registration", "✓", "10.200.0.13:"+port+" in /swarm/docker/swarm/nodes")
			want(t, r, "cluster", "registrations", "✓", "3, no strangers")
			want(t, r, "cluster", "managers", "✓", "one primary (d1) of 2")
			rows := 3 + 3*2 + 2 + 2 // members, engines and registrations, managers, cluster
			if secure {
				want(t, r, "e2", "etcd certificate", "✓", "days left)")
				want(t, r, "d2", "engine certificate", "✓", "expires ")
				want(t, r, "d2", "manager certificate", "✓", "expires ")
				rows += 3 + 3 + 2
			}
			if len(r.Checks) != rows {
				t.Errorf("%d checks, want %d: %+v", len(r.Checks), rows, r.Checks)
			}
			// The report's order is the description's, then the cluster's.
			var order []string
			for _, ch := range r.Checks {
				if len(order) == 0 || order[len(order)-1] != ch.Node {
					order = append(order, ch.Node)
				}
			}
			if got := strings.Join(order, " "); got != "e1 e2 e3 d1 d2 d3 cluster" {
				t.Errorf("order %s", got)
			}
		})
	}
}

// TestFirstMemberDown: the first member is down; the others answer for
// the registrations, and only the dead member fails.
func TestFirstMemberDown(t *testing.T) {
	f, o := fixture(t, true)
	f.Set("e1", verifytest.Etcd, verifytest.Refused)
	r := run(f, o)
	want(t, r, "e1", "etcd member", "✗", "https://10.200.0.1:2379/health: connection refused")
	want(t, r, "e1", "etcd certificate", "✗", "not seen")
	want(t, r, "e2", "etcd member", "✓", "healthy")
	want(t, r, "d1", "registration", "✓", "in /swarm/docker/swarm/nodes")
	want(t, r, "cluster", "registrations", "✓", "3, no strangers")
	if r.Healthy || r.Passing() != len(r.Checks)-2 {
		t.Errorf("want exactly e1's two checks failing: %+v", r.Checks)
	}
}

// The mutation audit's list: each of these went unseen before.
func TestMutationAudit(t *testing.T) {
	t.Run("two primaries", func(t *testing.T) {
		f, o := fixture(t, false)
		f.Change(func(s *verifytest.State) {
			s.Managers["d2"].Role = "primary"
		})
		r := run(f, o)
		want(t, r, "cluster", "managers", "✗", "several primaries: d1, d2")
		if r.Healthy {
			t.Error("two primaries reported healthy")
		}
	})
	t.Run("no primary", func(t *testing.T) {
		f, o := fixture(t, false)
		f.Change(func(s *verifytest.State) {
			s.Managers["d1"].Role = "replica"
		})
		want(t, run(f, o), "cluster", "managers", "✗", "no primary")
	})
	t.Run("member missing from the member list", func(t *testing.T) {
		f, o := fixture(t, false)
		f.Change(func(s *verifytest.State) {
			// e3 runs a cluster of its own; e1 and e2 form the other.
			two := []verifytest.Listed{{Name: "e1", PeerURLs: []string{"http://10.200.0.1:2380"}}, {Name: "e2", PeerURLs: []string{"http://10.200.0.2:2380"}}}
			s.Members["e1"].List, s.Members["e2"].List = two, two
			s.Members["e3"].List = []verifytest.Listed{{Name: "e3x", PeerURLs: []string{"http://10.200.0.3:2380"}}}
		})
		r := run(f, o)
		want(t, r, "e1", "etcd member", "✗", "its cluster has no member e3 (http://10.200.0.3:2380)")
		want(t, r, "e2", "etcd member", "✗", "its cluster has no member e3")
		want(t, r, "e3", "etcd member", "✗", "do not include e3")
		if r.Healthy {
			t.Error("a split etcd cluster reported healthy")
		}
	})
	t.Run("stranger in the member list", func(t *testing.T) {
		f, o := fixture(t, false)
		f.Change(func(s *verifytest.State) {
			s.Members["e2"].List = []verifytest.Listed{
				{Name: "e1", PeerURLs: []string{"http://10.200.0.1:2380"}}, {Name: "e2", PeerURLs: []string{"http://10.200.0.2:2380"}},
				{Name: "e3", PeerURLs: []string{"http://10.200.0.3:2380"}}, {Name: "old", PeerURLs: []string{"http://10.200.0.9:2380"}}}
		})
		want(t, run(f, o), "e2", "etcd member", "✗", `members the description does not: "old" ["http://10.200.0.9:2380"]`)
	})
	t.Run("wrong peer URLs", func(t *testing.T) {
		f, o := fixture(t, true)
		f.Change(func(s *verifytest.State) {
			list := []verifytest.Listed{
				{Name: "e1", PeerURLs: []string{"https://10.200.0.1:2380"}},
				{Name: "e2", PeerURLs: []string{"http://10.200.0.2:2380"}},  // wrong scheme
				{Name: "e3", PeerURLs: []string{"https://10.200.0.3:2381"}}, // wrong port
			}
			for _, n := range []string{"e1", "e2", "e3"} {
				s.Members[n].List = list
			}
		})
		r := run(f, o)
		want(t, r, "e2", "etcd member", "✗", `listed with peer URLs ["http://10.200.0.2:2380"], want https://10.200.0.2:2380`)
		want(t, r, "e3", "etcd member", "✗", `listed with peer URLs ["https://10.200.0.3:2381"], want https://10.200.0.3:2380`)
		// And e1 sees that two of its cluster's members are not where
		// the description puts them.
		want(t, r, "e1", "etcd member", "✗", "no member e2 (https://10.200.0.2:2380), e3 (https://10.200.0.3:2380)")
	})
	t.Run(`{"health":"false"}`, func(t *testing.T) {
		for _, code := range []int{200, 503} { // etcd says 503; a 200 must not pass either
			f, o := fixture(t, false)
			f.Change(func(s *verifytest.State) {
				s.Members["e2"].Health, s.Members["e2"].HealthCode = "false", code
			})
			want(t, run(f, o), "e2", "etcd member", "✗", `unhealthy: /health says "false"`)
		}
	})
	t.Run("registrations from the first member only", func(t *testing.T) {
		// The first member is down: the others must be asked.
		f, o := fixture(t, false)
		f.Set("e1", verifytest.Etcd, verifytest.Refused)
		want(t, run(f, o), "cluster", "registrations", "✓", "3, no strangers")
		// The first member is cut off from the others and still holds
		// every registration; the cluster holds none (the engines' keys
		// expired). It answers first: a plain read would take its word.
		g := verifytest.New(t, description(t, false)) // nothing registered
		g.Change(func(s *verifytest.State) {
			s.Members["e1"].Partitioned, s.Members["e1"].Stale = true, []string{"10.200.0.11:2375", "10.200.0.12:2375", "10.200.0.13:2375"}
			s.Members["e2"].Lag, s.Members["e3"].Lag = 200*time.Millisecond, 200*time.Millisecond
		})
		r := run(g, g.Options())
		want(t, r, "d1", "registration", "✗", "10.200.0.11:2375 is not registered")
		want(t, r, "cluster", "registrations", "✓", "0, no strangers")
	})
}

// TestProblemsFoundWhereTheyAre: each class of problem is reported at the
// node it is on.
func TestProblemsFoundWhereTheyAre(t *testing.T) {
	f, o := fixture(t, false)
	f.Change(func(s *verifytest.State) {
		s.Engines["d2"].MinAPIVersion = "1.44"
		s.Managers["d1"].Status["d2"] = "Pending"
		s.Managers["d2"].Status["d3"] = "-"
	})
	f.RegisterAddr("10.9.9.9:2375")
	r := run(f, o)
	want(t, r, "d2", "engine", "✗", "refuses classic swarm's API 1.31")
	want(t, r, "d1", "manager", "✗", "primary; d2 Pending")
	want(t, r, "d2", "manager", "✗", "replica; d3 missing")
	want(t, r, "cluster", "registrations", "✗", `registered but not in the description: "10.9.9.9:2375"`)
	want(t, r, "d1", "engine", "✓", "floor 1.24")
	if r.Healthy {
		t.Error("a broken cluster is reported healthy")
	}
	// Unregistered hosts are named.
	g := verifytest.New(t, f.C)
	g.Register("d1", "d3")
	r = run(g, g.Options())
	want(t, r, "d2", "registration", "✗", "10.200.0.12:2375 is not registered")
	want(t, r, "d1", "registration", "✓", "")
}
