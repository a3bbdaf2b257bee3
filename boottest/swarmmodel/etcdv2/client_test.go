package etcdv2

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// member is a fake etcd member answering with a fixed behaviour.
func member(t *testing.T, h http.HandlerFunc) (string, *atomic.Int32) {
	var hits atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://"), &hits
}

func okMember(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Etcd-Index", "42")
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"action":"get","node":{"key":%q,"value":"v","modifiedIndex":7,"createdIndex":7}}`, strings.TrimPrefix(r.URL.Path, "/v2/keys"))
}

func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	l.Close()
	return a
}

// TestFailover: a dead endpoint, a hung one (header timeout) and one
// without a leader (5xx) are skipped; the one that answers is pinned and
// asked first next time.
func TestFailover(t *testing.T) {
	hung, _ := member(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	noLeader, noLeaderHits := member(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"errorCode":300,"message":"Raft Internal Error","cause":"etcdserver: request timed out"}`)
	})
	good, goodHits := member(t, okMember)
	c, err := New(Config{Endpoints: []string{deadAddr(t), hung, noLeader, good}, HeaderTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(context.Background(), "/a/b", GetOptions{Quorum: true})
	if err != nil || resp.Node.Value != "v" || resp.Index != 42 || resp.Node.Key != "/a/b" {
		t.Fatalf("get: %+v %v", resp, err)
	}
	if got := c.Endpoints()[0]; got != "http://"+good {
		t.Errorf("pinned %s, want %s", got, good)
	}
	n := noLeaderHits.Load()
	if _, err := c.Get(context.Background(), "/a/b", GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if noLeaderHits.Load() != n || goodHits.Load() != 2 {
		t.Errorf("second request did not go to the pinned member first")
	}
}

// TestClusterError: when no member answers the error is upstream's, with
// the reasons in Detail.
func TestClusterError(t *testing.T) {
	noLeader, _ := member(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	c, _ := New(Config{Endpoints: []string{deadAddr(t), noLeader}, HeaderTimeout: 200 * time.Millisecond})
	_, err := c.Set(context.Background(), "/k", "v", SetOptions{TTL: 3 * time.Second})
	var ce *ClusterError
	if !errors.As(err, &ce) || err.Error() != "client: etcd cluster is unavailable or misconfigured" {
		t.Fatalf("err %v", err)
	}
	d := ce.Detail()
	if !strings.Contains(d, "error #0: ") || !strings.Contains(d, "connection refused") ||
		!strings.Contains(d, "error #1: client: etcd member http://"+noLeader+" has no leader") {
		t.Errorf("detail %q", d)
	}
}

// TestEtcdErrorIsAnAnswer: an etcd error (key not found) is returned as
// such and does not make the client try other members.
func TestEtcdErrorIsAnAnswer(t *testing.T) {
	notFound, _ := member(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"errorCode":100,"message":"Key not found","cause":"/k","index":9}`)
	})
	other, otherHits := member(t, okMember)
	c, _ := New(Config{Endpoints: []string{notFound, other}})
	_, err := c.Get(context.Background(), "/k", GetOptions{})
	var e *Error
	if !errors.As(err, &e) || e.Code != ErrCodeKeyNotFound || e.Index != 9 || !IsCode(err, ErrCodeKeyNotFound) {
		t.Fatalf("err %v", err)
	}
	if otherHits.Load() != 0 {
		t.Errorf("asked another member after an etcd error")
	}
}

// TestSetRequest: the form and query of a PUT, as the upstream client
// sends them.
func TestSetRequest(t *testing.T) {
	var got string
	ep, _ := member(t, func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got = r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery + " value=" + r.PostForm.Get("value") + " ttl=" + r.PostForm.Get("ttl")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"action":"create","node":{"key":"/l","value":"a","modifiedIndex":3,"createdIndex":3}}`)
	})
	c, _ := New(Config{Endpoints: []string{ep}})
	if _, err := c.Set(context.Background(), "swarm/docker/swarm/leader", "10.0.0.1:4000", SetOptions{TTL: 20 * time.Second, PrevExist: PrevNoExist}); err != nil {
		t.Fatal(err)
	}
	if want := "PUT /v2/keys/swarm/docker/swarm/leader?prevExist=false value=10.0.0.1:4000 ttl=20"; got != want {
		t.Errorf("request %q, want %q", got, want)
	}
}

// TestWatch: a watch has no header timeout, waits again after etcd's empty
// answer, and gives up with the caller's context.
func TestWatch(t *testing.T) {
	var calls atomic.Int32
	ep, _ := member(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("wait") != "true" || r.URL.Query().Get("waitIndex") != "5" || r.URL.Query().Get("recursive") != "true" {
			t.Errorf("watch query %s", r.URL.RawQuery)
		}
		switch calls.Add(1) {
		case 1:
			return // empty answer
		case 2:
			time.Sleep(300 * time.Millisecond) // longer than the header timeout
			fmt.Fprint(w, `{"action":"expire","node":{"key":"/d/x","modifiedIndex":6,"createdIndex":4}}`)
		default:
			<-r.Context().Done()
		}
	})
	c, _ := New(Config{Endpoints: []string{ep}, HeaderTimeout: 100 * time.Millisecond})
	resp, err := c.Watch(context.Background(), "/d", WatchOptions{Recursive: true, WaitIndex: 5})
	if err != nil || resp.Action != "expire" || resp.Node.ModifiedIndex != 6 {
		t.Fatalf("watch: %+v %v", resp, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Watch(ctx, "/d", WatchOptions{Recursive: true, WaitIndex: 5}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("bounded watch: %v", err)
	}
}
