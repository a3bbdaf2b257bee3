package swarmmodel

// A real etcd (Debian's etcd-server, v2 API enabled) on loopback, one or
// three members, started and stopped by the tests.

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/boottest/swarmmodel/etcdv2"
	"github.com/swarmboot/swarmboot/internal/testutil"
)

type etcdMember struct {
	name, dataDir        string
	clientPort, peerPort int
	cmd                  *exec.Cmd
	exited               chan struct{}
}

type etcdCluster struct {
	t       *testing.T
	bin     string
	token   string
	members []*etcdMember
	tls     *etcdTLS // nil: plain http
	logs    lockedBuffer
}

// etcdTLS are the files of an https etcd requiring client certificates.
type etcdTLS struct {
	caFile, certFile, keyFile string
	client                    *tls.Config
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freePorts returns n ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// startEtcd starts an n-member cluster and waits until it accepts writes.
func startEtcd(t *testing.T, n int) *etcdCluster { return startEtcdTLS(t, n, nil) }

func startEtcdTLS(t *testing.T, n int, tlsFiles *etcdTLS) *etcdCluster {
	t.Helper()
	bin := testutil.NeedTool(t, "etcd", "etcd-server")
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		c := &etcdCluster{t: t, bin: bin, token: fmt.Sprintf("t%d-%d", time.Now().UnixNano(), attempt), tls: tlsFiles}
		ports := freePorts(t, 2*n)
		dir := t.TempDir()
		for i := 0; i < n; i++ {
			c.members = append(c.members, &etcdMember{
				name: fmt.Sprintf("m%d", i), dataDir: filepath.Join(dir, fmt.Sprintf("m%d", i)),
				clientPort: ports[2*i], peerPort: ports[2*i+1],
			})
		}
		t.Cleanup(c.stopAll)
		for i := range c.members {
			c.start(i)
		}
		if lastErr = c.waitWritable(20 * time.Second); lastErr == nil {
			return c
		}
		c.stopAll()
	}
	t.Fatalf("etcd did not start: %v", lastErr)
	return nil
}

func (c *etcdCluster) scheme() string {
	if c.tls != nil {
		return "https"
	}
	return "http"
}

func (c *etcdCluster) start(i int) {
	m := c.members[i]
	var initial []string
	for _, x := range c.members {
		initial = append(initial, fmt.Sprintf("%s=http://127.0.0.1:%d", x.name, x.peerPort))
	}
	clientURL := fmt.Sprintf("%s://127.0.0.1:%d", c.scheme(), m.clientPort)
	args := []string{
		"--name", m.name, "--data-dir", m.dataDir,
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", m.peerPort),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", m.peerPort),
		"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
		"--initial-cluster-token", c.token,
		"--enable-v2=true", "--logger=zap", "--log-outputs=stderr", "--log-level=error",
	}
	if c.tls != nil {
		args = append(args, "--cert-file", c.tls.certFile, "--key-file", c.tls.keyFile,
			"--trusted-ca-file", c.tls.caFile, "--client-cert-auth")
	}
	cmd := exec.Command(c.bin, args...)
	cmd.Stdout = &c.logs
	cmd.Stderr = &c.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	m.cmd = cmd
	m.exited = make(chan struct{})
	go func(ch chan struct{}) { cmd.Wait(); close(ch) }(m.exited)
}

// stop kills member i (as a crash would) and waits for it.
func (c *etcdCluster) stop(i int) {
	m := c.members[i]
	if m.cmd == nil {
		return
	}
	m.cmd.Process.Kill()
	<-m.exited
	m.cmd = nil
}

// freeze stops member i without closing its connections (a hung member);
// thaw resumes it.
func (c *etcdCluster) freeze(i int) { c.members[i].cmd.Process.Signal(syscall.SIGSTOP) }
func (c *etcdCluster) thaw(i int)   { c.members[i].cmd.Process.Signal(syscall.SIGCONT) }

func (c *etcdCluster) stopAll() {
	for i := range c.members {
		c.stop(i)
	}
}

func (c *etcdCluster) endpoints() []string {
	var out []string
	for _, m := range c.members {
		out = append(out, fmt.Sprintf("127.0.0.1:%d", m.clientPort))
	}
	return out
}

// url is a discovery URL over the given endpoints (all members if none).
func (c *etcdCluster) url(prefix string, endpoints ...string) string {
	if len(endpoints) == 0 {
		endpoints = c.endpoints()
	}
	return "etcd://" + strings.Join(endpoints, ",") + "/" + prefix
}

// client is a test-side client over the members that are running.
func (c *etcdCluster) client() *etcdv2.Client {
	cfg := etcdv2.Config{Endpoints: c.endpoints(), HeaderTimeout: 2 * time.Second}
	if c.tls != nil {
		cfg.TLS = c.tls.client
	}
	cl, err := etcdv2.New(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(cl.Close)
	return cl
}

func (c *etcdCluster) waitWritable(timeout time.Duration) error {
	cl := c.client()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		for _, m := range c.members {
			if m.cmd == nil {
				continue
			}
			select {
			case <-m.exited:
				return fmt.Errorf("member %s exited:\n%s", m.name, c.logs.String())
			default:
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = cl.Set(ctx, "/_probe", "1", etcdv2.SetOptions{})
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%v\n%s", err, c.logs.String())
}

// get reads a key with a quorum read; false when it does not exist.
func (c *etcdCluster) get(cl *etcdv2.Client, key string) (*etcdv2.Node, bool) {
	c.t.Helper()
	n, ok, err := tryGet(cl, key)
	if err != nil {
		c.t.Fatalf("get %s: %v", key, err)
	}
	return n, ok
}

func tryGet(cl *etcdv2.Client, key string) (*etcdv2.Node, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := cl.Get(ctx, key, etcdv2.GetOptions{Quorum: true})
	if etcdv2.IsCode(err, etcdv2.ErrCodeKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return resp.Node, true, nil
}

// eventually polls cond every 50ms until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last state: %s", timeout, what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
