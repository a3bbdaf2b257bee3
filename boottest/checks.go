package boottest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Checker asks the cluster, from the test's side of the segment, with the
// real clients: etcdctl for etcd, curl for the Docker and etcd v2 HTTP
// APIs, the docker CLI for the manager. Every call has its own deadline.
type Checker struct {
	NS   *Netns
	Desc *Description
	// Client is the operator's client material the render wrote
	// (<pki>/client: ca.pem, cert.pem, key.pem). Where the description
	// uses TLS (etcd, or the engines and the manager), the clients speak
	// https and present it; elsewhere they speak plain http.
	Client string
	// CallTimeout bounds one client call (default 10 s).
	CallTimeout time.Duration
}

// ClientFiles are the TLS files of a client: curl's and etcdctl's
// --cacert, --cert and --key.
type ClientFiles struct{ CA, Cert, Key string }

// ClientIn names the ca.pem, cert.pem and key.pem in dir (DOCKER_CERT_PATH's
// layout, as swarmboot writes <pki>/client).
func ClientIn(dir string) ClientFiles {
	return ClientFiles{filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")}
}

// Flags are the files as curl's and etcdctl's flags (they share them);
// an empty field is left out.
func (f ClientFiles) Flags() []string {
	var out []string
	for _, kv := range [][2]string{{"--cacert", f.CA}, {"--cert", f.Cert}, {"--key", f.Key}} {
		if kv[1] != "" {
			out = append(out, kv[0], kv[1])
		}
	}
	return out
}

// The one place that decides how a client reaches a service: with tls
// (Desc.Etcd.TLS for etcd, Desc.Docker.TLS for the engines and the
// manager) an https URL and the operator's client files, else plain
// http and no flags.
func (c *Checker) url(tls bool, ip fmt.Stringer, port int) string {
	if tls {
		return fmt.Sprintf("https://%s:%d", ip, port)
	}
	return fmt.Sprintf("http://%s:%d", ip, port)
}

func (c *Checker) tlsFlags(tls bool) []string {
	if !tls {
		return nil
	}
	return ClientIn(c.Client).Flags()
}

func (c *Checker) call(ctx context.Context, env []string, name string, args ...string) (string, error) {
	d := c.CallTimeout
	if d == 0 {
		d = 10 * time.Second
	}
	return c.callWithin(ctx, d, env, name, args...)
}

// callWithin is call with its own time limit.
func (c *Checker) callWithin(ctx context.Context, d time.Duration, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cmd := c.NS.Command(ctx, name, args...)
	cmd.Env = append(cmd.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", &CallError{Cmd: name + " " + strings.Join(args, " "), Err: err,
			Stdout: strings.TrimSpace(string(out)), Stderr: strings.TrimSpace(stderr.String())}
	}
	return string(out), nil
}

// CallError is a client call that failed, with what it printed.
type CallError struct {
	Cmd            string
	Err            error // *exec.ExitError when the client ran
	Stdout, Stderr string
}

func (e *CallError) Error() string { return fmt.Sprintf("%s: %v %s", e.Cmd, e.Err, e.Stderr) }

func (c *Checker) etcdURL(n Node) string { return c.url(c.Desc.Etcd.TLS, n.IP, c.Desc.Etcd.ClientPort) }

// EngineURL is the base URL of the node's engine API on TCP.
func (c *Checker) EngineURL(n Node) string { return c.url(c.Desc.Docker.TLS, n.IP, c.Desc.Docker.Port) }

// ManagerURL is the base URL of the swarm manager's API.
func (c *Checker) ManagerURL() string { return c.ManagerURLOf(*c.Desc.Manager()) }

// ManagerURLOf is the swarm API's URL on a manager's node.
func (c *Checker) ManagerURLOf(m Node) string {
	return c.url(c.Desc.Docker.TLS, m.IP, c.Desc.Swarm.Manager.Port)
}

// etcdctl runs etcdctl (API v3) against the members, with the client's
// TLS files where etcd uses TLS.
func (c *Checker) etcdctl(ctx context.Context, via []Node, args ...string) (string, error) {
	var eps []string
	for _, n := range via {
		eps = append(eps, c.etcdURL(n))
	}
	args = append(append([]string{"--endpoints=" + strings.Join(eps, ","), "--command-timeout=5s"},
		c.tlsFlags(c.Desc.Etcd.TLS)...), args...)
	return c.call(ctx, []string{"ETCDCTL_API=3"}, "etcdctl", args...)
}

// curl GETs url with the client's TLS files where tls says so; fail makes
// an HTTP error status an error (-f).
func (c *Checker) curl(ctx context.Context, tls, fail bool, url string) (string, error) {
	return c.Get(ctx, c.tlsFlags(tls), fail, url)
}

// Get GETs url with curl and the given TLS flags (ClientFiles.Flags).
func (c *Checker) Get(ctx context.Context, tlsFlags []string, fail bool, url string) (string, error) {
	args := []string{"-sS", "--max-time", "8"}
	if fail {
		args = append(args, "-f")
	}
	return c.call(ctx, nil, "curl", append(append(args, tlsFlags...), url)...)
}

// EtcdMembers returns the names of the started members, as
// `etcdctl member list` reports them through any of the endpoints.
func (c *Checker) EtcdMembers(ctx context.Context, via []Node) ([]string, error) {
	out, err := c.etcdctl(ctx, via, "member", "list", "-w", "json")
	if err != nil {
		return nil, err
	}
	var resp struct {
		Members []struct {
			Name       string   `json:"name"`
			ClientURLs []string `json:"clientURLs"`
		} `json:"members"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		return nil, fmt.Errorf("etcdctl member list: %w", err)
	}
	var names []string
	for _, m := range resp.Members {
		if m.Name != "" && len(m.ClientURLs) > 0 { // a member not yet started has no name
			names = append(names, m.Name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// EtcdHealthy runs `etcdctl endpoint health` against one member.
func (c *Checker) EtcdHealthy(ctx context.Context, n Node) error {
	_, err := c.etcdctl(ctx, []Node{n}, "endpoint", "health")
	return err
}

// EtcdPut writes a key through the given members (a quorum write).
func (c *Checker) EtcdPut(ctx context.Context, via []Node, key, value string) error {
	_, err := c.etcdctl(ctx, via, "put", key, value)
	return err
}

// EngineVersion is what an engine's GET /version says.
type EngineVersion struct {
	Version, APIVersion string
	MinAPIVersion       string // the lowest API version it serves
}

// DockerVersion asks the engine's GET /version on its TCP port.
func (c *Checker) DockerVersion(ctx context.Context, n Node) (EngineVersion, error) {
	var v EngineVersion
	out, err := c.curl(ctx, c.Desc.Docker.TLS, true, c.EngineURL(n)+"/version")
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Version == "" {
		return v, fmt.Errorf("GET /version on %s: not a Docker answer: %.200s", n.IP, out)
	}
	return v, nil
}

// Registration is one engine's key under <path>/docker/swarm/nodes.
type Registration struct {
	Addr string // ip:port
	// CreatedIndex and ModifiedIndex both advance with every write: a v2
	// set (libkv's Put) replaces the node, so each heartbeat's refresh
	// gives the key a new createdIndex too (measured on etcd 3.4).
	CreatedIndex  int64
	ModifiedIndex int64
}

// SwarmRegistrations lists the engines registered in etcd's v2 store (the
// API classic swarm's libkv uses), asking the given members in turn.
func (c *Checker) SwarmRegistrations(ctx context.Context, via []Node) (map[string]Registration, error) {
	key := path.Join("/v2/keys", c.Desc.Swarm.Path, "docker/swarm/nodes")
	var lastErr error
	for _, n := range via {
		out, err := c.curl(ctx, c.Desc.Etcd.TLS, false, c.etcdURL(n)+key)
		if err != nil {
			lastErr = err
			continue
		}
		return ParseRegistrations(out)
	}
	return nil, lastErr
}

// ParseRegistrations reads an etcd v2 directory listing of swarm nodes.
func ParseRegistrations(body string) (map[string]Registration, error) {
	var resp struct {
		ErrorCode int    `json:"errorCode"`
		Message   string `json:"message"`
		Node      struct {
			Nodes []struct {
				Key           string `json:"key"`
				CreatedIndex  int64  `json:"createdIndex"`
				ModifiedIndex int64  `json:"modifiedIndex"`
			} `json:"nodes"`
		} `json:"node"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		return nil, fmt.Errorf("etcd v2 listing: %w: %.200s", err, body)
	}
	regs := map[string]Registration{}
	if resp.ErrorCode == 100 { // key not found: nothing registered yet
		return regs, nil
	}
	if resp.ErrorCode != 0 {
		return nil, fmt.Errorf("etcd v2 listing: error %d: %s", resp.ErrorCode, resp.Message)
	}
	for _, n := range resp.Node.Nodes {
		addr := path.Base(n.Key)
		regs[addr] = Registration{Addr: addr, CreatedIndex: n.CreatedIndex, ModifiedIndex: n.ModifiedIndex}
	}
	return regs, nil
}

// SwarmNode is one engine as the manager reports it.
type SwarmNode struct {
	Name, Addr, Status, Error string
}

// ManagerNodes asks the manager's GET /info for its nodes.
func (c *Checker) ManagerNodes(ctx context.Context) ([]SwarmNode, string, error) {
	return c.swarmInfo(ctx, c.Desc.Docker.TLS, c.ManagerURL())
}

// ManagerNodesVia asks one manager's GET /info, replica or primary.
func (c *Checker) ManagerNodesVia(ctx context.Context, m Node) ([]SwarmNode, string, error) {
	return c.swarmInfo(ctx, c.Desc.Docker.TLS, c.ManagerURLOf(m))
}

// ManagerRole is what a manager's GET /info says it is: "primary" or
// "replica" (swarm manage --replication).
func (c *Checker) ManagerRole(ctx context.Context, m Node) (string, error) {
	out, err := c.curl(ctx, c.Desc.Docker.TLS, true, c.ManagerURLOf(m)+"/info")
	if err != nil {
		return "", err
	}
	var info struct{ SystemStatus [][2]string }
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		return "", fmt.Errorf("manager /info: %w", err)
	}
	for _, kv := range info.SystemStatus {
		if kv[0] == "Role" {
			return kv[1], nil
		}
	}
	return "", fmt.Errorf("%s's /info names no Role", m.Name)
}

// SwarmInfo asks a plain-http swarm manager at host:port for GET /info.
func (c *Checker) SwarmInfo(ctx context.Context, hostPort string) ([]SwarmNode, string, error) {
	return c.swarmInfo(ctx, false, "http://"+hostPort)
}

func (c *Checker) swarmInfo(ctx context.Context, tls bool, base string) ([]SwarmNode, string, error) {
	out, err := c.curl(ctx, tls, true, base+"/info")
	if err != nil {
		return nil, "", err
	}
	return ParseSwarmInfo(out)
}

// ParseSwarmInfo reads classic swarm's GET /info answer: its SystemStatus
// (DriverStatus in older releases) is a list of [label, value] pairs where
// " name" / "ip:port" opens a node and "  └ Status" / "Healthy" follows.
// It also returns the ServerVersion.
func ParseSwarmInfo(body string) ([]SwarmNode, string, error) {
	var info struct {
		ServerVersion string
		SystemStatus  [][2]string
		DriverStatus  [][2]string
	}
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		return nil, "", fmt.Errorf("manager /info: %w: %.200s", err, body)
	}
	status := info.SystemStatus
	if len(status) == 0 {
		status = info.DriverStatus
	}
	var nodes []SwarmNode
	for _, kv := range status {
		label, value := kv[0], kv[1]
		trimmed := strings.TrimSpace(label)
		switch {
		case strings.HasPrefix(label, " ") && !strings.Contains(label, "└") && strings.Contains(value, ":"):
			nodes = append(nodes, SwarmNode{Name: trimmed, Addr: value})
		case len(nodes) > 0 && strings.HasSuffix(trimmed, "Status") && strings.Contains(label, "└"):
			nodes[len(nodes)-1].Status = value
		case len(nodes) > 0 && strings.HasSuffix(trimmed, "Error") && strings.Contains(label, "└"):
			nodes[len(nodes)-1].Error = value
		}
	}
	return nodes, info.ServerVersion, nil
}

// ParseDockerInfoNodes reads the engines out of the docker CLI's `docker
// info` against a classic swarm manager, which prints the manager's
// SystemStatus pairs as "label: value" lines: "node-1: 10.77.0.11:2376"
// opens an engine, "└ Status: Healthy" (and "└ Error: ...") follow.
func ParseDockerInfoNodes(info string) []SwarmNode {
	var nodes []SwarmNode
	for _, l := range strings.Split(info, "\n") {
		label, value, ok := strings.Cut(strings.TrimSpace(l), ": ")
		switch {
		case !ok:
		case strings.HasPrefix(label, "└"):
			if len(nodes) == 0 {
				continue
			}
			switch strings.TrimSpace(strings.TrimPrefix(label, "└")) {
			case "Status":
				nodes[len(nodes)-1].Status = value
			case "Error":
				nodes[len(nodes)-1].Error = value
			}
		default:
			if _, err := netip.ParseAddrPort(value); err == nil {
				nodes = append(nodes, SwarmNode{Name: label, Addr: value})
			}
		}
	}
	return nodes
}

// DockerInfo runs the docker CLI's `docker -H tcp://manager info`, the
// seed's final check (with --tlsverify and the client's files where the
// manager uses TLS), and returns its output.
func (c *Checker) DockerInfo(ctx context.Context) (string, error) {
	return c.DockerInfoVia(ctx, *c.Desc.Manager())
}

// DockerInfoVia is DockerInfo through one manager, replica or primary.
func (c *Checker) DockerInfoVia(ctx context.Context, m Node) (string, error) {
	return c.DockerVia(ctx, m, "info")
}
