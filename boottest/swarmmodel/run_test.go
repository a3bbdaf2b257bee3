package swarmmodel

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// seeded returns three engines holding 2, 1 and 1 containers, so spread
// puts the next container on node-02 (fewest, tied with node-03, first by
// name), and the next but one on node-03.
func seeded(t *testing.T, newEngine func(string) *fakeEngine) []*fakeEngine {
	var engines []*fakeEngine
	for i, seeds := range [][]string{{"seed1", "seed2"}, {"seed3"}, {"seed4"}} {
		e := newEngine(fmt.Sprintf("node-%02d", i+1))
		for _, name := range seeds {
			e.addContainer(map[string]any{"Id": strings.Repeat(name[4:], 64), "Names": []string{"/" + name}, "Image": "busybox",
				"State": "running", "Status": "Up 1 hour", "Created": 100})
		}
		engines = append(engines, e)
	}
	return engines
}

// TestRunAPI runs a container through the manager with the requests
// `docker run -i` sends (create, attach, wait, start), without a docker
// CLI: placement, the hijacked stream both ways, wait's early status line,
// and what follows (list, inspect, logs, forwarded routes, remove, errors).
func TestRunAPI(t *testing.T) {
	s := startSwarm(t, nil, seeded(t, func(n string) *fakeEngine { return newFakeEngine(t, n) })...)
	node2 := s.engines[1]
	before := s.createCounts()
	id := s.create("api1", map[string]any{"Image": "busybox", "Cmd": []string{"out:hi", "err:ho", "cat", "exit:4"},
		"OpenStdin": true, "StdinOnce": true, "AttachStdin": true, "AttachStdout": true, "AttachStderr": true})
	if got := s.landedOn(before); got != "node-02" {
		t.Fatalf("spread placed api1 on %q, want node-02 (1 container, tied with node-03, first by name)", got)
	}
	if s.holder(id) != node2 {
		t.Fatalf("the ID the manager answered, %s, is not node-02's", id)
	}
	body := node2.createdBodies()[0]
	if body.name != "api1" {
		t.Errorf("engine got name %q", body.name)
	}
	labels, _ := body.body["Labels"].(map[string]any)
	if sid, _ := labels[swarmIDLabel].(string); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(sid) {
		t.Errorf("swarm ID label %q, want 64 hex digits", sid)
	}
	if host := body.body["HostConfig"].(map[string]any); host["CpuShares"] != float64(0) {
		t.Errorf("CpuShares sent %v, want 0", host["CpuShares"])
	}

	stream := s.attach("api1", "stream=1&stdin=1&stdout=1&stderr=1")
	// wait's status line must come before the container exits: the docker
	// CLI starts the container only once it has it.
	waitRes, err := s.httpClient().Post(s.url("/v1.30/containers/node-02/api1/wait?condition=next-exit"), "", nil)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	defer waitRes.Body.Close()
	if code, out := s.do("POST", "/v1.30/containers/"+id[:12]+"/start", ""); code != http.StatusNoContent {
		t.Fatalf("start: %d %s", code, out)
	}
	stream.send("ping\n")
	stream.closeStdin()
	if stdout, stderr := stream.output(); stdout != "hi\nping\n" || stderr != "ho\n" {
		t.Errorf("attached stdout %q stderr %q, want \"hi\\nping\\n\" and \"ho\\n\"", stdout, stderr)
	}
	var status struct{ StatusCode int }
	if err := json.NewDecoder(waitRes.Body).Decode(&status); err != nil || status.StatusCode != 4 {
		t.Errorf("wait: %+v %v, want status 4", status, err)
	}

	t.Run("list", func(t *testing.T) {
		want := "/node-01/seed1 /node-01/seed2 /node-02/api1 /node-02/seed3 /node-03/seed4"
		if got := strings.Join(s.names(), " "); got != want {
			t.Errorf("names %s, want %s", got, want)
		}
		var list []map[string]any
		s.getJSON("/v1.30/containers/json?all=1", &list)
		for _, c := range list {
			if _, ok := c["Node"]; ok {
				t.Errorf("swarm 1.2.9's list has no Node field: %v", c)
			}
		}
	})

	t.Run("inspect", func(t *testing.T) {
		var in struct {
			Id    string
			State struct{ ExitCode int }
			Node  struct {
				ID, IP, Addr, Name string
				Cpus               int
				Memory             int64
				Labels             map[string]string
			}
		}
		s.getJSON("/v1.30/containers/api1/json", &in)
		if in.Id != id || in.State.ExitCode != 4 {
			t.Errorf("inspect: %+v", in)
		}
		n := in.Node
		if n.Name != "node-02" || n.Addr != node2.addr || n.IP != "127.0.0.1" || n.ID != "ID-NODE-02|"+node2.addr ||
			n.Cpus != 2 || n.Memory != 2<<30 || n.Labels["zone"] != "test" {
			t.Errorf("Node %+v", n)
		}
		// Ports bound to all addresses are shown on the engine's IP.
		var seed struct {
			NetworkSettings struct {
				Ports map[string][]struct{ HostIp, HostPort string }
			}
		}
		s.getJSON("/v1.30/containers/node-01/seed1/json", &seed)
		p := seed.NetworkSettings.Ports
		if p["80/tcp"][0].HostIp != "127.0.0.1" || p["81/tcp"][0].HostIp != "192.0.2.7" {
			t.Errorf("ports %+v", p)
		}
	})

	t.Run("logs", func(t *testing.T) {
		code, out := s.do("GET", "/v1.30/containers/api1/logs?stdout=1&stderr=1", "")
		if stdout, stderr := demux(t, out); code != 200 || stdout != "hi\nping\n" || stderr != "ho\n" {
			t.Errorf("logs: %d %q %q", code, stdout, stderr)
		}
		if want := "GET /v1.30/containers/" + id + "/logs?stdout=1&stderr=1"; node2.countCalls(want) != 1 {
			t.Errorf("node-02 did not get %s: %q", want, node2.callLog())
		}
	})

	t.Run("forwarded routes", func(t *testing.T) {
		// A container of its own, never waited on: every list of it the
		// engine gets comes from its creation or from these routes.
		fid := s.create("fwd", map[string]any{"Image": "busybox", "Cmd": []string{"wait"}})
		e := s.holder(fid)
		refreshes := func() int {
			return e.countCalls("GET /v1.31/containers/json?all=1&filters=%7B%22id%22%3A%7B%22" + fid)
		}
		routes := []struct {
			method, suffix string
			refresh        bool
		}{
			{"GET", "/top", false}, {"GET", "/changes", false}, {"GET", "/export", false}, {"GET", "/stats", false},
			{"GET", "/archive", false}, {"PUT", "/archive", false}, {"POST", "/resize", false}, {"POST", "/copy", false},
			{"POST", "/pause", true}, {"POST", "/unpause", true}, {"POST", "/restart", true}, {"POST", "/update", true},
		}
		want := refreshes()
		for _, rt := range routes {
			code, out := s.do(rt.method, "/v1.30/containers/"+e.name+"/fwd"+rt.suffix, `{"x":1}`)
			path := rt.method + " /v1.30/containers/" + fid + rt.suffix
			if code != 200 || !strings.Contains(out, `"Forwarded":"`+path+`"`) {
				t.Errorf("%s %s: %d %s, want the engine to get %s", rt.method, rt.suffix, code, out, path)
			}
			if rt.method != "GET" && !strings.Contains(out, `"Body":"{\"x\":1}`) {
				t.Errorf("%s %s: the body did not reach the engine: %s", rt.method, rt.suffix, out)
			}
			if rt.refresh {
				// Swarm refreshed once the answer was passed on, so
				// the client may see it first.
				want++
				eventually(t, 5*time.Second, rt.suffix+"'s refresh", func() (bool, string) {
					return refreshes() >= want, strings.Join(e.callLog(), "\n")
				})
			}
		}
		if got := refreshes(); got != want {
			t.Errorf("%d refreshes of the container, want %d (one after each of pause, unpause, restart, update)", got, want)
		}
		for _, other := range s.engines {
			for _, c := range other.callLog() {
				if other != e && strings.Contains(c, fid) {
					t.Errorf("%s got %s", other.name, c)
				}
			}
		}
		// HEAD: only the status and headers come back.
		if code, _ := s.do("HEAD", "/v1.30/containers/fwd/archive?path=/", ""); code != 200 {
			t.Errorf("HEAD archive: %d", code)
		}
	})

	t.Run("resources", func(t *testing.T) {
		// CpuShares is a number of CPUs to swarm: each seed reserves 1 of
		// its engine's 2, so node-01 (2 seeds) has no room for one more.
		before := s.createCounts()
		id := s.create("", map[string]any{"Image": "busybox", "HostConfig": map[string]any{"CpuShares": 1}})
		e := s.holder(id)
		if got := s.landedOn(before); got != "node-02" && got != "node-03" {
			t.Errorf("a 1-CPU container landed on %q", got)
		}
		bodies := e.createdBodies()
		if shares := bodies[len(bodies)-1].body["HostConfig"].(map[string]any)["CpuShares"]; shares != float64(512) {
			t.Errorf("the engine got CpuShares %v, want 512 (1 CPU of 2)", shares)
		}
		code, out := s.do("POST", "/v1.30/containers/create", `{"Image":"busybox","HostConfig":{"CpuShares":2}}`)
		if code != 500 || out != "no resources available to schedule container\n" {
			t.Errorf("2 CPUs: %d %q", code, out)
		}
		s.do("DELETE", "/v1.30/containers/"+id, "")
	})

	t.Run("remove", func(t *testing.T) {
		if code, out := s.do("DELETE", "/v1.30/containers/node-02/api1?force=1&v=1", ""); code != http.StatusNoContent {
			t.Fatalf("remove: %d %s", code, out)
		}
		if node2.countCalls("DELETE /v1.31/containers/"+id+"?force=1&v=1") != 1 || s.holder(id) != nil {
			t.Errorf("node-02 calls %q; holder %v", node2.callLog(), s.holder(id))
		}
		if got := strings.Join(s.names(), " "); strings.Contains(got, "api1") {
			t.Errorf("removed container still listed: %s", got)
		}
	})

	t.Run("errors in swarm's words", func(t *testing.T) {
		for _, tc := range []struct {
			method, path, body string
			code               int
			msg                string
		}{
			{"GET", "/containers/nosuch/json", "", 404, "No such container nosuch"},
			{"POST", "/containers/nosuch/start", "", 404, "No such container nosuch"},
			{"DELETE", "/containers/nosuch", "", 404, "Container nosuch not found"},
			{"GET", "/containers/nosuch/logs", "", 404, "No such container: nosuch"},
			{"POST", "/containers/nosuch/wait", "", 404, "No such container: nosuch"},
			{"POST", "/containers/nosuch/attach", "", 404, "No such container: nosuch"},
			{"POST", "/containers/create?name=seed1", `{"Image":"busybox"}`, 409,
				"Conflict: The name seed1 is already assigned. You have to delete (or rename) that container to be able to assign seed1 to a container again."},
			{"POST", "/containers/create", `{"Image":"nope"}`, 500, "Error: No such image: nope"},
			{"POST", "/containers/create", `{"Image":`, 400, "unexpected EOF"},
			{"POST", "/containers/create", `["busybox"]`, 400, "json: cannot unmarshal array into Go value of type map[string]interface {}"},
			{"POST", "/containers/create", `{"Image":"busybox","HostConfig":"x"}`, 400, "HostConfig must be a JSON object"},
			{"POST", "/containers/create", `{"Image":"busybox","HostConfig":{"Memory":"1g"}}`, 400, "HostConfig.Memory must be a JSON number"},
			{"POST", "/containers/create", `{"Image":"busybox","Env":"A=1"}`, 400, "Env must be a JSON array"},
			{"POST", "/containers/create", `{"Image":"busybox","Env":["reschedule:sometimes"]}`, 500, "invalid reschedule policy: sometimes"},
		} {
			code, out := s.do(tc.method, "/v1.30"+tc.path, tc.body)
			if code != tc.code || out != tc.msg+"\n" {
				t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, code, out, tc.code, tc.msg)
			}
			if line := fmt.Sprintf(`level=error msg="HTTP error: %s" status=%d`, strings.ReplaceAll(tc.msg, `"`, `\"`), tc.code); !strings.Contains(s.mgr.out.String(), line) {
				t.Errorf("no log line %s", line)
			}
		}
		code, out := s.do("POST", "/v1.30/containers/create", `{"Image":"busybox","Env":["constraint:node==node-01"]}`)
		if code != 501 || !strings.Contains(out, "scheduling constraints (node==node-01): not implemented by this model of swarm 1.2.9") {
			t.Errorf("constraint: %d %s", code, out)
		}
	})
}

// TestConcurrentCreates: creations under way count for the strategy, and
// claim their name, as swarm's pending containers did.
func TestConcurrentCreates(t *testing.T) {
	var engines []*fakeEngine
	for i := 1; i <= 3; i++ {
		e := newFakeEngine(t, fmt.Sprintf("node-%d", i))
		e.holdCreates()
		engines = append(engines, e)
	}
	s := startSwarm(t, nil, engines...)
	done := make(chan string, 4)
	for i := 0; i < 3; i++ {
		go func() {
			code, out := s.do("POST", "/v1.30/containers/create", `{"Image":"busybox"}`)
			done <- fmt.Sprint(code, " ", out)
		}()
	}
	waiting := func(want int) func() (bool, string) {
		return func() (bool, string) {
			n := 0
			for _, e := range engines {
				n += e.waitingCreates()
			}
			return n == want, fmt.Sprint(n)
		}
	}
	eventually(t, 5*time.Second, "three creations under way", waiting(3))
	for _, e := range engines {
		if e.waitingCreates() != 1 {
			t.Errorf("%s has %d creations; spread must count the ones under way", e.name, e.waitingCreates())
		}
	}
	go func() {
		code, out := s.do("POST", "/v1.30/containers/create?name=twin", `{"Image":"busybox"}`)
		done <- fmt.Sprint(code, " ", out)
	}()
	eventually(t, 5*time.Second, "the fourth creation", waiting(4))
	code, out := s.do("POST", "/v1.30/containers/create?name=twin", `{"Image":"busybox"}`)
	if code != 409 || !strings.HasPrefix(out, "Conflict: The name twin is already assigned.") {
		t.Errorf("same name while the first is being created: %d %s", code, out)
	}
	for _, e := range engines {
		e.releaseCreates()
	}
	for i := 0; i < 4; i++ {
		if r := <-done; !strings.HasPrefix(r, "201 ") {
			t.Errorf("create: %s", r)
		}
	}
}

// TestDockerRun: the docker CLI through the manager, as the seed's last
// step does it: `docker run` prints the container's output and exits with
// its status, containers go where spread says, `docker ps -a` names them
// node/name, and logs, inspect, wait, stop and rm reach the right engine.
func TestDockerRun(t *testing.T) {
	needDocker(t)
	s := startSwarm(t, nil, seeded(t, func(n string) *fakeEngine { return newFakeEngine(t, n) })...)
	node1, node2, node3 := s.engines[0], s.engines[1], s.engines[2]

	before := s.createCounts()
	out, errOut, code := s.docker("", "run", "--rm", "busybox", "out:hello", "err:oops", "exit:3")
	if out != "hello\n" || errOut != "oops\n" || code != 3 {
		t.Errorf("docker run --rm: stdout %q stderr %q exit %d, want \"hello\\n\" \"oops\\n\" 3", out, errOut, code)
	}
	out, errOut, code = s.docker("ping\npong\n", "run", "-i", "--rm", "busybox", "cat")
	if out != "ping\npong\n" || errOut != "" || code != 0 {
		t.Errorf("docker run -i --rm cat: stdout %q stderr %q exit %d", out, errOut, code)
	}
	if got := s.landedOn(before); got != "node-02,node-02" {
		t.Errorf("the two runs landed on %s, want node-02 twice (fewest containers, first by name; --rm leaves none)", got)
	}
	if ids := node2.containerIDs(); len(ids) != 1 {
		t.Errorf("node-02 holds %d containers after two --rm runs, want its seed only", len(ids))
	}

	before = s.createCounts()
	webID := strings.TrimSpace(s.dockerOK("run", "-d", "--name", "web", "busybox", "out:started", "wait"))
	s.dockerOK("run", "-d", "--name", "db", "busybox", "out:db-ready", "wait")
	out, _, code = s.docker("", "run", "--name", "job", "busybox", "out:done", "exit:5")
	if out != "done\n" || code != 5 {
		t.Errorf("docker run job: %q exit %d", out, code)
	}
	if got := s.landedOn(before); got != "node-01,node-02,node-03" || s.holder(webID) != node2 {
		t.Errorf("web, db, job landed on %s (web on %v), want web on node-02, db on node-03 (then the emptiest), job on node-01 (all tied at 2)", got, s.holder(webID))
	}

	ps := strings.Fields(s.dockerOK("ps", "-a", "--format", "{{.Names}}"))
	sort.Strings(ps)
	if got, want := strings.Join(ps, " "), "node-01/job node-01/seed1 node-01/seed2 node-02/seed3 node-02/web node-03/db node-03/seed4"; got != want {
		t.Errorf("docker ps -a: %s, want %s", got, want)
	}
	if got := s.dockerOK("logs", "web"); got != "started\n" {
		t.Errorf("docker logs web: %q", got)
	}
	if got := s.dockerOK("logs", "node-03/db"); got != "db-ready\n" {
		t.Errorf("docker logs node-03/db: %q", got)
	}
	if got, want := s.dockerOK("inspect", "--format", "{{.Node.Name}} {{.Node.Addr}} {{.State.Running}}", "web"), "node-02 "+node2.addr+" true\n"; got != want {
		t.Errorf("docker inspect web: %q, want %q", got, want)
	}
	if got := s.dockerOK("wait", "job"); got != "5\n" {
		t.Errorf("docker wait job: %q", got)
	}
	s.dockerOK("stop", "db")
	if got := s.dockerOK("container", "inspect", "--format", "{{.State.ExitCode}}", "node-03/db"); got != "143\n" {
		t.Errorf("db's exit code after docker stop: %q", got)
	}

	// rm goes to the engine that holds the container, and only there.
	_, errOut, code = s.docker("", "rm", "web")
	if code != 1 || !strings.Contains(errOut, "You cannot remove a running container "+webID) {
		t.Errorf("docker rm of a running container: exit %d %q", code, errOut)
	}
	if got := s.dockerOK("kill", "web"); got != "web\n" {
		t.Errorf("docker kill: %q", got)
	}
	if got := s.dockerOK("inspect", "--format", "{{.State.ExitCode}}", "web"); got != "137\n" {
		t.Errorf("web's exit code after docker kill: %q", got)
	}
	if got := s.dockerOK("rm", "web", "node-03/db", "job"); got != "web\nnode-03/db\njob\n" {
		t.Errorf("docker rm: %q", got)
	}
	// node-02 also got the refused `docker rm web`.
	for e, want := range map[*fakeEngine]int{node1: 1, node2: 2, node3: 1} {
		if n := e.countCalls("DELETE /v1.31/containers/"); n != want {
			t.Errorf("%s got %d DELETE requests, want %d: %q", e.name, n, want, e.callLog())
		}
	}
	if got := s.dockerOK("ps", "-a", "--format", "{{.Names}}"); strings.Contains(got, "web") || strings.Contains(got, "db\n") {
		t.Errorf("removed containers still listed: %q", got)
	}

	// Errors, as the docker CLI shows swarm's messages.
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"logs", "nosuch"}, "Error response from daemon: No such container nosuch\n"},
		{[]string{"rm", "nosuch"}, "Error response from daemon: Container nosuch not found\n"},
		{[]string{"start", "nosuch"}, "Error response from daemon: No such container nosuch\n"},
		{[]string{"run", "--name", "seed1", "busybox"}, "docker: Error response from daemon: Conflict: The name seed1 is already assigned. You have to delete (or rename) that container to be able to assign seed1 to a container again.\n"},
	} {
		_, errOut, code := s.docker("", tc.args...)
		if code == 0 || !strings.HasPrefix(errOut, tc.msg) {
			t.Errorf("docker %v: exit %d %q, want %q", tc.args, code, errOut, tc.msg)
		}
	}
}

// TestRunTLS: with --tlsverify, the manager reaches TLS engines that
// require its certificate, and the hijacked attach stream crosses both TLS
// connections both ways, half-close included: by hand, then with the
// docker CLI (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH).
func TestRunTLS(t *testing.T) {
	ca := newTestCA(t)
	engineTLS := func(name string) *fakeEngine {
		_, _, cert := ca.issue(name)
		return newFakeEngineTLS(t, name, &tls.Config{Certificates: []tls.Certificate{cert},
			ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool})
	}
	s := startSwarm(t, ca, seeded(t, engineTLS)...)

	id, stdout, stderr := s.runAttached("by-hand", []string{"out:hello", "cat", "err:bye", "exit:7"}, true, "over tls\n")
	if s.holder(id) != s.engines[1] {
		t.Errorf("created on %v, want node-02", s.holder(id))
	}
	if stdout != "hello\nover tls\n" || stderr != "bye\n" {
		t.Errorf("attached over TLS: stdout %q stderr %q", stdout, stderr)
	}

	t.Run("docker CLI", func(t *testing.T) {
		needDocker(t)
		before := s.createCounts()
		out, errOut, code := s.docker("ping\n", "run", "-i", "--rm", "busybox", "out:hello", "cat", "err:bye", "exit:7")
		if out != "hello\nping\n" || errOut != "bye\n" || code != 7 {
			t.Errorf("docker run over TLS: stdout %q stderr %q exit %d", out, errOut, code)
		}
		if got := s.landedOn(before); got != "node-03" {
			t.Errorf("docker run landed on %s, want node-03 (node-02 holds by-hand)", got)
		}
		ps := strings.Fields(s.dockerOK("ps", "-a", "--format", "{{.Names}}"))
		sort.Strings(ps)
		if got, want := strings.Join(ps, " "), "node-01/seed1 node-01/seed2 node-02/by-hand node-02/seed3 node-03/seed4"; got != want {
			t.Errorf("docker ps -a over TLS: %s, want %s", got, want)
		}
	})
}

// TestRunUnhealthy: nothing is scheduled on an unhealthy engine, and its
// containers cannot be reached, in swarm's words.
func TestRunUnhealthy(t *testing.T) {
	e := newFakeEngine(t, "node-01")
	s := startSwarm(t, nil, e)
	id := s.create("left", map[string]any{"Image": "busybox", "Cmd": []string{"wait"}})
	e.stop()
	eventually(t, 5*time.Second, "node-01 Unhealthy", func() (bool, string) {
		var info swarmInfo
		s.getJSON("/info", &info)
		n, _ := info.node(e.addr)
		return n.Fields["Status"] == "Unhealthy", info.String()
	})
	for _, tc := range []struct{ method, path, body, msg string }{
		{"POST", "/containers/create", `{"Image":"busybox"}`, "No healthy node available in the cluster"},
		{"GET", "/containers/left/json", "", "Container left running on unhealthy node node-01"},
		{"GET", "/containers/" + id + "/logs?stdout=1", "", "Container " + id + " running on unhealthy node node-01"},
		{"POST", "/containers/left/attach?stream=1", "", "Container left running on unhealthy node node-01"},
	} {
		if code, out := s.do(tc.method, "/v1.30"+tc.path, tc.body); code != 500 || out != tc.msg+"\n" {
			t.Errorf("%s %s: %d %q, want 500 %q", tc.method, tc.path, code, out, tc.msg)
		}
	}
	t.Run("docker CLI", func(t *testing.T) {
		needDocker(t)
		_, errOut, code := s.docker("", "run", "--rm", "busybox", "out:x")
		if want := "docker: Error response from daemon: No healthy node available in the cluster"; code != 125 || !strings.HasPrefix(errOut, want) {
			t.Errorf("docker run: exit %d %q, want 125 %q", code, errOut, want)
		}
	})
}
