package verify_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/swarmboot/swarmboot/internal/verifytest"
	"github.com/swarmboot/swarmboot/verify"
)

// Misbehaving servers on loopback, one class each: what they send must not
// reach the operator's terminal raw, pass for a node's answer, exhaust the
// operator's memory or time, or leave an error without its URL.

func answer(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(code)
		fmt.Fprint(w, body)
	}
}

// TestServerTextEscaped: newlines, ANSI sequences, bidi overrides and
// floods in answers come out escaped and cut, on one line.
func TestServerTextEscaped(t *testing.T) {
	f, o := fixture(t, false)
	forged := "\nd9  engine  ✓ fine\nhealthy: 99 of 99 checks pass\x1b[2K\x1b[1A"
	f.Change(func(s *verifytest.State) {
		s.Engines["d1"].Version = "29.1.3" + forged
		s.Engines["d3"].MinAPIVersion = "1.24\u202e"
		s.Managers["d1"].Status["d3"] = "Pending" + forged
		s.Managers["d2"].Role = "primary\u2067\r"
		s.Members["e2"].Health = "false" + forged
	})
	f.Handle("e3", verifytest.Etcd, answer(500, strings.Repeat("\x1b[31m\u202eno ", 5000)))
	// Go's own error repeats a malformed header line as it came.
	f.Handle("d2", verifytest.Engine, raw("HTTP/1.1 200 OK\r\nBad\x1b[31m\u202e header\r\n\r\n", false))
	f.RegisterAddr("10.9.9.9:2375" + forged)
	r := run(f, o)
	for _, ch := range r.Checks {
		for _, s := range []string{ch.Node, ch.What, ch.Detail} {
			if i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }); i >= 0 {
				t.Errorf("%s %s: unescaped %q in %q", ch.Node, ch.What, s[i:min(i+4, len(s))], s)
			}
		}
		if n := len([]rune(ch.Detail)); n > 2001 {
			t.Errorf("%s %s: %d runes", ch.Node, ch.What, n)
		}
	}
	want(t, r, "d1", "engine", "✗", `not as a Docker engine: Version "29.1.3\nd9  engine  ✓ fine\nhealthy: 99 of 99 checks pass\x1b[2K\x1b[1A"`)
	want(t, r, "d3", "engine", "✗", `MinAPIVersion "1.24\u202e"`)
	want(t, r, "d1", "manager", "✗", `primary; d3 "Pending\nd9`)
	want(t, r, "d2", "manager", "✗", `its role is "primary\u2067\r"`)
	want(t, r, "e2", "etcd member", "✗", `/health says "false\nd9`)
	want(t, r, "e3", "etcd member", "✗", `http://10.200.0.3:2379/health: HTTP 500 Internal Server Error: "\x1b[31m\u202eno`)
	want(t, r, "e3", "etcd member", "✗", `… (54999 bytes)`)
	want(t, r, "cluster", "registrations", "✗", `"10.9.9.9:2375\nd9  engine`)
	want(t, r, "d2", "engine", "✗", `malformed MIME header`)
}

// TestEveryDetailEscaped: whatever text reaches a check, from any layer
// (here the dialer's error), leaves verify escaped.
func TestEveryDetailEscaped(t *testing.T) {
	f, o := fixture(t, false)
	o.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == "10.200.0.11:2375" {
			return nil, errors.New("refused\nd1  engine  ✓ fine\x1b[1A\u202e")
		}
		return f.Dial(ctx, network, addr)
	}
	want(t, run(f, o), "d1", "engine", "✗", `http://10.200.0.11:2375/version: refused\nd1  engine  ✓ fine\x1b[1A\u202e`)
}

// TestRegistrationsListingChecked: keys that are not directly under the
// swarm's directory do not count as registrations.
func TestRegistrationsListingChecked(t *testing.T) {
	f, o := fixture(t, false)
	listing := answer(200, `{"action":"get","node":{"key":"/swarm/docker/swarm/nodes","dir":true,"nodes":[`+
		`{"key":"/swarm/docker/swarm/nodes/10.200.0.11:2375","value":"x"},`+
		`{"key":"/elsewhere/10.200.0.12:2375","value":"x"},`+
		`{"key":"/swarm/docker/swarm/nodes/old/10.200.0.13:2375","dir":true}]}}`)
	for _, e := range []string{"e1", "e2", "e3"} {
		f.Handle(e, verifytest.Etcd, listing)
	}
	r := run(f, o)
	want(t, r, "d1", "registration", "✗", `lists "/elsewhere/10.200.0.12:2375", which is not a key directly under /swarm/docker/swarm/nodes`)
	want(t, r, "d2", "registration", "✗", `http://10.200.0.1:2379/v2/keys/swarm/docker/swarm/nodes?quorum=true: lists "/elsewhere/`)
	// A listing of another directory is not this one's.
	for _, e := range []string{"e1", "e2", "e3"} {
		f.Handle(e, verifytest.Etcd, answer(200, `{"action":"get","node":{"key":"/other","dir":true,"nodes":[]}}`))
	}
	want(t, run(f, o), "cluster", "registrations", "✗", `answers for "/other", not the directory /swarm/docker/swarm/nodes`)
}

// TestNoRedirect: a node that redirects elsewhere fails, naming where to,
// even when the other server's answer would pass.
func TestNoRedirect(t *testing.T) {
	f, o := fixture(t, false)
	f.Handle("d1", verifytest.Engine, http.RedirectHandler("http://10.200.0.12:2375/version", http.StatusFound))
	moved := http.RedirectHandler("http://10.200.0.9:2379/v2/keys/swarm/docker/swarm/nodes", http.StatusTemporaryRedirect)
	for _, e := range []string{"e1", "e2", "e3"} {
		f.Handle(e, verifytest.Etcd, moved)
	}
	r := run(f, o)
	want(t, r, "d1", "engine", "✗", `http://10.200.0.11:2375/version: redirects (HTTP 302) to "http://10.200.0.12:2375/version"; verify follows no redirect`)
	want(t, r, "cluster", "registrations", "✗", `http://10.200.0.1:2379/v2/keys/swarm/docker/swarm/nodes?quorum=true: redirects (HTTP 307) to "http://10.200.0.9:2379/`)
}

// raw writes text as the whole answer, then closes or, with stall, holds
// the connection until the client gives up.
func raw(text string, stall bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.Write([]byte(text))
		if stall {
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			conn.Read(make([]byte, 1)) // returns when the client closes
		}
	}
}

// endless answers an unending body.
func endless(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	chunk := []byte(strings.Repeat(`{"Version":"x"},`, 4096))
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// TestAnswersBounded: verify reads no more of an answer than a real one
// needs, headers included, and what it allocates stays about that.
func TestAnswersBounded(t *testing.T) {
	f, o := fixture(t, false)
	f.Handle("d1", verifytest.Engine, http.HandlerFunc(endless))
	f.Handle("d2", verifytest.Engine, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 2000 {
			w.Header().Set(fmt.Sprintf("X-Flood-%d", i), strings.Repeat("x", 500))
		}
	}))
	// A manager's /info for three engines, padded well past what three
	// engines' lines take.
	f.Handle("d1", verifytest.Manager, answer(200, `{"SystemStatus":[["Role","primary"],["Padding","`+strings.Repeat("x", 100<<10)+`"]]}`))
	r := run(f, o)
	want(t, r, "d1", "engine", "✗", "http://10.200.0.11:2375/version: answer larger than 64 KiB, more than a real one holds")
	want(t, r, "d2", "engine", "✗", "http://10.200.0.12:2375/version: ")
	want(t, r, "d2", "engine", "✗", "server response headers exceeded 16384 bytes")
	want(t, r, "d1", "manager", "✗", "http://10.200.0.11:8333/info: answer larger than 76 KiB")

	// What an endless answer costs: a pass with one, less a pass with a
	// real answer in its place.
	g, o := fixture(t, false)
	allocs := func() uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 3 {
			run(g, o)
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / 3
	}
	allocs() // warm up: first-use allocations are not the answers'
	normal := allocs()
	g.Handle("d1", verifytest.Engine, http.HandlerFunc(endless))
	if cost := int64(allocs()) - int64(normal); cost > 1<<20 {
		t.Errorf("an endless answer cost %d KiB more than a real one; the bound allows about 128 KiB", cost>>10)
	}
}

// hosts is a description with three etcd members and n Docker hosts, the
// first two managers.
func hosts(t testing.TB, n int, secure bool) string {
	var b strings.Builder
	b.WriteString("version: 1\ncluster: big\nprofile: debian-12\n")
	if !secure {
		b.WriteString("docker: {port: 2375, tls: false}\netcd: {tls: false}\n")
	}
	b.WriteString("nodes:\n  - {name: e1, ip: 10.200.0.1, roles: [etcd]}\n  - {name: e2, ip: 10.200.0.2, roles: [etcd]}\n  - {name: e3, ip: 10.200.0.3, roles: [etcd]}\n")
	for i := range n {
		roles := "docker"
		if i < 2 {
			roles = "docker, manager"
		}
		fmt.Fprintf(&b, "  - {name: d%d, ip: 10.201.%d.%d, roles: [%s]}\n", i, i/250, i%250+1, roles)
	}
	return b.String()
}

// TestRequestsInFlightBounded: a big cluster is not asked all at once.
func TestRequestsInFlightBounded(t *testing.T) {
	f := verifytest.New(t, verifytest.Load(t, hosts(t, 200, false)))
	f.Register()
	f.Delay = 20 * time.Millisecond // answers overlap
	r := run(f, f.Options())
	if !r.Healthy {
		t.Fatalf("%+v", r.Checks)
	}
	// 32 steps, and the registrations' read of each of the 3 members.
	if p := f.Peak(); p > 32+3 || p < 16 {
		t.Errorf("%d requests in flight at the peak, want at most 35 (and parallelism)", p)
	}
}

// TestDeadMembersAskedAtOnce: with every member a black hole, every
// member's check and every member's registration read wait at the same
// time, so the pass takes one timeout, not one per member.
func TestDeadMembersAskedAtOnce(t *testing.T) {
	f, o := deadMembers(t, 500*time.Millisecond)
	r := run(f, o)
	if got := f.PeakHoles(); got != 10 {
		t.Errorf("%d requests to dead members waited at once, want all 10 (5 checks, 5 registration reads)", got)
	}
	// And none lingers: a dial the transport would go on with after its
	// request gave up ends with it (unbounded, it would wait for ever).
	for deadline := time.Now().Add(5 * time.Second); f.Holes() != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d dials still under way 5s after the pass", f.Holes())
		}
	}
	ch := find(r, "cluster", "registrations")
	for _, m := range f.C.Members() {
		if u := fmt.Sprintf("http://%s:2379/v2/keys/swarm/docker/swarm/nodes?quorum=true: no answer within 500ms", m.IP); !strings.Contains(ch.Detail, u) {
			t.Errorf("registrations: %s\nwant %s", ch.Detail, u)
		}
	}
}

// TestErrorsNameTheURL: however a server fails, the error says which URL.
func TestErrorsNameTheURL(t *testing.T) {
	cases := []struct {
		name string
		h    http.Handler
		want string
	}{
		{"cut short", raw("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"Version\":", false), "answer cut short after 11 bytes: unexpected EOF"},
		{"stalls mid-answer", raw("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"Version\":", true), "answer incomplete after 1s (11 bytes read)"},
		{"closes at once", raw("", false), "the node closed the connection without an answer (EOF)"},
		{"not HTTP", raw("SSH-2.0-OpenSSH_9.2\r\n", false), `malformed HTTP response "SSH-2.0-OpenSSH_9.2"`}, // after Go's words
		{"empty error", answer(500, ""), "HTTP 500 Internal Server Error, with an empty answer"},
		{"not JSON", answer(200, "<html>hello</html>"), `not the expected answer: "<html>hello</html>"`},
		{"never answers", nil, "no answer within 1s (node down, or a firewall)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, o := fixture(t, false)
			o.Timeout = time.Second
			if tc.h == nil {
				f.Set("d1", verifytest.Engine, verifytest.BlackHole)
			} else {
				f.Handle("d1", verifytest.Engine, tc.h)
			}
			ch := find(run(f, o), "d1", "engine")
			if ch.OK || !strings.HasPrefix(ch.Detail, "http://10.200.0.11:2375/version: ") || !strings.Contains(ch.Detail, tc.want) {
				t.Errorf("d1 engine: %+v\nwant the URL, then …%s…", ch, tc.want)
			}
		})
	}
}

// TestPollKeepsTheDeadline: a pass against black holes is cut at the
// wait's deadline, though each request may take longer.
func TestPollKeepsTheDeadline(t *testing.T) {
	f, o := fixture(t, false)
	f.SetAll(verifytest.BlackHole)
	o.Timeout = 30 * time.Second
	start := time.Now()
	r := verify.Poll(context.Background(), f.C, o, time.Second, func(*verify.Report) { t.Error("no second pass fits in 1s") })
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("--wait 1s with 30s request timeouts took %s", took)
	}
	want(t, r, "d1", "engine", "✗", "http://10.200.0.11:2375/version: no answer when the deadline passed")
	want(t, r, "e1", "etcd member", "✗", "http://10.200.0.1:2379/health: no answer when the deadline passed")
}
