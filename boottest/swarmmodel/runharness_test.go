package swarmmodel

// A manager with fake engines, reached as users reach it: with the docker
// CLI (DOCKER_HOST, and DOCKER_TLS_VERIFY / DOCKER_CERT_PATH with TLS), or
// with plain HTTP requests and a hijacked attach connection written by
// hand, so that CI without a docker CLI still runs containers through the
// manager.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/internal/testutil"
)

type swarmCluster struct {
	t       *testing.T
	addr    string
	mgr     *proc
	engines []*fakeEngine
	// With TLS: the client's configuration and a DOCKER_CERT_PATH.
	clientTLS *tls.Config
	certPath  string
}

// startSwarm registers the engines in a new etcd, starts a manager (with
// --tlsverify when ca is given: the engines must then serve TLS from the
// same CA) and waits until every engine is Healthy.
func startSwarm(t *testing.T, ca *testCA, engines ...*fakeEngine) *swarmCluster {
	t.Helper()
	etcd := startEtcd(t, 1)
	cl := etcd.client()
	for _, e := range engines {
		register(t, cl, "/run", e.addr, time.Minute)
	}
	s := &swarmCluster{t: t, engines: engines}
	var extra []string
	if ca != nil {
		mgrCert, mgrKey, _ := ca.issue("manager")
		certFile, keyFile, clientCert := ca.issue("client")
		extra = []string{"--tlsverify", "--tlscacert=" + ca.file, "--tlscert=" + mgrCert, "--tlskey=" + mgrKey}
		s.clientTLS = &tls.Config{RootCAs: ca.pool, Certificates: []tls.Certificate{clientCert}}
		s.certPath = t.TempDir()
		for name, from := range map[string]string{"ca.pem": ca.file, "cert.pem": certFile, "key.pem": keyFile} {
			b, err := os.ReadFile(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(s.certPath, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.mgr, s.addr = startManager(t, etcd.url("run"), extra...)
	for _, e := range engines {
		eventually(t, 10*time.Second, e.name+" Healthy", func() (bool, string) {
			var info swarmInfo
			s.getJSON("/info", &info)
			n, ok := info.node(e.addr)
			return ok && n.Fields["Status"] == "Healthy", info.String()
		})
	}
	return s
}

func (s *swarmCluster) url(path string) string {
	if s.clientTLS != nil {
		return "https://" + s.addr + path
	}
	return "http://" + s.addr + path
}

func (s *swarmCluster) httpClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: s.clientTLS}}
}

// do sends a request to the manager and returns the status and the body.
func (s *swarmCluster) do(method, path, body string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url(path), strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := s.httpClient().Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (s *swarmCluster) getJSON(path string, out any) {
	s.t.Helper()
	code, body := s.do("GET", path, "")
	if code != http.StatusOK {
		s.t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal([]byte(body), out); err != nil {
		s.t.Fatalf("GET %s: %v: %s", path, err, body)
	}
}

// create creates a container through the manager and returns its ID.
func (s *swarmCluster) create(name string, body map[string]any) string {
	s.t.Helper()
	b, _ := json.Marshal(body)
	path := "/v1.30/containers/create"
	if name != "" {
		path += "?name=" + name
	}
	code, out := s.do("POST", path, string(b))
	var created struct{ Id string }
	if json.Unmarshal([]byte(out), &created); code != http.StatusCreated || created.Id == "" {
		s.t.Fatalf("create %s: %d %s", name, code, out)
	}
	return created.Id
}

// holder returns the engine that holds the container, nil if none does.
func (s *swarmCluster) holder(id string) *fakeEngine {
	for _, e := range s.engines {
		for _, have := range e.containerIDs() {
			if have == id {
				return e
			}
		}
	}
	return nil
}

// names lists `/containers/json?all=1` names, sorted.
func (s *swarmCluster) names() []string {
	s.t.Helper()
	var list []struct{ Names []string }
	s.getJSON("/v1.30/containers/json?all=1", &list)
	var out []string
	for _, c := range list {
		out = append(out, c.Names...)
	}
	sort.Strings(out)
	return out
}

// rawStream is a hijacked attach connection, as the docker CLI holds one.
type rawStream struct {
	t    *testing.T
	conn net.Conn
	raw  *net.TCPConn
	r    *bufio.Reader
}

// attach sends POST /containers/NAME/attach asking to upgrade to tcp, as
// the docker CLI does, and returns the connection once the "101 UPGRADED"
// answer has arrived.
func (s *swarmCluster) attach(name, query string) *rawStream {
	s.t.Helper()
	return s.attachAs(name, query, true)
}

// attachAs attaches with or without asking to upgrade; without, Docker
// answers "200 OK" and then takes the connection over all the same (older
// clients attached so).
func (s *swarmCluster) attachAs(name, query string, upgrade bool) *rawStream {
	s.t.Helper()
	raw, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		s.t.Fatal(err)
	}
	st := &rawStream{t: s.t, conn: raw, raw: raw.(*net.TCPConn)}
	if s.clientTLS != nil {
		cfg := s.clientTLS.Clone()
		cfg.ServerName = "127.0.0.1"
		tc := tls.Client(raw, cfg)
		if err := tc.Handshake(); err != nil {
			s.t.Fatal(err)
		}
		st.conn = tc
	}
	s.t.Cleanup(func() { st.conn.Close() })
	st.conn.SetDeadline(time.Now().Add(20 * time.Second))
	req, _ := http.NewRequest("POST", s.url("/v1.30/containers/"+name+"/attach?"+query), nil)
	if upgrade {
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "tcp")
	}
	if err := req.Write(st.conn); err != nil {
		s.t.Fatal(err)
	}
	st.r = bufio.NewReader(st.conn)
	res, err := http.ReadResponse(st.r, req)
	if err != nil {
		s.t.Fatalf("attach %s: %v", name, err)
	}
	if upgrade && (res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Upgrade") != "tcp") ||
		!upgrade && (res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/vnd.docker.raw-stream") {
		b, _ := io.ReadAll(res.Body)
		s.t.Fatalf("attach %s: %s %v %s", name, res.Status, res.Header, b)
	}
	return st
}

// runAttached runs cmd in a new container as `docker run -i` does (with
// an attach that upgrades or not) and returns its ID and output.
func (s *swarmCluster) runAttached(name string, cmd []string, upgrade bool, input string) (id, stdout, stderr string) {
	s.t.Helper()
	id = s.create(name, map[string]any{"Image": "busybox", "Cmd": cmd, "OpenStdin": true, "StdinOnce": true})
	stream := s.attachAs(name, "stream=1&stdin=1&stdout=1&stderr=1", upgrade)
	if code, out := s.do("POST", "/v1.30/containers/"+name+"/start", ""); code != http.StatusNoContent {
		s.t.Fatalf("start %s: %d %s", name, code, out)
	}
	stream.send(input)
	stream.closeStdin()
	stdout, stderr = stream.output()
	return id, stdout, stderr
}

func (st *rawStream) send(s string) {
	if _, err := io.WriteString(st.conn, s); err != nil {
		st.t.Fatal(err)
	}
}

// closeStdin half-closes the TCP connection, as the docker CLI does at
// the end of its input (over TLS too).
func (st *rawStream) closeStdin() {
	if err := st.raw.CloseWrite(); err != nil {
		st.t.Fatal(err)
	}
}

// output reads the multiplexed stream to its end and splits it.
func (st *rawStream) output() (stdout, stderr string) {
	var out, errOut bytes.Buffer
	h := make([]byte, 8)
	for {
		if _, err := io.ReadFull(st.r, h); err != nil {
			if !errors.Is(err, io.EOF) {
				st.t.Errorf("attach stream: %v (so far %q %q)", err, out.String(), errOut.String())
			}
			return out.String(), errOut.String()
		}
		dst := &out
		if h[0] == 2 {
			dst = &errOut
		}
		if _, err := io.CopyN(dst, st.r, int64(binary.BigEndian.Uint32(h[4:]))); err != nil {
			st.t.Errorf("attach stream: %v", err)
			return out.String(), errOut.String()
		}
	}
}

// demux splits a multiplexed body (logs).
func demux(t *testing.T, body string) (stdout, stderr string) {
	st := &rawStream{t: t, r: bufio.NewReader(strings.NewReader(body))}
	return st.output()
}

// needDocker returns the docker CLI: skipped outside CI when missing, a
// failure in CI (scripts/install-deps.sh makes sure there is one).
func needDocker(t *testing.T) string {
	t.Helper()
	return testutil.NeedTool(t, "docker", "docker.io")
}

// docker runs the docker CLI against the manager with stdin as input and
// returns its stdout, stderr and exit status.
func (s *swarmCluster) docker(stdin string, args ...string) (string, string, int) {
	s.t.Helper()
	bin := needDocker(s.t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+s.t.TempDir(), "DOCKER_CONTEXT=", "DOCKER_HOST=tcp://"+s.addr,
		"DOCKER_TLS_VERIFY=", "DOCKER_CERT_PATH=")
	if s.certPath != "" {
		cmd.Env = append(cmd.Env, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH="+s.certPath)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		s.t.Fatalf("docker %v did not end in 30 s; stdout %q stderr %q\nmanager:\n%s", args, stdout.String(), stderr.String(), s.mgr.out.String())
	}
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		s.t.Fatalf("docker %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// dockerOK runs the docker CLI and fails the test unless it exits 0.
func (s *swarmCluster) dockerOK(args ...string) string {
	s.t.Helper()
	out, errOut, code := s.docker("", args...)
	if code != 0 {
		s.t.Fatalf("docker %v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	return out
}

// createCounts counts the create requests each engine got so far.
func (s *swarmCluster) createCounts() []int {
	var out []int
	for _, e := range s.engines {
		out = append(out, len(e.createdBodies()))
	}
	return out
}

// landedOn names the engine of every create request since before
// (createCounts), in engine order.
func (s *swarmCluster) landedOn(before []int) string {
	var names []string
	for i, e := range s.engines {
		for n := len(e.createdBodies()); n > before[i]; n-- {
			names = append(names, e.name)
		}
	}
	return strings.Join(names, ",")
}
