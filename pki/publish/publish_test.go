package publish

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/internal/verifytest"
)

// fakeEtcd is etcd's v2 keys API on loopback, as far as publish uses it:
// quorum reads, and writes conditioned on prevIndex or prevExist=false,
// with etcd's own error bodies and codes.
type fakeEtcd struct {
	mu    sync.Mutex
	index uint64
	keys  map[string]node
	gets  int
	puts  int
	// beforePut, when set, runs before each write is judged (a racing
	// writer).
	beforePut func(f *fakeEtcd, key string)
	srv       *httptest.Server
}

func newFakeEtcd(t *testing.T) *fakeEtcd {
	f := &fakeEtcd{keys: map[string]node{}, index: 1}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeEtcd) set(key, value string) {
	f.index++
	f.keys[key] = node{Value: value, ModifiedIndex: f.index}
}

func etcdErr(w http.ResponseWriter, status, code int, msg, cause string) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(etcdError{ErrorCode: code, Message: msg, Cause: cause})
}

func (f *fakeEtcd) serve(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutPrefix(r.URL.Path, "/v2/keys")
	if !ok {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		f.gets++
		if r.URL.Query().Get("quorum") != "true" {
			http.Error(w, "publish must read with quorum=true", http.StatusBadRequest)
			return
		}
		n, ok := f.keys[key]
		if !ok {
			etcdErr(w, http.StatusNotFound, keyNotFound, "Key not found", key)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"action": "get", "node": map[string]any{"key": key, "value": n.Value, "modifiedIndex": n.ModifiedIndex}})
	case http.MethodPut:
		f.puts++
		if f.beforePut != nil {
			f.beforePut(f, key)
		}
		r.ParseForm()
		n, exists := f.keys[key]
		switch {
		case r.PostForm.Get("prevExist") == "false" && exists:
			etcdErr(w, http.StatusPreconditionFailed, nodeExists, "Key already exists", key)
			return
		case r.PostForm.Has("prevIndex") && (!exists || r.PostForm.Get("prevIndex") != strconv.FormatUint(n.ModifiedIndex, 10)):
			etcdErr(w, http.StatusPreconditionFailed, compareFailed, "Compare failed", key)
			return
		}
		f.set(key, r.PostForm.Get("value"))
		status := http.StatusOK
		if !exists {
			status = http.StatusCreated
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"action":"set","node":{"key":%q}}`, key)
	}
}

var pemA = []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
var pemB = []byte("-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n")

func one(t *testing.T, o Options, tg Target) Result {
	t.Helper()
	r := Publish(context.Background(), []Target{tg}, o)
	if len(r) != 1 || r[0].Node != tg.Node {
		t.Fatalf("results %+v", r)
	}
	return r[0]
}

// The certificate lands at the node's key as its base64 PEM; publishing it
// again changes nothing; a renewed one replaces it, on condition that the
// key is still what was read.
func TestPublish(t *testing.T) {
	f := newFakeEtcd(t)
	o := Options{Endpoints: []string{f.srv.URL}}
	key := Key("demo", "node-1")
	if key != "/swarmboot/demo/certs/node-1" {
		t.Fatalf("Key = %s", key)
	}
	tg := Target{Node: "node-1", Key: key, PEM: pemA}
	want := f.srv.URL + "/v2/keys/swarmboot/demo/certs/node-1"
	if r := one(t, o, tg); r.Outcome != Published || r.URL != want || r.Err != nil {
		t.Fatalf("first: %+v", r)
	}
	if got, _ := base64.StdEncoding.DecodeString(f.keys[key].Value); string(got) != string(pemA) || strings.Contains(f.keys[key].Value, "\n") {
		t.Fatalf("etcd holds %q", f.keys[key].Value)
	}
	puts := f.puts
	if r := one(t, o, tg); r.Outcome != Unchanged || r.URL != want || f.puts != puts {
		t.Fatalf("again: %+v (writes %d -> %d)", r, puts, f.puts)
	}
	tg.PEM = pemB
	if r := one(t, o, tg); r.Outcome != Published || f.keys[key].Value != Value(pemB) {
		t.Fatalf("renewed: %+v, etcd holds %q", r, f.keys[key].Value)
	}
}

// A write raced by another writer is not made blindly: publish reads
// again and decides again; a writer that never lets go is an error.
func TestPublishRaced(t *testing.T) {
	f := newFakeEtcd(t)
	o := Options{Endpoints: []string{f.srv.URL}}
	key := Key("demo", "node-1")
	races := 1
	f.beforePut = func(f *fakeEtcd, k string) {
		if races > 0 {
			races--
			f.set(k, Value(pemB)) // someone publishes another certificate meanwhile
		}
	}
	if r := one(t, o, Target{Node: "node-1", Key: key, PEM: pemA}); r.Outcome != Published || f.keys[key].Value != Value(pemA) || f.puts != 2 {
		t.Fatalf("raced once: %+v, %d writes", r, f.puts)
	}
	// The other writer wrote the very certificate: nothing left to do.
	races = 1
	f.beforePut = func(f *fakeEtcd, k string) {
		if races > 0 {
			races--
			f.set(k, Value(pemB))
		}
	}
	if r := one(t, o, Target{Node: "node-1", Key: key, PEM: pemB}); r.Outcome != Unchanged {
		t.Fatalf("raced by the same certificate: %+v", r)
	}
	f.beforePut = func(f *fakeEtcd, k string) { f.set(k, "x") }
	r := one(t, o, Target{Node: "node-1", Key: key, PEM: pemA})
	if r.Outcome != Failed || r.Err == nil || !strings.Contains(r.Err.Error(), "another writer changed the key 3 times") {
		t.Fatalf("raced forever: %+v", r)
	}
}

// Members are asked in turn, the one that answered last first: dead
// members cost little, and every member's error is named when none
// answers.
func TestPublishMembers(t *testing.T) {
	f := newFakeEtcd(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	hole, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	silent := "http://" + hole.Addr().String()
	o := Options{Endpoints: []string{dead, silent, f.srv.URL}, Timeout: 300 * time.Millisecond}
	var targets []Target
	for i := range 40 {
		n := fmt.Sprintf("node-%d", i)
		targets = append(targets, Target{Node: n, Key: Key("demo", n), PEM: pemA})
	}
	results := Publish(context.Background(), targets, o)
	for i, r := range results {
		if r.Node != targets[i].Node || r.Outcome != Published || !strings.HasPrefix(r.URL, f.srv.URL) {
			t.Errorf("%d: %+v", i, r)
		}
	}
	// Once a member answered, the others go to it first: only the first
	// wave (at most maxInFlight at once) waited on the silent member.
	mu.Lock()
	waited := len(held)
	mu.Unlock()
	if waited == 0 || waited > maxInFlight {
		t.Errorf("%d requests waited on the silent member; want 1 to %d of %d", waited, maxInFlight, len(targets))
	}

	o.Endpoints = []string{dead, silent}
	r := one(t, o, targets[0])
	if r.Outcome != Failed || r.Err == nil {
		t.Fatalf("no member: %+v", r)
	}
	for _, want := range []string{
		dead + "/v2/keys/swarmboot/demo/certs/node-0: connection refused",
		silent + "/v2/keys/swarmboot/demo/certs/node-0: no answer within 300ms",
	} {
		if !strings.Contains(r.Err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, r.Err)
		}
	}
	if o.Endpoints = nil; !strings.Contains(one(t, o, targets[0]).Err.Error(), "no etcd member") {
		t.Error("no endpoint at all must say so")
	}
}

// What is not etcd's v2 answer is an error naming the URL, never taken for
// "absent" or "written": a redirect (not followed), a 404 without etcd's
// error code, an endless answer, etcd's own errors.
func TestPublishOddAnswers(t *testing.T) {
	var followed bool
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed = true }))
	defer other.Close()
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
		want string
	}{
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
		}, "a redirect (307), which publish does not follow"},
		{"404 of another server", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, `HTTP 404: "404 page not found\n"`},
		{"endless", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(strings.Repeat("x", maxAnswer+10)))
		}, "an answer over 64 KiB"},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) }, "not etcd's answer for a key"},
		{"etcd refuses", func(w http.ResponseWriter, r *http.Request) {
			etcdErr(w, http.StatusInternalServerError, 300, "Raft Internal Error", "etcdserver: request timed out")
		}, "etcd answered 500: Raft Internal Error etcdserver: request timed out (error 300)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.h)
			defer srv.Close()
			r := one(t, Options{Endpoints: []string{srv.URL}}, Target{Node: "n", Key: Key("c", "n"), PEM: pemA})
			if r.Outcome != Failed || r.Err == nil || !strings.Contains(r.Err.Error(), srv.URL+"/v2/keys/swarmboot/c/certs/n") || !strings.Contains(r.Err.Error(), tc.want) {
				t.Errorf("%+v, want an error naming the URL and saying %q", r, tc.want)
			}
		})
	}
	if followed {
		t.Error("a redirect was followed")
	}
}

// A certificate etcd holds for the node's key, issued after the one being
// published (a newer copy of the PKI published it), is left in place and
// the node fails, saying why; an older one, or one for another key, is
// replaced.
func TestPublishKeepsLaterIssued(t *testing.T) {
	now := time.Now()
	ca := verifytest.NewCA("demo CA", now)
	older := ca.Issue("node-1", nil, now.Add(-2*time.Hour), now.Add(48*time.Hour), nil, false)
	newer := ca.Issue("node-1", nil, now.Add(-time.Hour), now.Add(24*time.Hour), older.Key, false)
	rekeyed := ca.Issue("node-1", nil, now.Add(-3*time.Hour), now.Add(24*time.Hour), nil, false) // issued before: only its key lets it through
	f := newFakeEtcd(t)
	o := Options{Endpoints: []string{f.srv.URL}}
	key := Key("demo", "node-1")

	f.set(key, Value(newer.CertPEM))
	puts := f.puts
	r := one(t, o, Target{Node: "node-1", Key: key, PEM: older.CertPEM})
	if r.Outcome != Failed || r.Err == nil || !strings.Contains(r.Err.Error(), "issued after the PKI's") || f.puts != puts || f.keys[key].Value != Value(newer.CertPEM) {
		t.Fatalf("an older certificate over a newer one: %+v; etcd holds the newer one: %v", r, f.keys[key].Value == Value(newer.CertPEM))
	}
	if r := one(t, o, Target{Node: "node-1", Key: key, PEM: rekeyed.CertPEM}); r.Outcome != Published {
		t.Fatalf("another key: %+v", r)
	}
	f.set(key, Value(older.CertPEM))
	if r := one(t, o, Target{Node: "node-1", Key: key, PEM: newer.CertPEM}); r.Outcome != Published || f.keys[key].Value != Value(newer.CertPEM) {
		t.Fatalf("a newer certificate over an older one: %+v", r)
	}
}
