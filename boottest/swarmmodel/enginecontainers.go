// What the manager asks of one engine for a container, as cluster/engine.go
// of swarm 1.2.9 did (CreateContainer, StartContainer, RemoveContainer,
// InspectContainer, refreshContainer, HealthIndicator,
// EngineToContainerNode), through the versioned API (1.31 or the lower
// version the engine negotiated).
//   - create: CpuShares, which swarm took as a number of CPUs, becomes
//     real shares, ceil(CPUs x 1024 / the engine's CPUs); then the new
//     container is refreshed into the cache at once ("Container created
//     but refresh didn't report it back" if it is not there). Swarm pulled
//     the image and tried again when the engine had no such image; the
//     model does not pull (README.md, Not modelled).
//   - start and every change are followed by a refresh of that container;
//     a container the engine no longer lists leaves the cache (an
//     auto-removed one, after --rm).
//   - remove drops the container from the cache at once.

package swarmmodel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
)

// createContainer is Engine.CreateContainer (without its pull). cfg is the
// request body, owned by the caller; cpus is what the request asked for.
func (e *engine) createContainer(ctx context.Context, cfg map[string]any, name string, cpus int64) (*container, error) {
	host, _ := cfg["HostConfig"].(map[string]any)
	if host == nil {
		host = map[string]any{}
		cfg["HostConfig"] = host
	}
	// Validated engines have NCPU > 0 (updateSpecs).
	host["CpuShares"] = int64(math.Ceil(float64(cpus*1024) / float64(e.cpusNow())))
	p := "/containers/create"
	if name != "" {
		p += "?name=" + url.QueryEscape(name)
	}
	c := e.getClient()
	var created struct {
		ID string `json:"Id"`
	}
	_, err := c.call(ctx, "POST", c.apiPath(p), cfg, &created)
	e.checkConnectionErr(err)
	if err != nil {
		// The vendored client's ContainerCreate said so in its own words.
		if image, _ := cfg["Image"].(string); isNotFound(err) && strings.Contains(err.Error(), "No such image") {
			return nil, fmt.Errorf("Error: No such image: %s", image)
		}
		return nil, err
	}
	ct, _ := e.refreshContainer(ctx, created.ID, true)
	if ct == nil {
		return nil, errors.New("Container created but refresh didn't report it back")
	}
	return ct, nil
}

// refreshContainer is Engine.refreshContainer: list the one container
// (more than one answer: refresh them all; none: forget it), then update
// it in the cache.
func (e *engine) refreshContainer(ctx context.Context, id string, full bool) (*container, error) {
	list, err := e.listContainers(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(list) > 1 {
		return nil, e.refreshContainers(ctx, full)
	}
	if len(list) == 0 {
		e.mu.Lock()
		delete(e.containers, id)
		e.mu.Unlock()
		return nil, nil
	}
	ct, err := e.updateContainer(ctx, list[0], full)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.containers[ct.id()] = ct
	e.mu.Unlock()
	return ct, nil
}

// startContainer is Engine.StartContainer.
func (e *engine) startContainer(ctx context.Context, ct *container) error {
	c := e.getClient()
	_, err := c.call(ctx, "POST", c.apiPath("/containers/"+url.PathEscape(ct.id())+"/start"), nil, nil)
	e.checkConnectionErr(err)
	if err != nil {
		return err
	}
	_, err = e.refreshContainer(ctx, ct.id(), true)
	if ct.autoRemove && isNotFound(err) {
		// Removed by the engine as soon as it stopped (--rm, API >= 1.25).
		e.mu.Lock()
		delete(e.containers, ct.id())
		e.mu.Unlock()
		return nil
	}
	return err
}

// removeContainer is Engine.RemoveContainer.
func (e *engine) removeContainer(ctx context.Context, ct *container, force, volumes bool) error {
	q := url.Values{}
	if volumes {
		q.Set("v", "1")
	}
	if force {
		q.Set("force", "1")
	}
	p := "/containers/" + url.PathEscape(ct.id())
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	c := e.getClient()
	_, err := c.call(ctx, "DELETE", c.apiPath(p), nil, nil)
	e.checkConnectionErr(err)
	if err != nil {
		return err
	}
	e.mu.Lock()
	delete(e.containers, ct.id())
	e.mu.Unlock()
	return nil
}

// inspectContainer is Engine.InspectContainer; numbers are kept as the
// engine wrote them.
func (e *engine) inspectContainer(ctx context.Context, id string) (map[string]any, error) {
	c := e.getClient()
	var raw json.RawMessage
	_, err := c.get(ctx, c.apiPath("/containers/"+url.PathEscape(id)+"/json"), &raw)
	e.checkConnectionErr(err)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var out map[string]any
	if err := d.Decode(&out); err != nil {
		return nil, fmt.Errorf("Error reading remote info: %v", err)
	}
	return out, nil
}

// healthIndicator is Engine.HealthIndicator: 100 after a successful call,
// lower after recent failures, 0 when not Healthy.
func (e *engine) healthIndicator() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.state != stateHealthy || e.failureCount >= e.opts.failureRetry {
		return 0
	}
	return int64(100 - e.failureCount*100/e.opts.failureRetry)
}

// containerNode is the Node swarm added to a container's inspection
// (EngineToContainerNode, types.ContainerNode): the engine's own CPUs and
// memory, without the overcommit.
type containerNode struct {
	ID        string
	IPAddress string `json:"IP"`
	Addr      string
	Name      string
	Cpus      int
	Memory    int64
	Labels    map[string]string
}

func (e *engine) containerNode() containerNode {
	e.mu.RLock()
	defer e.mu.RUnlock()
	labels := make(map[string]string, len(e.labels))
	for k, v := range e.labels {
		labels[k] = v
	}
	return containerNode{ID: e.id, IPAddress: e.ip, Addr: e.addr, Name: e.name, Cpus: int(e.cpus), Memory: e.memory, Labels: labels}
}
