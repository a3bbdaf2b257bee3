// Package etcdv2 is the small etcd v2 keys API client the swarm model needs:
// set (with TTL and compare-and-swap conditions), get/list, delete and
// long-poll watch, over a list of endpoints with failover.
//
// Learned from the client classic swarm 1.2.9 vendors through docker/libkv
// (vendor/github.com/coreos/etcd/client/client.go, keys.go,
// cluster_error.go; vendor/github.com/docker/libkv/store/etcd/etcd.go):
// requests go to the last endpoint that answered ("pinned") and then to the
// others in turn; a transport error, a per-request header timeout (3 s in
// libkv) or a 5xx answer (500/503 from a member without a leader) moves on
// to the next endpoint; an etcd error such as "key not found" is an answer,
// not a failure. When every endpoint failed the error reads "client: etcd
// cluster is unavailable or misconfigured", as upstream's does.
package etcdv2

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Error codes of the v2 API the model reacts to.
const (
	ErrCodeKeyNotFound       = 100
	ErrCodeTestFailed        = 101
	ErrCodeNodeExist         = 105
	ErrCodeEventIndexCleared = 401
)

// DefaultHeaderTimeout is libkv's HeaderTimeoutPerRequest for etcd.
const DefaultHeaderTimeout = 3 * time.Second

// Node is one key or directory.
type Node struct {
	Key           string     `json:"key"`
	Value         string     `json:"value,omitempty"`
	Dir           bool       `json:"dir,omitempty"`
	Expiration    *time.Time `json:"expiration,omitempty"`
	TTL           int64      `json:"ttl,omitempty"`
	Nodes         []*Node    `json:"nodes,omitempty"`
	ModifiedIndex uint64     `json:"modifiedIndex"`
	CreatedIndex  uint64     `json:"createdIndex"`
}

// Response is a successful answer. Index is the X-Etcd-Index header: the
// store's index when the answer was made, from which a watch can resume.
type Response struct {
	Action   string `json:"action"`
	Node     *Node  `json:"node"`
	PrevNode *Node  `json:"prevNode,omitempty"`
	Index    uint64 `json:"-"`
}

// Error is an error answered by etcd itself (a 4xx with an errorCode).
type Error struct {
	Code    int    `json:"errorCode"`
	Message string `json:"message"`
	Cause   string `json:"cause"`
	Index   uint64 `json:"index"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("%v: %v (%v) [%v]", e.Code, e.Message, e.Cause, e.Index)
}

// IsCode reports whether err is an etcd error with the given code.
func IsCode(err error, code int) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// ClusterError is returned when no endpoint gave an answer.
type ClusterError struct {
	Errors []error
}

// Error is upstream's wording; Detail has one line per endpoint tried.
func (e *ClusterError) Error() string {
	return "client: etcd cluster is unavailable or misconfigured"
}

// Detail lists why each endpoint failed.
func (e *ClusterError) Detail() string {
	parts := make([]string, len(e.Errors))
	for i, err := range e.Errors {
		parts[i] = fmt.Sprintf("error #%d: %s", i, err)
	}
	return strings.Join(parts, "; ")
}

// Client talks to one etcd cluster.
type Client struct {
	endpoints     []url.URL
	hc            *http.Client
	headerTimeout time.Duration

	mu     sync.Mutex
	pinned int
}

// Config configures a Client.
type Config struct {
	// Endpoints are host:port pairs (libkv adds the scheme).
	Endpoints []string
	// TLS, when set, makes every endpoint https and is used for the
	// connection (client certificate, CA).
	TLS *tls.Config
	// HeaderTimeout bounds a non-watch request on one endpoint.
	HeaderTimeout time.Duration
}

// New makes a client. It does not contact etcd.
func New(cfg Config) (*Client, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("client: no endpoints available")
	}
	scheme := "http"
	if cfg.TLS != nil {
		scheme = "https"
	}
	c := &Client{headerTimeout: cfg.HeaderTimeout}
	if c.headerTimeout <= 0 {
		c.headerTimeout = DefaultHeaderTimeout
	}
	for _, ep := range cfg.Endpoints {
		u, err := url.Parse(scheme + "://" + ep)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("client: invalid endpoint %q", ep)
		}
		c.endpoints = append(c.endpoints, url.URL{Scheme: u.Scheme, Host: u.Host})
	}
	// No proxy from the environment: etcd is on the cluster's own network.
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     cfg.TLS,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 4,
	}
	c.hc = &http.Client{Transport: tr}
	return c, nil
}

// Close drops idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Endpoints returns the endpoint URLs, pinned first.
func (c *Client) Endpoints() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.endpoints))
	for i := range c.endpoints {
		u := c.endpoints[(c.pinned+i)%len(c.endpoints)]
		out = append(out, u.String())
	}
	return out
}

// PrevExist conditions of a set.
const (
	PrevIgnore  = ""
	PrevExist   = "true"
	PrevNoExist = "false"
)

// SetOptions are the conditions and options of Set.
type SetOptions struct {
	TTL       time.Duration // whole seconds, as upstream sends them
	Dir       bool
	PrevExist string
	PrevIndex uint64
	PrevValue string
}

// Set writes a key (PUT /v2/keys/key).
func (c *Client) Set(ctx context.Context, key, value string, o SetOptions) (*Response, error) {
	q := url.Values{}
	form := url.Values{}
	if o.Dir {
		q.Set("dir", "true")
	} else {
		if o.PrevValue != "" {
			q.Set("prevValue", o.PrevValue)
		}
		form.Set("value", value)
	}
	if o.PrevIndex != 0 {
		q.Set("prevIndex", strconv.FormatUint(o.PrevIndex, 10))
	}
	if o.PrevExist != PrevIgnore {
		q.Set("prevExist", o.PrevExist)
	}
	if o.TTL > 0 {
		form.Set("ttl", strconv.FormatUint(uint64(o.TTL.Seconds()), 10))
	}
	return c.do(ctx, http.MethodPut, key, q, form, false)
}

// GetOptions are the options of Get.
type GetOptions struct {
	Recursive bool
	Sorted    bool
	// Quorum makes the read go through raft, so a member cut off from the
	// majority fails (and the client moves on) instead of answering stale
	// data. libkv's Get and List ask for it.
	Quorum bool
}

// Get reads a key or lists a directory.
func (c *Client) Get(ctx context.Context, key string, o GetOptions) (*Response, error) {
	q := url.Values{}
	if o.Recursive {
		q.Set("recursive", "true")
	}
	if o.Sorted {
		q.Set("sorted", "true")
	}
	if o.Quorum {
		q.Set("quorum", "true")
	}
	return c.do(ctx, http.MethodGet, key, q, nil, false)
}

// DeleteOptions are the conditions of Delete.
type DeleteOptions struct {
	PrevIndex uint64
	PrevValue string
}

// Delete removes a key.
func (c *Client) Delete(ctx context.Context, key string, o DeleteOptions) (*Response, error) {
	q := url.Values{}
	if o.PrevIndex != 0 {
		q.Set("prevIndex", strconv.FormatUint(o.PrevIndex, 10))
	}
	if o.PrevValue != "" {
		q.Set("prevValue", o.PrevValue)
	}
	return c.do(ctx, http.MethodDelete, key, q, nil, false)
}

// WatchOptions are the options of Watch.
type WatchOptions struct {
	Recursive bool
	// WaitIndex is the first index of interest (0: from now on).
	WaitIndex uint64
}

// Watch waits for the next change of key (GET ?wait=true). It has no
// per-request timeout: the caller bounds it with ctx, and a watch that runs
// out of ctx returns ctx's error so that the caller re-lists.
func (c *Client) Watch(ctx context.Context, key string, o WatchOptions) (*Response, error) {
	q := url.Values{}
	q.Set("wait", "true")
	if o.Recursive {
		q.Set("recursive", "true")
	}
	if o.WaitIndex != 0 {
		q.Set("waitIndex", strconv.FormatUint(o.WaitIndex, 10))
	}
	for {
		resp, err := c.do(ctx, http.MethodGet, key, q, nil, true)
		if errors.Is(err, errEmptyBody) {
			// etcd closes an idle watch with an empty 200; wait again.
			continue
		}
		return resp, err
	}
}

var errEmptyBody = errors.New("etcd: empty watch answer")

// do sends one request, trying the endpoints from the pinned one on.
func (c *Client) do(ctx context.Context, method, key string, q, form url.Values, wait bool) (*Response, error) {
	c.mu.Lock()
	pinned := c.pinned
	c.mu.Unlock()
	n := len(c.endpoints)
	cerr := &ClusterError{}
	for i := pinned; i < pinned+n; i++ {
		k := i % n
		resp, err := c.doOne(ctx, c.endpoints[k], method, key, q, form, wait)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var eerr *Error
			if errors.As(err, &eerr) || errors.Is(err, errEmptyBody) {
				c.pin(k)
				return nil, err
			}
			cerr.Errors = append(cerr.Errors, err)
			continue
		}
		c.pin(k)
		return resp, nil
	}
	return nil, cerr
}

func (c *Client) pin(k int) {
	c.mu.Lock()
	c.pinned = k
	c.mu.Unlock()
}

func (c *Client) doOne(ctx context.Context, ep url.URL, method, key string, q, form url.Values, wait bool) (*Response, error) {
	u := ep
	u.Path = path.Join("/v2/keys", "/"+strings.TrimPrefix(key, "/"))
	u.RawQuery = q.Encode()

	rctx, cancel := ctx, context.CancelFunc(func() {})
	if !wait {
		rctx, cancel = context.WithTimeout(ctx, c.headerTimeout)
	}
	defer cancel()

	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(rctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() == nil && rctx.Err() != nil {
			return nil, fmt.Errorf("client: endpoint %s exceeded header timeout", ep.String())
		}
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 == 5 {
		switch res.StatusCode {
		case http.StatusInternalServerError, http.StatusServiceUnavailable:
			return nil, fmt.Errorf("client: etcd member %s has no leader", ep.String())
		default:
			return nil, fmt.Errorf("client: etcd member %s returns server error [%s]", ep.String(), http.StatusText(res.StatusCode))
		}
	}
	index, _ := strconv.ParseUint(res.Header.Get("X-Etcd-Index"), 10, 64)
	switch res.StatusCode {
	case http.StatusOK, http.StatusCreated:
		if len(data) == 0 {
			return nil, errEmptyBody
		}
		var r Response
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("client: etcd member %s: bad answer: %v", ep.String(), err)
		}
		r.Index = index
		return &r, nil
	default:
		var e Error
		if err := json.Unmarshal(data, &e); err != nil || e.Code == 0 {
			return nil, fmt.Errorf("client: etcd member %s: unexpected answer %d: %.200s", ep.String(), res.StatusCode, data)
		}
		return nil, &e
	}
}
