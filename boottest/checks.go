package boottest

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
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
	// CallTimeout bounds one client call (default 10 s).
	CallTimeout time.Duration
}

func (c *Checker) call(ctx context.Context, env []string, name string, args ...string) (string, error) {
	d := c.CallTimeout
	if d == 0 {
		d = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	cmd := c.NS.Command(ctx, name, args...)
	cmd.Env = append(cmd.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

func (c *Checker) etcdURL(n Node) string {
	return fmt.Sprintf("http://%s:%d", n.IP, c.Desc.Etcd.ClientPort)
}

// EtcdMembers returns the names of the started members, as
// `etcdctl member list` reports them through any of the endpoints.
func (c *Checker) EtcdMembers(ctx context.Context, via []Node) ([]string, error) {
	out, err := c.call(ctx, []string{"ETCDCTL_API=3"}, "etcdctl", "--endpoints="+c.Desc.EtcdEndpoints(via),
		"--command-timeout=5s", "member", "list", "-w", "json")
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
	_, err := c.call(ctx, []string{"ETCDCTL_API=3"}, "etcdctl", "--endpoints="+c.etcdURL(n),
		"--command-timeout=5s", "endpoint", "health")
	return err
}

// EtcdPut writes a key through the given members (a quorum write).
func (c *Checker) EtcdPut(ctx context.Context, via []Node, key, value string) error {
	_, err := c.call(ctx, []string{"ETCDCTL_API=3"}, "etcdctl", "--endpoints="+c.Desc.EtcdEndpoints(via),
		"--command-timeout=5s", "put", key, value)
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
	out, err := c.call(ctx, nil, "curl", "-sSf", "--max-time", "8",
		fmt.Sprintf("http://%s:%d/version", n.IP, c.Desc.Docker.Port))
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
		out, err := c.call(ctx, nil, "curl", "-sS", "--max-time", "8", c.etcdURL(n)+key)
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
	m := c.Desc.Manager()
	return c.SwarmInfo(ctx, fmt.Sprintf("%s:%d", m.IP, c.Desc.Swarm.Manager.Port))
}

// SwarmInfo asks a swarm manager at host:port for GET /info.
func (c *Checker) SwarmInfo(ctx context.Context, hostPort string) ([]SwarmNode, string, error) {
	out, err := c.call(ctx, nil, "curl", "-sSf", "--max-time", "8", "http://"+hostPort+"/info")
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

// DockerInfo runs the docker CLI's `docker -H tcp://manager info`, the
// seed's final check, and returns its output.
func (c *Checker) DockerInfo(ctx context.Context) (string, error) {
	m := c.Desc.Manager()
	return c.call(ctx, nil, "docker", "-H", fmt.Sprintf("tcp://%s:%d", m.IP, c.Desc.Swarm.Manager.Port), "info")
}
