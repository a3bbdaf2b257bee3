package swarmmodel

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/boottest/swarmmodel/etcdv2"
)

// register writes an engine's key as join does.
func register(t *testing.T, cl *etcdv2.Client, prefix, addr string, ttl time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cl.Set(ctx, prefix+"/docker/swarm/nodes/"+addr, addr, etcdv2.SetOptions{TTL: ttl}); err != nil {
		t.Fatal(err)
	}
}

func unregister(t *testing.T, cl *etcdv2.Client, prefix, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cl.Delete(ctx, prefix+"/docker/swarm/nodes/"+addr, etcdv2.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

func waitStatus(t *testing.T, addr, engine, status string, timeout time.Duration) swarmInfo {
	t.Helper()
	var info swarmInfo
	eventually(t, timeout, engine+" "+status, func() (bool, string) {
		info = getInfo(t, addr)
		n, ok := info.node(engine)
		return ok && n.Fields["Status"] == status, info.String()
	})
	return info
}

// TestManageEngines follows engines through the states swarm gave them,
// and checks what the manager serves about them.
func TestManageEngines(t *testing.T) {
	etcd := startEtcd(t, 1)
	cl := etcd.client()
	d20 := newFakeEngine(t, "node-2")
	d20.addContainer(map[string]any{"Id": "c1", "Names": []string{"/web"}, "Image": "nginx", "State": "running", "Status": "Up 1 minute", "Created": 200,
		"Ports": []map[string]any{{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}}})
	d20.addContainer(map[string]any{"Id": "c2", "Names": []string{"/old"}, "Image": "busybox", "State": "exited", "Status": "Exited (0)", "Created": 100})
	d20.addContainer(map[string]any{"Id": "c3", "Names": []string{"/swarm-join"}, "Image": "swarm:1.2.9", "State": "running", "Status": "Up", "Created": 300})
	d29 := newFakeEngine(t, "node-10").likeDocker29()
	unreachable := fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1)[0])
	for _, a := range []string{d20.addr, d29.addr, unreachable} {
		register(t, cl, "/m", a, time.Minute)
	}
	mgr, addr := startManager(t, etcd.url("m"))

	waitStatus(t, addr, d20.addr, "Healthy", 5*time.Second)

	t.Run("first calls are unversioned, then API 1.31", func(t *testing.T) {
		calls := d20.callLog()
		want := []string{"GET /info", "GET /version", "GET /_ping"}
		if len(calls) < 4 || strings.Join(calls[:3], ",") != strings.Join(want, ",") {
			t.Fatalf("first calls %q, want %q then versioned ones", calls, want)
		}
		for _, c := range calls[3:] {
			if !strings.HasPrefix(c, "GET /v1.31/") {
				t.Errorf("call %q after negotiation, want /v1.31/ (API 1.41 engine)", c)
			}
		}
	})

	t.Run("an engine refusing 1.31 stays Pending with its error", func(t *testing.T) {
		// Watch several validation attempts: it must stay Pending throughout.
		eventually(t, 5*time.Second, "three validation attempts", func() (bool, string) {
			info := getInfo(t, addr)
			if n, ok := info.node(d29.addr); !ok || n.Fields["Status"] != "Pending" {
				t.Fatalf("Docker 29 engine is not Pending:%s", info)
			}
			return d29.countCalls("GET /v1.31/containers/json") >= 3, strings.Join(d29.callLog(), "\n")
		})
		info := getInfo(t, addr)
		n, ok := info.node(d29.addr)
		if !ok || n.Fields["Status"] != "Pending" {
			t.Fatalf("Docker 29 engine: %+v, want Pending%s", n, info)
		}
		if want := "Error response from daemon: " + docker29Refusal; n.Fields["Error"] != want {
			t.Errorf("└ Error %q, want %q", n.Fields["Error"], want)
		}
		if n.Name != "node-10" || n.Fields["ServerVersion"] != "29.1.3" {
			t.Errorf("pending engine shows %q %q, want its name and version from the unversioned calls", n.Name, n.Fields["ServerVersion"])
		}
		if got := info.status("Nodes"); got != "3" {
			t.Errorf("Nodes %s, want 3 (pending engines count)", got)
		}
		u, _ := info.node(unreachable)
		if u.Name != "(unknown)" || u.Fields["Status"] != "Pending" ||
			u.Fields["Error"] != "Cannot connect to the Docker daemon at tcp://"+unreachable+". Is the docker daemon running?" {
			t.Errorf("unreachable engine: %+v", u)
		}
	})

	t.Run("info shape", func(t *testing.T) {
		info := getInfo(t, addr)
		if info.ServerVersion != "swarm/1.2.9" {
			t.Errorf("ServerVersion %q", info.ServerVersion)
		}
		head := [][2]string{{"Role", "primary"}, {"Strategy", "spread"},
			{"Filters", "health, port, containerslots, dependency, affinity, constraint, whitelist"}, {"Nodes", "3"}}
		for i, kv := range head {
			if info.SystemStatus[i] != kv {
				t.Errorf("SystemStatus[%d] = %q, want %q", i, info.SystemStatus[i], kv)
			}
		}
		// Sorted by name, naturally: "(unknown)" < "node-2" < "node-10".
		var names []string
		for _, n := range info.nodes() {
			names = append(names, n.Name)
		}
		if strings.Join(names, ",") != "(unknown),node-2,node-10" {
			t.Errorf("engine order %v", names)
		}
		var labels []string
		inNode := false
		for _, kv := range info.SystemStatus {
			if kv[1] == d20.addr {
				inNode = true
				continue
			}
			if inNode {
				if !strings.HasPrefix(kv[0], "  └ ") {
					break
				}
				labels = append(labels, kv[0])
			}
		}
		want := []string{"  └ ID", "  └ Status", "  └ Containers", "  └ Reserved CPUs", "  └ Reserved Memory", "  └ Labels", "  └ UpdatedAt", "  └ ServerVersion"}
		if strings.Join(labels, "|") != strings.Join(want, "|") {
			t.Errorf("healthy engine's pairs %q, want %q (no Error pair when there is none)", labels, want)
		}
		n, _ := info.node(d20.addr)
		checks := map[string]string{
			"ID":              "ID-NODE-2|" + d20.addr,
			"Containers":      "3 (2 Running, 0 Paused, 1 Stopped)",
			"Reserved CPUs":   "3 / 2",
			"Reserved Memory": "192 MiB / 2.1 GiB",
			"Labels":          "kernelversion=6.1.0-test, operatingsystem=Debian GNU/Linux 12 (bookworm), ostype=linux, storagedriver=overlay2, zone=test",
			"ServerVersion":   "20.10.24+dfsg1",
		}
		for k, v := range checks {
			if n.Fields[k] != v {
				t.Errorf("└ %s = %q, want %q", k, n.Fields[k], v)
			}
		}
		if _, err := time.Parse(time.RFC3339, n.Fields["UpdatedAt"]); err != nil {
			t.Errorf("UpdatedAt: %v", err)
		}
		if info.Containers != 3 || info.Images != 1 || info.NCPU != 2 || info.MemTotal != (2<<30)+(2<<30)*5/100 {
			t.Errorf("totals: containers %d images %d ncpu %d mem %d", info.Containers, info.Images, info.NCPU, info.MemTotal)
		}
	})

	t.Run("API routes", func(t *testing.T) {
		for _, p := range []string{"/_ping", "/v1.30/_ping", "/v1.44/_ping"} {
			if body, code := httpGet(t, "http://"+addr+p); code != 200 || body != "OK" {
				t.Errorf("GET %s: %d %q", p, code, body)
			}
		}
		req, _ := http.NewRequest(http.MethodHead, "http://"+addr+"/_ping", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 || res.Header.Get("API-Version") != "1.30" {
			t.Errorf("HEAD /_ping: %v %v", res, err)
		} else {
			res.Body.Close()
		}
		var v struct{ Version, ApiVersion string }
		body, code := httpGet(t, "http://"+addr+"/v1.24/version")
		if json.Unmarshal([]byte(body), &v); code != 200 || v.Version != "swarm/1.2.9" || v.ApiVersion != "1.30" {
			t.Errorf("GET /version: %d %s", code, body)
		}
		if body, code := httpGet(t, "http://"+addr+"/v1.30/images/json"); code != 501 || !strings.Contains(body, `"message":"GET /images/json is a route of swarm 1.2.9 that this model of it does not implement"`) {
			t.Errorf("unmodelled route: %d %s", code, body)
		}
		if body, code := httpGet(t, "http://"+addr+"/nonsense"); code != 404 || !strings.Contains(body, `"message":"page not found"`) {
			t.Errorf("unknown route: %d %s", code, body)
		}
	})

	t.Run("containers", func(t *testing.T) {
		list := func(q string) []map[string]any {
			body, code := httpGet(t, "http://"+addr+"/v1.30/containers/json"+q)
			var out []map[string]any
			if err := json.Unmarshal([]byte(body), &out); code != 200 || err != nil {
				t.Fatalf("containers/json%s: %d %s", q, code, body)
			}
			return out
		}
		running := list("")
		if len(running) != 1 || fmt.Sprint(running[0]["Names"]) != "[/node-2/web]" {
			t.Fatalf("running containers: %v", running)
		}
		ports := running[0]["Ports"].([]any)[0].(map[string]any)
		if ports["IP"] != "127.0.0.1" {
			t.Errorf("0.0.0.0 port shown as %v, want the engine's IP", ports["IP"])
		}
		all := list("?all=1")
		var names []string
		for _, c := range all {
			names = append(names, fmt.Sprint(c["Names"]))
		}
		if strings.Join(names, ",") != "[/node-2/swarm-join],[/node-2/web],[/node-2/old]" {
			t.Errorf("all containers, newest first: %v", names)
		}
		if got := list(`?all=1&filters={"name":["web"]}`); len(got) != 1 {
			t.Errorf("name filter: %v", got)
		}
	})

	t.Run("docker CLI", func(t *testing.T) {
		docker := needDocker(t)
		run := func(args ...string) string {
			cmd := exec.Command(docker, append([]string{"-H", "tcp://" + addr}, args...)...)
			cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+t.TempDir(), "DOCKER_HOST=", "DOCKER_CONTEXT=")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("docker %v: %v\n%s", args, err, out)
			}
			return string(out)
		}
		out := run("info")
		for _, re := range []string{`(?m)^\s*Server Version: swarm/1\.2\.9$`, `(?m)^\s*Nodes: 3$`, `(?m)^\s*Role: primary$`,
			`(?m)^\s*└ Status: Pending$`, `(?m)^\s*└ Error: Error response from daemon: client version 1\.31 is too old`} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("docker info lacks %s:\n%s", re, out)
			}
		}
		if out := run("ps", "--format", "{{.Names}}"); strings.TrimSpace(out) != "node-2/web" {
			t.Errorf("docker ps: %q", out)
		}
	})

	t.Run("a Pending engine becomes Healthy once it accepts 1.31", func(t *testing.T) {
		d29.acceptAll()
		info := waitStatus(t, addr, d29.addr, "Healthy", 5*time.Second)
		if n, _ := info.node(d29.addr); n.Fields["Error"] != "" {
			t.Errorf("healthy engine keeps error %q", n.Fields["Error"])
		}
		if !strings.Contains(mgr.out.String(), `level=info msg="Registered Engine node-10 at `+d29.addr+`"`) {
			t.Errorf("no registration log line:\n%s", mgr.out.String())
		}
	})

	t.Run("Healthy -> Unhealthy after failures, and back", func(t *testing.T) {
		d20.stop()
		info := waitStatus(t, addr, d20.addr, "Unhealthy", 5*time.Second)
		n, _ := info.node(d20.addr)
		if want := "Cannot connect to the Docker daemon at tcp://" + d20.addr + ". Is the docker daemon running?"; n.Fields["Error"] != want {
			t.Errorf("└ Error %q, want %q", n.Fields["Error"], want)
		}
		if n.Fields["Containers"] != "3" {
			t.Errorf("unhealthy engine's containers %q, want the bare count", n.Fields["Containers"])
		}
		if !strings.Contains(mgr.out.String(), `level=error msg="Flagging engine as unhealthy. Connect failed 2 times"`) {
			t.Errorf("no unhealthy log line:\n%s", mgr.out.String())
		}
		body, _ := httpGet(t, "http://"+addr+"/containers/json?all=1")
		if !strings.Contains(body, `"Status":"Host Down"`) {
			t.Errorf("containers of an unhealthy engine: %s", body)
		}
		d20.restart()
		waitStatus(t, addr, d20.addr, "Healthy", 10*time.Second)
	})

	t.Run("removal from discovery removes the engine", func(t *testing.T) {
		unregister(t, cl, "/m", d29.addr)
		unregister(t, cl, "/m", unreachable)
		eventually(t, 5*time.Second, "Nodes: 1", func() (bool, string) {
			info := getInfo(t, addr)
			_, ok := info.node(d29.addr)
			return !ok && info.status("Nodes") == "1", info.String()
		})
	})

	if code := mgr.stop(t); code != 0 {
		t.Errorf("manager exit status on SIGTERM: %d\n%s", code, mgr.out.String())
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Errorf("manager still listens after SIGTERM")
	}
}
