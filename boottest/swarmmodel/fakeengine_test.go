package swarmmodel

// A fake Docker engine: answers like Docker 20.10 (API 1.41, takes any
// version) or like Docker 29 (refuses versions below 1.40 with Docker's
// own message), can be made unreachable and brought back on the same
// address, and records the requests it got. Its containers, which run,
// are in fakecontainers_test.go.

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeEngine struct {
	t    *testing.T
	addr string
	tls  *tls.Config

	mu         sync.Mutex
	name, id   string
	apiVersion string // the engine's own API version
	minAPI     string // "" takes any version
	version    string // server version
	images     []string
	ctrs       []*fakeContainer
	creates    []fakeCreate
	serial     int
	hold       chan struct{} // non-nil: creates wait for it to close
	waiting    int           // creates that waited
	holdList   chan struct{} // non-nil: unfiltered lists wait for it
	calls      []string
	ln         net.Listener
	srv        *http.Server
}

// docker29Refusal is the answer of Docker 29 to a /v1.31/ request.
const docker29Refusal = "client version 1.31 is too old. Minimum supported API version is 1.40, please upgrade your client to a newer version"

func newFakeEngine(t *testing.T, name string) *fakeEngine {
	return newFakeEngineTLS(t, name, nil)
}

func newFakeEngineTLS(t *testing.T, name string, tlsConfig *tls.Config) *fakeEngine {
	f := &fakeEngine{t: t, name: name, id: "ID-" + strings.ToUpper(name), apiVersion: "1.41", version: "20.10.24+dfsg1", tls: tlsConfig,
		images: []string{"busybox:latest"}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.Addr().String()
	f.serve(l)
	t.Cleanup(f.stop)
	return f
}

// likeDocker29 makes the engine answer as Docker 29.x does.
func (f *fakeEngine) likeDocker29() *fakeEngine {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apiVersion, f.minAPI, f.version = "1.52", "1.40", "29.1.3"
	return f
}

// acceptAll lowers the engine's minimum API version (DOCKER_MIN_API_VERSION).
func (f *fakeEngine) acceptAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.minAPI = ""
}

// addContainer adds a container listed as given (an entry of
// GET /containers/json); it has no program to run.
func (f *fakeEngine) addContainer(c map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := ""
	if names, ok := c["Names"].([]string); ok && len(names) > 0 {
		name = strings.TrimPrefix(names[0], "/")
	}
	ct := newFakeContainer(c["Id"].(string), name)
	ct.seed = c
	f.ctrs = append(f.ctrs, ct)
}

func (f *fakeEngine) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeEngine) countCalls(prefix string) int {
	n := 0
	for _, c := range f.callLog() {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func (f *fakeEngine) serve(l net.Listener) {
	if f.tls != nil {
		l = tls.NewListener(l, f.tls)
	}
	srv := &http.Server{Handler: http.HandlerFunc(f.handle), ReadHeaderTimeout: 5 * time.Second}
	f.mu.Lock()
	f.ln, f.srv = l, srv
	f.mu.Unlock()
	go srv.Serve(l)
}

// stop makes the engine unreachable (connection refused).
func (f *fakeEngine) stop() {
	f.mu.Lock()
	srv := f.srv
	f.srv = nil
	f.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// restart listens again on the same address.
func (f *fakeEngine) restart() {
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if l, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		f.t.Fatalf("fake engine: listen again on %s: %v", f.addr, err)
	}
	f.serve(l)
}

var fakeVersionPrefix = regexp.MustCompile(`^/v([0-9]+\.[0-9]+)(/.*)$`)

func (f *fakeEngine) handle(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+r.URL.RequestURI())
	name, id, apiV, minAPI, ver := f.name, f.id, f.apiVersion, f.minAPI, f.version
	var images []map[string]any
	for i, im := range f.images {
		images = append(images, map[string]any{"Id": fmt.Sprintf("sha256:%d", i+1), "RepoTags": []string{im}})
	}
	f.mu.Unlock()

	p := r.URL.Path
	w.Header().Set("Api-Version", apiV)
	if m := fakeVersionPrefix.FindStringSubmatch(p); m != nil {
		if minAPI != "" && versionLess(m[1], minAPI) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "{\"message\":%q}\n", fmt.Sprintf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", m[1], minAPI))
			return
		}
		p = m[2]
	}
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	switch {
	case p == "/_ping":
		w.Write([]byte("OK"))
	case p == "/info":
		reply(map[string]any{"ID": id, "Name": name, "NCPU": 2, "MemTotal": 2 << 30, "Driver": "overlay2",
			"KernelVersion": "6.1.0-test", "OperatingSystem": "Debian GNU/Linux 12 (bookworm)", "OSType": "linux",
			"Labels": []string{"zone=test"}, "SystemTime": time.Now().Format(time.RFC3339Nano)})
	case p == "/version":
		reply(map[string]any{"Version": ver, "ApiVersion": apiV, "MinAPIVersion": "1.12"})
	case p == "/images/json":
		reply(append(images, map[string]any{"Id": "sha256:0", "RepoTags": []string{"<none>:<none>"}}))
	case f.handleContainers(w, r, p): // answered there
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("{\"message\":\"page not found\"}\n"))
	}
}
