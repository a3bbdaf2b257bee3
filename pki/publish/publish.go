package publish

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/swarmboot/swarmboot/pki"
)

// Outcome is what publishing did for one node.
type Outcome string

const (
	Published Outcome = "published" // written
	Unchanged Outcome = "unchanged" // etcd held that certificate already
	Failed    Outcome = "failed"
)

// Target is one node's certificate to publish, at Key(cluster, node).
type Target struct {
	Node string
	Key  string
	PEM  []byte
}

// Result is what became of one target.
type Result struct {
	Node    string
	Outcome Outcome
	URL     string // where it was written or found; "" when it failed
	Err     error  // Failed: every member's error, each naming its URL
}

// Options say how to reach etcd.
type Options struct {
	// Endpoints are etcd's client URLs (https://10.0.0.1:2379), asked in
	// turn: the first that answers serves, and keeps serving while it
	// does, so dead members cost one timeout each, once.
	Endpoints []string
	// TLS is the operator's client certificate and the cluster's CA; nil
	// speaks plain http (etcd.tls: false).
	TLS *tls.Config
	// Timeout bounds each request (default 5 s).
	Timeout time.Duration
	// Dial replaces the dialer (tests map node addresses to loopback).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// What publish reads of an answer, at most: a node's certificate is about
// 1 KiB of base64; etcd's JSON around it is small.
const (
	maxAnswer   = 64 << 10
	maxInFlight = 16 // nodes published at once
	casTries    = 3  // writes raced by another writer, then read again
)

// Publish writes every target's certificate, as its base64 PEM (Value),
// at its key in etcd's v2 keyspace: read first (a quorum read), left
// alone when etcd holds it already, else written with a compare-and-swap
// on what was read, so two operators publishing at once never silently
// overwrite each other. Results come back in the targets' order.
func Publish(ctx context.Context, targets []Target, o Options) []Result {
	p := newPublisher(o)
	results := make([]Result, len(targets))
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = p.publish(ctx, t)
		}()
	}
	wg.Wait()
	return results
}

type publisher struct {
	o         Options
	client    *http.Client
	preferred atomic.Int64 // the endpoint that answered last
}

func newPublisher(o Options) *publisher {
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Second
	}
	dial := o.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	tr := &http.Transport{
		Proxy: nil, // the cluster's own addresses: no proxy of the operator's environment
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, o.Timeout)
			defer cancel()
			return dial(ctx, network, addr)
		},
		TLSClientConfig:        o.TLS,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConnsPerHost:    maxInFlight,
	}
	return &publisher{o: o, client: &http.Client{
		Transport:     tr,
		Timeout:       o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// publish reads the key, and writes it unless it holds the certificate.
func (p *publisher) publish(ctx context.Context, t Target) Result {
	want := Value(t.PEM)
	r := Result{Node: t.Node, Outcome: Failed}
	for range casTries {
		var have *node
		var where string
		err := p.onEndpoint(ctx, func(base string) (bool, error) {
			where = keyURL(base, t.Key)
			var err error
			have, err = p.get(ctx, where)
			return err == nil, err
		})
		if err != nil {
			r.Err = err
			return r
		}
		if have != nil && have.Value == want {
			r.Outcome, r.URL = Unchanged, where
			return r
		}
		if there, ours, ok := issuedLater(have, t.PEM); ok {
			r.Err = fmt.Errorf("%s holds a certificate for this node's key issued after the PKI's (valid from %s, until %s; the PKI's from %s): it came from a newer copy of the PKI, and the node's agent would refuse this one, so it is left in place. Publish from that copy, or renew in this one (swarmboot pki renew --force) and publish again",
				where, day(there.NotBefore), day(there.NotAfter), day(ours.NotBefore))
			return r
		}
		raced := false
		err = p.onEndpoint(ctx, func(base string) (bool, error) {
			where = keyURL(base, t.Key)
			var err error
			raced, err = p.put(ctx, where, want, have)
			return err == nil, err
		})
		switch {
		case err != nil:
			r.Err = err
			return r
		case !raced:
			r.Outcome, r.URL = Published, where
			return r
		}
	}
	r.Err = fmt.Errorf("%s: another writer changed the key %d times while this one wrote; publish again", t.Key, casTries)
	return r
}

// issuedLater says whether etcd holds a certificate for the same key as
// ours that was issued after it (pki.IssuedAfter, the agent's own rule):
// writing ours over it would keep that newer one from nodes that have not
// fetched it yet. Anything that does not parse is simply replaced.
func issuedLater(have *node, ours []byte) (there, mine *x509.Certificate, later bool) {
	if have == nil {
		return nil, nil, false
	}
	therePEM, err := base64.StdEncoding.DecodeString(have.Value)
	if err != nil {
		return nil, nil, false
	}
	there, mine = parseCert(therePEM), parseCert(ours)
	if there == nil || mine == nil {
		return nil, nil, false
	}
	return there, mine, pki.SameKey(mine, there) && pki.IssuedAfter(there, mine)
}

func parseCert(pemBytes []byte) *x509.Certificate {
	blk, _ := pem.Decode(pemBytes)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil
	}
	return c
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// onEndpoint runs f against the endpoints, the one that served last
// first, until one serves; the error names every endpoint tried.
func (p *publisher) onEndpoint(ctx context.Context, f func(base string) (served bool, err error)) error {
	n := len(p.o.Endpoints)
	if n == 0 {
		return errors.New("no etcd member to publish to: the description has no etcd member")
	}
	start := int(p.preferred.Load())
	var errs []string
	for i := range n {
		k := (start + i) % n
		served, err := f(p.o.Endpoints[k])
		if served {
			p.preferred.Store(int64(k))
			return nil
		}
		errs = append(errs, err.Error())
		if ctx.Err() != nil {
			break
		}
	}
	return errors.New(strings.Join(errs, "; "))
}

// node is etcd's v2 answer for a key.
type node struct {
	Value         string `json:"value"`
	ModifiedIndex uint64 `json:"modifiedIndex"`
}

// etcdError is etcd's v2 error body.
type etcdError struct {
	ErrorCode int    `json:"errorCode"`
	Message   string `json:"message"`
	Cause     string `json:"cause"`
}

// The v2 error codes publish acts on (etcd's error/error.go).
const (
	keyNotFound   = 100
	compareFailed = 101
	nodeExists    = 105
)

// get reads the key with a quorum read; nil when it does not exist.
func (p *publisher) get(ctx context.Context, u string) (*node, error) {
	status, body, err := p.do(ctx, http.MethodGet, u+"?quorum=true", nil)
	if err != nil {
		return nil, err
	}
	switch status {
	case http.StatusOK:
		var ans struct{ Node *node }
		if err := json.Unmarshal(body, &ans); err != nil || ans.Node == nil {
			return nil, fmt.Errorf("%s: not etcd's answer for a key (%s)", u, snippet(body))
		}
		return ans.Node, nil
	case http.StatusNotFound:
		if e, ok := asEtcdError(body); ok && e.ErrorCode == keyNotFound {
			return nil, nil
		}
	}
	return nil, statusError(u, status, body)
}

// put writes the value, on condition that the key is still what get
// found (prevIndex), or still absent (prevExist=false); raced reports
// that it was not.
func (p *publisher) put(ctx context.Context, u, value string, have *node) (raced bool, err error) {
	form := url.Values{"value": {value}}
	if have == nil {
		form.Set("prevExist", "false")
	} else {
		form.Set("prevIndex", strconv.FormatUint(have.ModifiedIndex, 10))
	}
	status, body, err := p.do(ctx, http.MethodPut, u, strings.NewReader(form.Encode()))
	if err != nil {
		return false, err
	}
	switch status {
	case http.StatusOK, http.StatusCreated:
		return false, nil
	case http.StatusPreconditionFailed:
		if e, ok := asEtcdError(body); ok && (e.ErrorCode == compareFailed || e.ErrorCode == nodeExists) {
			return true, nil
		}
	}
	return false, statusError(u, status, body)
}

// do makes one request and reads a bounded answer; its error names u.
func (p *publisher) do(ctx context.Context, method, u string, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %s", strings.SplitN(u, "?", 2)[0], describe(err, p.o.Timeout))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	switch {
	case err != nil:
		return 0, nil, fmt.Errorf("%s: reading the answer: %s", u, describe(err, p.o.Timeout))
	case len(b) > maxAnswer:
		return 0, nil, fmt.Errorf("%s: an answer over %d KiB, not etcd's", u, maxAnswer>>10)
	}
	return resp.StatusCode, b, nil
}

func asEtcdError(body []byte) (etcdError, bool) {
	var e etcdError
	err := json.Unmarshal(body, &e)
	return e, err == nil && e.ErrorCode != 0
}

// statusError explains an answer publish cannot use.
func statusError(u string, status int, body []byte) error {
	if e, ok := asEtcdError(body); ok {
		return fmt.Errorf("%s: etcd answered %d: %s (error %d)", u, status, strings.TrimSpace(e.Message+" "+e.Cause), e.ErrorCode)
	}
	if status >= 300 && status < 400 {
		return fmt.Errorf("%s: a redirect (%d), which publish does not follow: not etcd's v2 API", u, status)
	}
	return fmt.Errorf("%s: HTTP %d: %s", u, status, snippet(body))
}

// snippet is the start of an answer, safe to print.
func snippet(b []byte) string {
	s := strconv.Quote(string(b[:min(len(b), 120)]))
	if len(b) > 120 {
		s += "..."
	}
	return s
}

// describe says what went wrong with a request, in the operator's words.
func describe(err error, timeout time.Duration) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no answer within %s (member down, or a firewall)", timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (etcd is not running there, or listens elsewhere)"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to the member"
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return err.Error()
}

// keyURL is the v2 keys URL of key at an etcd client URL.
func keyURL(base, key string) string {
	return strings.TrimSuffix(base, "/") + "/v2/keys" + key
}
