// Passing a client's request on to an engine (or, from a replica, to the
// primary), as api/utils.go of swarm 1.2.9 did:
//   - proxy (proxyAsync): the client's request, path and query as the
//     client sent them (its own API version included), goes to the
//     engine over the engine's connections; the answer's status, headers
//     and body come back as they arrive, flushed at once, so `wait`'s
//     status line reaches the client before the container exits and
//     `logs -f` streams. A client that goes away cancels the request.
//   - hijack: for attach, the request is written on a new connection to
//     the engine (TLS with the manager's certificate when the cluster uses
//     TLS), the client's connection is taken over, and bytes are copied
//     both ways, the engine's "101 UPGRADED" answer included. When the
//     client has no more to send, the engine's side is half-closed (its
//     TCP connection, as swarm's tlsClientConn.CloseWrite did), so the
//     container sees the end of its input; when the engine is done, the
//     client's side is closed.

package swarmmodel

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// proxy sends r to the engine with path (the query is r's), copies the
// answer to w and then calls after, if given, once the body is done. An
// error before the answer is returned for the caller to report.
func proxy(c *engineClient, w http.ResponseWriter, r *http.Request, path string, after func()) error {
	u := c.scheme + "://" + c.addr + path
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	body := r.Body
	if r.ContentLength == 0 {
		body = nil
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u, body)
	if err != nil {
		return err
	}
	out.Header = r.Header.Clone()
	out.ContentLength = r.ContentLength
	res, err := c.stream.Do(out)
	if err != nil {
		return c.transportError(err)
	}
	defer res.Body.Close()
	for k, vs := range res.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(res.StatusCode)
	rc := http.NewResponseController(w)
	rc.Flush()
	io.Copy(flushWriter{w, rc}, res.Body)
	if after != nil {
		after()
	}
	return nil
}

// flushWriter flushes after every write (swarm's WriteFlusher).
type flushWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	f.rc.Flush()
	return n, err
}

// hijack forwards r over a new connection to addr and then joins that
// connection to the client's. It returns an error only when nothing has
// been sent to the client yet.
func hijack(tlsConfig *tls.Config, addr string, w http.ResponseWriter, r *http.Request) error {
	backend, err := dialHijack(tlsConfig, addr)
	if err != nil {
		return err
	}
	defer backend.Close()
	if err := r.Write(backend); err != nil {
		return err
	}
	client, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return err
	}
	defer client.Close()

	// What the server had read past the request comes first.
	fromClient := io.MultiReader(io.LimitReader(buf, int64(buf.Reader.Buffered())), client)
	inDone, outDone := make(chan struct{}), make(chan struct{})
	go copyThenCloseWrite(backend, fromClient, inDone)
	go copyThenCloseWrite(client, backend, outDone)
	select {
	case <-inDone:
		<-outDone
	case <-outDone:
		client.Close()
		<-inDone
	}
	return nil
}

func copyThenCloseWrite(dst io.Writer, src io.Reader, done chan<- struct{}) {
	defer close(done)
	io.Copy(dst, src)
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// tlsHalfCloser is a TLS connection whose CloseWrite half-closes the TCP
// connection under it (a tls.Conn's would only send close_notify).
type tlsHalfCloser struct {
	*tls.Conn
	raw *net.TCPConn
}

func (c tlsHalfCloser) CloseWrite() error { return c.raw.CloseWrite() }

// hijackTimeout bounds connecting and the TLS handshake of a hijack
// (swarm set none); the stream itself may last.
const hijackTimeout = 30 * time.Second

func dialHijack(tlsConfig *tls.Config, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: hijackTimeout, KeepAlive: 30 * time.Second}
	raw, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if tlsConfig == nil {
		return raw, nil
	}
	cfg := tlsConfig.Clone()
	if cfg.ServerName == "" {
		host, _, _ := net.SplitHostPort(addr)
		cfg.ServerName = host
	}
	conn := tls.Client(raw, cfg)
	raw.SetDeadline(time.Now().Add(hijackTimeout))
	if err := conn.Handshake(); err != nil {
		raw.Close()
		return nil, err
	}
	raw.SetDeadline(time.Time{})
	tcp, ok := raw.(*net.TCPConn)
	if !ok {
		conn.Close()
		return nil, errors.New("hijack: not a TCP connection")
	}
	return tlsHalfCloser{conn, tcp}, nil
}
