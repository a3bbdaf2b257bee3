// The manager's client to one Docker engine, behaving as the Docker client
// swarm 1.2.9 vendors (vendor/github.com/docker/docker/client/client.go,
// request.go, ping.go, errors.go; cluster/httpclient.go):
//   - it starts without a version, so its first calls are unversioned;
//   - NegotiateAPIVersion pings /_ping and takes the engine's API-Version
//     header only if it is lower than 1.31 (no header counts as 1.24), so an
//     engine of any later API is still called with /v1.31/...;
//   - a refused connection or a timeout is "Cannot connect to the Docker
//     daemon at tcp://ADDR. Is the docker daemon running?", the kind of
//     error swarm counts as a failure of the engine;
//   - an HTTP error answer is "Error response from daemon: MESSAGE", with
//     the JSON message when the answer is JSON.

package swarmmodel

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// errConnectionFailed is the vendored client's errConnectionFailed.
type errConnectionFailed struct{ host string }

func (e errConnectionFailed) Error() string {
	return fmt.Sprintf("Cannot connect to the Docker daemon at %s. Is the docker daemon running?", e.host)
}

// isConnectionError is cluster/engine.go IsConnectionError: only these
// errors count towards --engine-failure-retry.
func isConnectionError(err error) bool {
	var cf errConnectionFailed
	if errors.As(err, &cf) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "onnection refused") ||
		strings.Contains(s, "annot connect to the docker engine endpoint") ||
		strings.Contains(s, "annot connect to the Docker daemon") ||
		strings.Contains(s, "no route to host")
}

type engineClient struct {
	addr   string // host:port
	host   string // tcp://host:port, for messages
	scheme string
	hc     *http.Client
	// stream shares hc's connections without its time limit: proxied
	// requests (logs -f, wait) last as long as the client wants
	// (cluster/httpclient.go set no limit either).
	stream *http.Client

	mu      sync.Mutex
	version string // "" until negotiated
}

func newEngineClient(addr string, tlsConfig *tls.Config, timeout time.Duration) *engineClient {
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	tr := &http.Transport{
		DialContext:     (&net.Dialer{Timeout: timeout}).DialContext,
		TLSClientConfig: tlsConfig,
	}
	return &engineClient{
		addr: addr, host: "tcp://" + addr, scheme: scheme,
		hc:     &http.Client{Transport: tr, Timeout: timeout},
		stream: &http.Client{Transport: tr},
	}
}

func (c *engineClient) close() { c.hc.CloseIdleConnections() }

// apiPath prefixes the negotiated version, if any.
func (c *engineClient) apiPath(p string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version == "" {
		return p
	}
	return "/v" + c.version + p
}

func (c *engineClient) negotiatedVersion() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// get sends GET path (already versioned or not) and decodes the answer.
func (c *engineClient) get(ctx context.Context, path string, out any) (http.Header, error) {
	return c.call(ctx, http.MethodGet, path, nil, out)
}

// call sends a request as the vendored client's API calls do: the body,
// if any, as JSON; an HTTP error answer becomes "Error response from
// daemon: ..."; a JSON answer is decoded into out, if given.
func (c *engineClient) call(ctx context.Context, method, path string, in, out any) (http.Header, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.scheme+"://"+c.addr+path, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, c.transportError(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res.Header, err
	}
	if res.StatusCode < 200 || res.StatusCode >= 400 {
		return res.Header, &responseError{status: res.StatusCode, msg: responseMessage(res, b, path)}
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return res.Header, fmt.Errorf("Error reading remote info: %v", err)
		}
	}
	return res.Header, nil
}

func (c *engineClient) transportError(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errConnectionFailed{c.host}
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return errConnectionFailed{c.host}
	}
	return fmt.Errorf("error during connect: %v", err)
}

// responseError is an HTTP error answer of the engine; its text is the
// vendored client's (checkResponseErr), its status lets callers tell "not
// found" from other failures as the client's IsErrNotFound did.
type responseError struct {
	status int
	msg    string
}

func (e *responseError) Error() string { return e.msg }

func isNotFound(err error) bool {
	var re *responseError
	return errors.As(err, &re) && re.status == http.StatusNotFound
}

// responseMessage is the vendored client's checkResponseErr.
func responseMessage(res *http.Response, body []byte, path string) string {
	if len(body) == 0 {
		return fmt.Sprintf("Error: request returned %s for API route and version %s, check if the server supports the requested API version",
			http.StatusText(res.StatusCode), path)
	}
	msg := string(body)
	if res.Header.Get("Content-Type") == "application/json" {
		var e struct{ Message string }
		if err := json.Unmarshal(body, &e); err != nil {
			return fmt.Sprintf("Error reading JSON: %v", err)
		}
		msg = e.Message
	}
	return "Error response from daemon: " + strings.TrimSpace(msg)
}

// negotiate is NegotiateAPIVersion: errors of the ping are ignored.
func (c *engineClient) negotiate(ctx context.Context) {
	h, _ := c.get(ctx, "/_ping", nil)
	v := ""
	if h != nil {
		v = h.Get("API-Version")
	}
	if v == "" {
		v = "1.24"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version = engineAPIVersion
	if versionLess(v, engineAPIVersion) {
		c.version = v
	}
}

// versionLess compares dotted API versions numerically ("1.9" < "1.24").
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// The parts of the engine's answers the model reads.

type engineInfo struct {
	ID              string
	Name            string
	NCPU            int64
	MemTotal        int64
	Driver          string
	KernelVersion   string
	OperatingSystem string
	OSType          string
	Labels          []string
	SystemTime      string
}

type engineVersion struct {
	Version    string
	APIVersion string `json:"ApiVersion"`
}

// containerSummary is one entry of GET /containers/json, kept whole so the
// manager can hand it on with only the fields swarm rewrites changed.
type containerSummary map[string]any

func (s containerSummary) id() string {
	v, _ := s["Id"].(string)
	return v
}

type containerInspect struct {
	State struct {
		Running, Paused, Restarting bool
	}
	HostConfig struct {
		CPUShares  int64 `json:"CpuShares"`
		Memory     int64
		AutoRemove bool
	}
}

type imageSummary struct {
	RepoTags    []string
	RepoDigests []string
}
