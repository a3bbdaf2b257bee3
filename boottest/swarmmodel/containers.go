// The cluster's containers: finding one by ID or name, and creating one on
// the engine the scheduler picks. Learned from swarm 1.2.9's
// cluster/container.go (Containers.Get), cluster/swarm/cluster.go
// (CreateContainer, createContainer, checkNameUniqueness,
// generateUniqueID, listNodes, pendingContainer, Container, Containers)
// and cluster/config.go (BuildContainerConfig, ConsolidateResourceFields,
// SwarmID, Validate).
//
// Lookup, in swarm's order: the full or 12-character ID; the full or
// 12-character swarm ID (label com.docker.swarm.id); a name, given as
// "name", "/name", "ENGINE-NAME/name" or "ENGINE-ID/name", if exactly one
// container has it; an ID or swarm-ID prefix, if exactly one matches.
//
// Create holds the scheduler's lock while it checks that the name is free
// (containers and creations under way), gives the container a swarm ID,
// and picks a node counting the creations under way; it then creates the
// container on that engine without the lock.

package swarmmodel

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

const (
	swarmLabelNamespace = "com.docker.swarm"
	swarmIDLabel        = swarmLabelNamespace + ".id"
)

// located is a container with the engine that holds it.
type located struct {
	engine               *engine
	engineID, engineName string
	c                    *container
}

// containers lists the containers of the validated engines (Healthy or
// not), ordered by engine name and container ID.
func (c *cluster) containers() []located {
	var out []located
	for _, e := range c.validatedEngines() {
		e.mu.RLock()
		for _, ct := range e.containers {
			out = append(out, located{engine: e, engineID: e.id, engineName: e.name, c: ct})
		}
		e.mu.RUnlock()
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].engineName != out[j].engineName {
			return naturalLess(out[i].engineName, out[j].engineName)
		}
		return out[i].c.id() < out[j].c.id()
	})
	return out
}

// validatedEngines are the engines that passed validation, Healthy or not.
func (c *cluster) validatedEngines() []*engine {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*engine, 0, len(c.engines))
	for _, e := range c.engines {
		out = append(out, e)
	}
	return out
}

// container is Cluster.Container: nil when nothing, or more than one
// container, answers to idOrName.
func (c *cluster) container(idOrName string) *located {
	return findContainer(c.containers(), idOrName)
}

// truncateID is stringid.TruncateID.
func truncateID(id string) string {
	if i := strings.IndexRune(id, ':'); i >= 0 {
		id = id[i+1:]
	}
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

// findContainer is Containers.Get.
func findContainer(list []located, idOrName string) *located {
	if idOrName == "" {
		return nil
	}
	for i, l := range list {
		if id := l.c.id(); id == idOrName || truncateID(id) == idOrName {
			return &list[i]
		}
	}
	for i, l := range list {
		if sid := l.c.swarmID(); sid != "" && (sid == idOrName || truncateID(sid) == idOrName) {
			return &list[i]
		}
	}
	var candidates []int
	for i, l := range list {
		for _, name := range l.c.names() {
			if name == idOrName || name == "/"+idOrName || l.engineID+name == idOrName || l.engineName+name == idOrName {
				candidates = append(candidates, i)
				break
			}
		}
	}
	switch len(candidates) {
	case 1:
		return &list[candidates[0]]
	case 0:
	default:
		return nil
	}
	// Swarm counted a container twice when both its ID and its swarm ID
	// start with the prefix, and then found nothing: so does the model.
	for i, l := range list {
		if strings.HasPrefix(l.c.id(), idOrName) {
			candidates = append(candidates, i)
		}
	}
	for i, l := range list {
		if strings.HasPrefix(l.c.swarmID(), idOrName) {
			candidates = append(candidates, i)
		}
	}
	if len(candidates) == 1 {
		return &list[candidates[0]]
	}
	return nil
}

// pendingContainer is a creation under way.
type pendingContainer struct {
	name   string
	engine *engine
	req    resourceRequest
}

// nameTaken is the opposite of checkNameUniqueness; the caller holds
// c.schedMu.
func (c *cluster) nameTaken(name string) bool {
	if name == "" {
		return false
	}
	for _, l := range c.containers() {
		for _, n := range l.c.names() {
			if n == name || n == "/"+name {
				return true
			}
		}
	}
	for _, p := range c.pendingContainers {
		if p.name == name {
			return true
		}
	}
	return false
}

// generateUniqueID is stringid.GenerateRandomID (64 hex digits whose short
// form is not a number) repeated until no container answers to it.
func (c *cluster) generateUniqueID() string {
	for {
		b := make([]byte, 32)
		rand.Read(b)
		id := hex.EncodeToString(b)
		if _, err := strconv.ParseInt(truncateID(id), 10, 64); err == nil {
			continue
		}
		if c.container(id) == nil {
			return id
		}
	}
}

// listNodes is Cluster.listNodes: one node per validated engine, with the
// creations under way on it; the caller holds c.schedMu.
func (c *cluster) listNodes() []schedNode {
	var out []schedNode
	for _, e := range c.validatedEngines() {
		v := e.view()
		n := schedNode{engine: e, name: v.name, addr: v.addr, containers: len(v.containers),
			usedCPUs: v.usedCPUs, usedMemory: v.usedMemory, totalCPUs: v.cpus, totalMemory: v.memory,
			health: e.healthIndicator()}
		for _, p := range c.pendingContainers {
			if p.engine == e {
				n.containers++
				n.usedCPUs += p.req.cpus
				n.usedMemory += p.req.memory
			}
		}
		out = append(out, n)
	}
	return out
}

// errNotModelled marks requests that need parts of swarm the model lacks.
type errNotModelled struct{ what string }

func (e errNotModelled) Error() string {
	return fmt.Sprintf("%s: not implemented by this model of swarm %s", e.what, Version)
}

// createContainer is Cluster.CreateContainer with swarm.createretry 0 and
// no image-affinity retry (the model does not pull: README.md).
func (c *cluster) createContainer(ctx context.Context, cfg map[string]any, name string, req resourceRequest) (*located, error) {
	c.schedMu.Lock()
	if c.nameTaken(name) {
		c.schedMu.Unlock()
		return nil, fmt.Errorf("Conflict: The name %s is already assigned. You have to delete (or rename) that container to be able to assign %s to a container again.", name, name)
	}
	labels, _ := cfg["Labels"].(map[string]any)
	if labels == nil {
		labels = map[string]any{}
		cfg["Labels"] = labels
	}
	swarmID, _ := labels[swarmIDLabel].(string)
	if swarmID == "" {
		swarmID = c.generateUniqueID()
		labels[swarmIDLabel] = swarmID
	}
	n, err := c.sched.selectNode(c.listNodes(), req)
	if err != nil {
		c.schedMu.Unlock()
		return nil, err
	}
	c.pendingContainers[swarmID] = &pendingContainer{name: name, engine: n.engine, req: req}
	c.schedMu.Unlock()

	ct, err := n.engine.createContainer(ctx, cfg, name, req.cpus)
	node := c.log.with(fields{"NodeName": n.name, "NodeID": n.engine.view().id})
	if err != nil {
		node.with(fields{"error": err.Error()}).Errorf("Failed to create container")
	} else {
		flag := name
		if flag == "" {
			flag = truncateID(ct.id())
		}
		node.Debugf("Scheduling container %s to ", flag)
	}
	c.schedMu.Lock()
	delete(c.pendingContainers, swarmID)
	c.schedMu.Unlock()
	if err != nil {
		return nil, err
	}
	v := n.engine.view()
	return &located{engine: n.engine, engineID: v.id, engineName: v.name, c: ct}, nil
}

// buildContainerConfig is ConsolidateResourceFields, BuildContainerConfig
// and Validate on the decoded request body, changed in place: resources
// given at the top level (API < 1.19) move into HostConfig; environment
// entries "constraint:...", "affinity:...", "whitelist:..." and
// "reschedule:..." move into com.docker.swarm.* labels. The model refuses
// constraints, affinities and whitelists, whose filters it does not apply.
func buildContainerConfig(cfg map[string]any) (resourceRequest, error) {
	if err := checkShape(cfg); err != nil {
		return resourceRequest{}, err
	}
	host, _ := cfg["HostConfig"].(map[string]any)
	if host == nil {
		host = map[string]any{}
		cfg["HostConfig"] = host
	}
	for top, inHost := range map[string]string{"Memory": "Memory", "MemorySwap": "MemorySwap", "CpuShares": "CpuShares", "Cpuset": "CpusetCpus"} {
		if v, ok := cfg[top]; ok {
			if !isZero(v) {
				host[inHost] = v
			}
			delete(cfg, top)
		}
	}
	labels, _ := cfg["Labels"].(map[string]any)
	if labels == nil {
		labels = map[string]any{}
		cfg["Labels"] = labels
	}
	exprs := map[string][]string{}
	for _, key := range []string{"affinities", "constraints", "whitelists", "reschedule-policies"} {
		if s, ok := labels[swarmLabelNamespace+"."+key].(string); ok {
			var list []string
			json.Unmarshal([]byte(s), &list)
			exprs[key] = list
		}
	}
	envKeys := map[string]string{"affinity": "affinities", "constraint": "constraints", "reschedule": "reschedule-policies", "whitelist": "whitelists"}
	if env, ok := cfg["Env"].([]any); ok {
		kept := []any{}
		for _, item := range env {
			s, _ := item.(string)
			if k, v, ok := strings.Cut(s, ":"); ok && envKeys[k] != "" {
				exprs[envKeys[k]] = append(exprs[envKeys[k]], v)
				continue
			}
			kept = append(kept, item)
		}
		cfg["Env"] = kept
	}
	for _, key := range []string{"affinities", "constraints", "whitelists"} {
		if len(exprs[key]) > 0 {
			return resourceRequest{}, errNotModelled{fmt.Sprintf("scheduling %s (%s)", key, strings.Join(exprs[key], ", "))}
		}
	}
	if p := exprs["reschedule-policies"]; len(p) > 0 {
		b, _ := json.Marshal(p)
		labels[swarmLabelNamespace+".reschedule-policies"] = string(b)
		if len(p) > 1 {
			return resourceRequest{}, errors.New("too many reschedule policies")
		}
		if p[0] != "off" && p[0] != "on-node-failure" {
			return resourceRequest{}, fmt.Errorf("invalid reschedule policy: %s", p[0])
		}
	}
	return resourceRequest{cpus: int64Value(host["CpuShares"]), memory: int64Value(host["Memory"])}, nil
}

// errBadBody is a body swarm could not have decoded into its config
// types (a 400 answer).
type errBadBody struct{ msg string }

func (e errBadBody) Error() string { return e.msg }

// checkShape refuses the fields the model reads when they do not have the
// JSON type swarm's config types gave them.
func checkShape(cfg map[string]any) error {
	kind := func(v any, want string) bool {
		switch v.(type) {
		case nil:
			return true
		case map[string]any:
			return want == "object"
		case []any:
			return want == "array"
		case json.Number:
			return want == "number"
		case string:
			return want == "string"
		}
		return false
	}
	fieldsOf := func(m map[string]any, where string, want map[string]string) error {
		for k, t := range want {
			if v, ok := m[k]; ok && !kind(v, t) {
				return errBadBody{fmt.Sprintf("%s%s must be a JSON %s", where, k, t)}
			}
		}
		return nil
	}
	if err := fieldsOf(cfg, "", map[string]string{"HostConfig": "object", "Labels": "object", "Env": "array",
		"Memory": "number", "MemorySwap": "number", "CpuShares": "number", "Cpuset": "string"}); err != nil {
		return err
	}
	if host, ok := cfg["HostConfig"].(map[string]any); ok {
		return fieldsOf(host, "HostConfig.", map[string]string{"Memory": "number", "CpuShares": "number"})
	}
	return nil
}

func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	}
	return int64Value(v) == 0
}

// int64Value reads a JSON number decoded with UseNumber.
func int64Value(v any) int64 {
	n, ok := v.(json.Number)
	if !ok {
		return 0
	}
	i, err := n.Int64()
	if err != nil {
		f, _ := n.Float64()
		return int64(f)
	}
	return i
}
