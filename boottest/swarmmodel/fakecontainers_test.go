package swarmmodel

// The fake engine's containers: created from the request body, run a tiny
// program (their command's words), keep their output as logs, stream it to
// attached connections (hijacked as Docker does, multiplexed frames unless
// Tty), take standard input from an attached connection, and answer wait,
// kill, stop and remove like Docker. Only full container IDs are accepted
// in paths: the manager must send the ID, as swarm did.
//
// Program words, run in order:
//   out:TEXT  write TEXT and a newline on stdout
//   err:TEXT  the same on stderr
//   cat       copy stdin to stdout until stdin ends
//   exit:N    end with status N (default 0 after the last word)
//   wait      run until killed (137) or stopped (143)

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type fakeFrame struct {
	stream byte // 1 stdout, 2 stderr
	data   []byte
}

type fakeAttach struct {
	conn           net.Conn
	stdout, stderr bool
}

type fakeContainer struct {
	seed map[string]any // a container added by addContainer: listed as given

	id, name, image     string
	created             time.Time
	config, hostConfig  map[string]any
	program             []string
	tty, openStdin      bool
	autoRemove          bool
	state               string // created, running, exited
	exitCode            int
	startedAt, finished time.Time
	logs                []fakeFrame
	attaches            []*fakeAttach
	stdin               *io.PipeReader
	stdinW              *io.PipeWriter
	kill                chan int      // the status a kill or stop ends the run with
	exited              chan struct{} // closed at the end of the next (or current) run
	removed             chan struct{}
}

// fakeCreate is a create request the engine got.
type fakeCreate struct {
	name string
	body map[string]any
}

func newFakeContainer(id, name string) *fakeContainer {
	c := &fakeContainer{id: id, name: name, created: time.Now(),
		kill: make(chan int, 1), exited: make(chan struct{}), removed: make(chan struct{})}
	c.stdin, c.stdinW = io.Pipe()
	return c
}

func (f *fakeEngine) lookup(id string) *fakeContainer {
	for _, c := range f.ctrs {
		if c.id == id {
			return c
		}
	}
	return nil
}

func fakeReply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func fakeMessage(w http.ResponseWriter, code int, format string, a ...any) {
	fakeReply(w, code, map[string]string{"message": fmt.Sprintf(format, a...)})
}

// handleContainers serves /containers/... (p without the version); it
// returns false for paths it does not know.
func (f *fakeEngine) handleContainers(w http.ResponseWriter, r *http.Request, p string) bool {
	if p == "/containers/json" {
		f.list(w, r)
		return true
	}
	if p == "/containers/create" && r.Method == http.MethodPost {
		f.create(w, r)
		return true
	}
	rest, ok := strings.CutPrefix(p, "/containers/")
	if !ok {
		return false
	}
	id, action, _ := strings.Cut(rest, "/")
	f.mu.Lock()
	c := f.lookup(id)
	f.mu.Unlock()
	if c == nil {
		fakeMessage(w, http.StatusNotFound, "No such container: %s", id)
		return true
	}
	switch {
	case action == "json" && r.Method == http.MethodGet:
		f.inspect(w, c)
	case action == "start" && r.Method == http.MethodPost:
		f.start(w, c)
	case action == "attach" && r.Method == http.MethodPost:
		f.attach(w, r, c)
	case action == "wait" && r.Method == http.MethodPost:
		f.wait(w, r, c)
	case action == "logs" && r.Method == http.MethodGet:
		f.logs(w, r, c)
	case action == "kill" && r.Method == http.MethodPost:
		f.end(w, c, 137, true)
	case action == "stop" && r.Method == http.MethodPost:
		f.end(w, c, 143, false)
	case action == "" && r.Method == http.MethodDelete:
		f.remove(w, r, c)
	default:
		// Routes the manager only forwards: say what arrived.
		body, _ := io.ReadAll(r.Body)
		fakeReply(w, http.StatusOK, map[string]string{"Forwarded": r.Method + " " + r.URL.Path, "Body": string(body)})
	}
	return true
}

func (f *fakeEngine) create(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		fakeMessage(w, http.StatusBadRequest, "%v", err)
		return
	}
	name := r.URL.Query().Get("name")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates = append(f.creates, fakeCreate{name: name, body: body})
	if hold := f.hold; hold != nil {
		f.waiting++
		f.mu.Unlock()
		<-hold
		f.mu.Lock()
	}
	image, _ := body["Image"].(string)
	ref := image
	if !strings.Contains(ref, ":") {
		ref += ":latest"
	}
	known := false
	for _, im := range f.images {
		known = known || im == ref
	}
	if !known {
		fakeMessage(w, http.StatusNotFound, "No such image: %s", ref)
		return
	}
	f.serial++
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", f.name, f.serial)))
	id := hex.EncodeToString(sum[:])
	if name == "" {
		name = fmt.Sprintf("fake_%d", f.serial)
	}
	for _, c := range f.ctrs {
		if c.name == name {
			fakeMessage(w, http.StatusConflict, "Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", name, c.id)
			return
		}
	}
	host, _ := body["HostConfig"].(map[string]any)
	if host == nil {
		host = map[string]any{}
	}
	c := newFakeContainer(id, name)
	c.image, c.config, c.hostConfig, c.state = image, body, host, "created"
	for _, k := range []string{"Entrypoint", "Cmd"} {
		if words, ok := body[k].([]any); ok {
			for _, w := range words {
				c.program = append(c.program, fmt.Sprint(w))
			}
		}
	}
	c.tty, _ = body["Tty"].(bool)
	c.openStdin, _ = body["OpenStdin"].(bool)
	c.autoRemove, _ = host["AutoRemove"].(bool)
	f.ctrs = append(f.ctrs, c)
	fakeReply(w, http.StatusCreated, map[string]any{"Id": id, "Warnings": []string{}})
}

// holdCreates makes create requests wait until releaseCreates.
func (f *fakeEngine) holdCreates() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold = make(chan struct{})
}

func (f *fakeEngine) releaseCreates() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.hold)
	f.hold = nil
}

// waitingCreates counts the create requests held so far.
func (f *fakeEngine) waitingCreates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.waiting
}

// createdBodies returns the bodies of the create requests the engine got.
func (f *fakeEngine) createdBodies() []fakeCreate {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeCreate(nil), f.creates...)
}

// containerIDs lists the IDs the engine holds now.
func (f *fakeEngine) containerIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.ctrs {
		out = append(out, c.id)
	}
	return out
}

func (c *fakeContainer) summary() map[string]any {
	if c.seed != nil {
		return c.seed
	}
	status := "Created"
	switch c.state {
	case "running":
		status = "Up Less than a second"
	case "exited":
		status = fmt.Sprintf("Exited (%d) Less than a second ago", c.exitCode)
	}
	labels, _ := c.config["Labels"].(map[string]any)
	return map[string]any{"Id": c.id, "Names": []string{"/" + c.name}, "Image": c.image, "ImageID": "sha256:1",
		"Command": strings.Join(c.program, " "), "Created": c.created.Unix(), "Labels": labels, "State": c.state,
		"Status": status, "Ports": []any{}, "HostConfig": map[string]any{"NetworkMode": "default"}}
}

func (f *fakeEngine) list(w http.ResponseWriter, r *http.Request) {
	var ids []string
	if fl := r.URL.Query().Get("filters"); fl != "" {
		var byMap map[string]map[string]bool
		if err := json.Unmarshal([]byte(fl), &byMap); err != nil {
			fakeMessage(w, http.StatusBadRequest, "invalid filter: %v", err)
			return
		}
		for id := range byMap["id"] {
			ids = append(ids, id)
		}
	}
	all := r.URL.Query().Get("all") == "1"
	f.mu.Lock()
	out := []map[string]any{}
	for _, c := range f.ctrs {
		s := c.summary()
		if !all && s["State"] != "running" {
			continue
		}
		match := len(ids) == 0
		for _, id := range ids {
			match = match || strings.HasPrefix(s["Id"].(string), id)
		}
		if match {
			out = append(out, s)
		}
	}
	hold := f.holdList
	f.mu.Unlock()
	if hold != nil && len(ids) == 0 {
		<-hold // answer, later, what was there when asked
	}
	fakeReply(w, http.StatusOK, out)
}

// holdLists makes unfiltered container lists wait, once made, until
// releaseLists.
func (f *fakeEngine) holdLists() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.holdList = make(chan struct{})
}

func (f *fakeEngine) releaseLists() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.holdList)
	f.holdList = nil
}

func (f *fakeEngine) inspect(w http.ResponseWriter, c *fakeContainer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.seed != nil {
		st, _ := c.seed["State"].(string)
		fakeReply(w, http.StatusOK, map[string]any{"Id": c.id, "Name": "/" + c.name,
			"State":      map[string]any{"Running": st == "running" || st == "paused", "Paused": st == "paused"},
			"HostConfig": map[string]any{"CpuShares": 512, "Memory": 64 << 20},
			"NetworkSettings": map[string]any{"Ports": map[string]any{
				"80/tcp": []any{map[string]any{"HostIp": "0.0.0.0", "HostPort": "8080"}},
				"81/tcp": []any{map[string]any{"HostIp": "192.0.2.7", "HostPort": "8081"}}}}})
		return
	}
	var args []string
	if len(c.program) > 1 {
		args = c.program[1:]
	}
	cfg := map[string]any{}
	for k, v := range c.config {
		if k != "HostConfig" && k != "NetworkingConfig" {
			cfg[k] = v
		}
	}
	fakeReply(w, http.StatusOK, map[string]any{
		"Id": c.id, "Name": "/" + c.name, "Created": c.created.Format(time.RFC3339Nano), "Path": first(c.program), "Args": args,
		"State": map[string]any{"Status": c.state, "Running": c.state == "running", "Paused": false, "Restarting": false,
			"ExitCode": c.exitCode, "StartedAt": c.startedAt.Format(time.RFC3339Nano), "FinishedAt": c.finished.Format(time.RFC3339Nano)},
		"Image": "sha256:1", "Config": cfg, "HostConfig": c.hostConfig,
		"NetworkSettings": map[string]any{"Ports": map[string]any{}}, "Mounts": []any{},
	})
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func (f *fakeEngine) start(w http.ResponseWriter, c *fakeContainer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.state == "running" {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	c.state, c.startedAt = "running", time.Now()
	if !c.openStdin {
		c.stdinW.Close()
	}
	go f.run(c, c.stdin)
	w.WriteHeader(http.StatusNoContent)
}

// run executes the container's program, then ends the run.
func (f *fakeEngine) run(c *fakeContainer, in io.Reader) {
	code := 0
	stdin := bufio.NewReader(in)
words:
	for _, word := range c.program {
		select {
		case code = <-c.kill:
			break words
		default:
		}
		switch op, arg, _ := strings.Cut(word, ":"); op {
		case "out":
			f.emit(c, 1, []byte(arg+"\n"))
		case "err":
			f.emit(c, 2, []byte(arg+"\n"))
		case "cat":
			buf := make([]byte, 4096)
			for {
				n, err := stdin.Read(buf)
				if n > 0 {
					f.emit(c, 1, append([]byte(nil), buf[:n]...))
				}
				if err != nil {
					break
				}
			}
		case "exit":
			code, _ = strconv.Atoi(arg)
			break words
		case "wait":
			code = <-c.kill
			break words
		default:
			f.emit(c, 2, []byte(fmt.Sprintf("fake engine: unknown word %q\n", word)))
			code = 127
			break words
		}
	}
	f.mu.Lock()
	c.state, c.exitCode, c.finished = "exited", code, time.Now()
	attaches := c.attaches
	c.attaches = nil
	close(c.exited)
	c.exited = make(chan struct{})
	c.stdin.CloseWithError(io.ErrClosedPipe)
	c.stdin, c.stdinW = io.Pipe() // the next run's
	if c.autoRemove {
		f.drop(c)
	}
	f.mu.Unlock()
	for _, a := range attaches {
		a.conn.Close()
	}
}

// drop removes the container; the caller holds f.mu.
func (f *fakeEngine) drop(c *fakeContainer) {
	for i, x := range f.ctrs {
		if x == c {
			f.ctrs = append(f.ctrs[:i], f.ctrs[i+1:]...)
			close(c.removed)
			return
		}
	}
}

// frame is Docker's multiplexed stream format: stream, 3 zero bytes, the
// length (big endian), the data; a Tty container's output is raw.
func frame(tty bool, stream byte, data []byte) []byte {
	if tty {
		return data
	}
	h := make([]byte, 8, 8+len(data))
	h[0] = stream
	binary.BigEndian.PutUint32(h[4:], uint32(len(data)))
	return append(h, data...)
}

func (f *fakeEngine) emit(c *fakeContainer, stream byte, data []byte) {
	f.mu.Lock()
	c.logs = append(c.logs, fakeFrame{stream, data})
	var to []net.Conn
	for _, a := range c.attaches {
		if stream == 1 && a.stdout || stream == 2 && a.stderr {
			to = append(to, a.conn)
		}
	}
	tty := c.tty
	f.mu.Unlock()
	for _, conn := range to {
		conn.Write(frame(tty, stream, data))
	}
}

// attach takes over the connection as Docker does: "101 UPGRADED" when
// the client asked to upgrade to tcp, "200 OK" otherwise, then the stream.
func (f *fakeEngine) attach(w http.ResponseWriter, r *http.Request, c *fakeContainer) {
	q := r.URL.Query()
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		f.t.Errorf("fake engine: hijack: %v", err)
		return
	}
	// The answer goes out with the attach registered, as Docker's does:
	// a client that starts the container once it has the answer must
	// not miss the first output.
	f.mu.Lock()
	if strings.EqualFold(r.Header.Get("Upgrade"), "tcp") {
		fmt.Fprint(conn, "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
	} else {
		fmt.Fprint(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n")
	}
	if c.state == "exited" {
		f.mu.Unlock()
		conn.Close()
		return
	}
	c.attaches = append(c.attaches, &fakeAttach{conn: conn, stdout: q.Get("stdout") == "1", stderr: q.Get("stderr") == "1"})
	stdinW := c.stdinW
	wantStdin := q.Get("stdin") == "1" && c.openStdin
	f.mu.Unlock()
	if wantStdin {
		go func() {
			io.Copy(stdinW, io.MultiReader(io.LimitReader(buf, int64(buf.Reader.Buffered())), conn))
			stdinW.Close()
		}()
	}
}

func (f *fakeEngine) wait(w http.ResponseWriter, r *http.Request, c *fakeContainer) {
	f.mu.Lock()
	running, exited, removed := c.state == "running", c.exited, c.removed
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	http.NewResponseController(w).Flush()
	var done <-chan struct{} = exited
	switch cond := r.URL.Query().Get("condition"); {
	case cond == "removed":
		done = removed
	case cond == "" || cond == "not-running":
		if !running {
			done = nil
		}
	}
	if done != nil {
		select {
		case <-done:
		case <-r.Context().Done():
			return
		}
	}
	f.mu.Lock()
	code := c.exitCode
	f.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{"StatusCode": code, "Error": nil})
}

func (f *fakeEngine) logs(w http.ResponseWriter, r *http.Request, c *fakeContainer) {
	q := r.URL.Query()
	f.mu.Lock()
	logs, tty := append([]fakeFrame(nil), c.logs...), c.tty
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/vnd.docker.raw-stream")
	w.WriteHeader(http.StatusOK)
	for _, fr := range logs {
		if fr.stream == 1 && q.Get("stdout") == "1" || fr.stream == 2 && q.Get("stderr") == "1" {
			w.Write(frame(tty, fr.stream, fr.data))
		}
	}
}

// end kills (kill) or stops a running container and waits until it has
// stopped, as Docker does for SIGKILL and for stop.
func (f *fakeEngine) end(w http.ResponseWriter, c *fakeContainer, code int, isKill bool) {
	f.mu.Lock()
	running, exited, stdin := c.state == "running", c.exited, c.stdin
	f.mu.Unlock()
	if !running {
		if isKill {
			fakeMessage(w, http.StatusConflict, "Cannot kill container: %s: Container %s is not running", c.id, c.id)
		} else {
			w.WriteHeader(http.StatusNotModified)
		}
		return
	}
	select {
	case c.kill <- code:
	default:
	}
	stdin.CloseWithError(io.ErrClosedPipe)
	<-exited
	w.WriteHeader(http.StatusNoContent)
}

func (f *fakeEngine) remove(w http.ResponseWriter, r *http.Request, c *fakeContainer) {
	f.mu.Lock()
	running := c.state == "running"
	f.mu.Unlock()
	if running {
		if r.URL.Query().Get("force") != "1" {
			fakeMessage(w, http.StatusConflict, "You cannot remove a running container %s. Stop the container before attempting removal or force remove", c.id)
			return
		}
		f.end(httpDiscard{}, c, 137, true)
	}
	f.mu.Lock()
	f.drop(c)
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// httpDiscard is a ResponseWriter for answers nobody reads.
type httpDiscard struct{}

func (httpDiscard) Header() http.Header         { return http.Header{} }
func (httpDiscard) Write(p []byte) (int, error) { return len(p), nil }
func (httpDiscard) WriteHeader(int)             {}
