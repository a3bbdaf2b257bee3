package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// What verify reads of one answer, at most: what a real answer needs, with
// room to spare, and far from what a hostile server could send.
const (
	smallAnswer  = 64 << 10 // /health, /version, /v2/members
	perEngine    = 4 << 10  // one engine's lines in a manager's /info
	perKey       = 1 << 10  // one registration in etcd's listing
	headerBytes  = 16 << 10 // every answer's headers
	maxInFlight  = 32       // steps (each a few requests, one at a time) run at once
	pollInterval = 5 * time.Second
)

// fetcher makes verify's requests: no proxy (the operator's environment
// must not reroute the cluster's own addresses), no redirect, no
// keep-alive, bounded headers and answers, and every error naming its URL.
type fetcher struct {
	client  *http.Client
	timeout time.Duration
	tls     *Client
	now     func() time.Time
}

func newFetcher(o Options, now func() time.Time) *fetcher {
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	dial := o.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	tr := &http.Transport{
		Proxy: nil,
		// The transport dials on after a request gives up (for another
		// request to reuse the connection), and not within the request's
		// context: bound each dial itself, or a dead node keeps a socket
		// connecting for minutes after every pass.
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			return dial(ctx, network, addr)
		},
		DisableKeepAlives:      true,
		DisableCompression:     true, // what a server sends is what is counted
		MaxResponseHeaderBytes: headerBytes,
	}
	if o.TLS != nil {
		cfg := o.TLS.Config.Clone()
		cfg.Time = now // the handshake judges expiry by the same clock as the report
		tr.TLSClientConfig = cfg
	}
	return &fetcher{
		client: &http.Client{
			Transport:     tr,
			Timeout:       timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout: timeout,
		tls:     o.TLS,
		now:     now,
	}
}

// answer is what one request brought back.
type answer struct {
	status int
	body   []byte
	// peer is the certificate the server presented, verified or not (nil:
	// no handshake got that far, or no TLS).
	peer *x509.Certificate
}

// get fetches u and reads at most limit bytes of its answer. The answer's
// peer is set even when the handshake failed.
func (f *fetcher) get(ctx context.Context, u string, limit int) (answer, error) {
	var peer atomic.Pointer[x509.Certificate] // set by the transport's goroutine
	trace := &httptrace.ClientTrace{TLSHandshakeDone: func(st tls.ConnectionState, err error) {
		var cve *tls.CertificateVerificationError
		switch {
		case len(st.PeerCertificates) > 0:
			peer.Store(st.PeerCertificates[0])
		case errors.As(err, &cve) && len(cve.UnverifiedCertificates) > 0:
			peer.Store(cve.UnverifiedCertificates[0])
		}
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, u, nil)
	if err != nil {
		return answer{}, fmt.Errorf("%s: %v", u, err)
	}
	req.Header.Set("User-Agent", "swarmboot-verify")
	resp, err := f.client.Do(req)
	a := answer{peer: peer.Load()}
	if err != nil {
		return a, f.explain(ctx, u, err, a.peer)
	}
	defer resp.Body.Close()
	a.status = resp.StatusCode
	if resp.StatusCode/100 == 3 {
		return a, fmt.Errorf("%s: redirects (HTTP %d) to %s; verify follows no redirect: the node itself must answer", u, resp.StatusCode, quote(resp.Header.Get("Location")))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	var ne net.Error
	switch {
	case err != nil && ctx.Err() != nil:
		return a, fmt.Errorf("%s: answer incomplete when the deadline passed (%d bytes read)", u, len(body))
	case errors.As(err, &ne) && ne.Timeout():
		return a, fmt.Errorf("%s: answer incomplete after %s (%d bytes read)", u, f.timeout, len(body))
	case err != nil:
		return a, fmt.Errorf("%s: answer cut short after %d bytes: %v", u, len(body), err)
	case len(body) > limit:
		return a, fmt.Errorf("%s: answer larger than %d KiB, more than a real one holds", u, limit>>10)
	}
	a.body = body
	return a, nil
}

// getJSON fetches u and decodes its answer into out. accept lists the
// statuses whose body is an answer (nil: 200 only).
func (f *fetcher) getJSON(ctx context.Context, u string, limit int, out any, accept ...int) (answer, error) {
	a, err := f.get(ctx, u, limit)
	if err != nil {
		return a, err
	}
	if accept == nil {
		accept = []int{http.StatusOK}
	}
	text := strings.TrimSpace(string(a.body))
	if !slices.Contains(accept, a.status) {
		if text == "" {
			return a, fmt.Errorf("%s: HTTP %d %s, with an empty answer", u, a.status, http.StatusText(a.status))
		}
		return a, fmt.Errorf("%s: HTTP %d %s: %s", u, a.status, http.StatusText(a.status), quote(text))
	}
	if err := json.Unmarshal(a.body, out); err != nil {
		return a, fmt.Errorf("%s: not the expected answer: %s", u, quote(text))
	}
	return a, nil
}

// explain says what a failed request means, naming its URL: no answer,
// nothing listening, a certificate verify does not accept (with what is
// wrong with it), or which of the operator's files to fix.
func (f *fetcher) explain(ctx context.Context, u string, err error, leaf *x509.Certificate) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the URL in Go's form
	}
	var cve *tls.CertificateVerificationError
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s: no answer when the deadline passed", u)
	case f.tls != nil && errors.As(err, &cve) && leaf != nil && f.tls.problem(leaf, hostOf(u), f.now()) != "":
		return fmt.Errorf("%s: %s", u, f.tls.problem(leaf, hostOf(u), f.now()))
	case f.tls != nil && f.tls.explain(err) != "":
		return fmt.Errorf("%s: %v (%s)", u, err, f.tls.explain(err))
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%s: no answer within %s (node down, or a firewall)", u, f.timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%s: connection refused (the node is up; its service is not listening)", u)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Errorf("%s: no route to the node (down, or not on a network this machine reaches)", u)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: the node closed the connection without an answer (%v)", u, err)
	}
	return fmt.Errorf("%s: %v", u, err)
}

// hostOf is the host of a URL verify made.
func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Hostname()
}
