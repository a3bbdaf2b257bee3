// One Docker engine as the manager tracks it. Learned from
// cluster/engine.go of swarm 1.2.9:
//   - states Pending (added, not validated), Healthy, Unhealthy;
//   - Connect: new client (unversioned), updateSpecs = GET /info (NCPU and
//     MemTotal must be set), GET /version, NegotiateAPIVersion, ID
//     "<engine ID>|<addr>", name, resources and labels; then the container
//     list (inspecting new containers) and the image list, now versioned;
//     any error leaves the engine Pending;
//   - CheckConnectionErr: a connection error counts a failure and becomes
//     the engine's error message; --engine-failure-retry failures in a row
//     turn a Healthy engine Unhealthy; any success clears the message and
//     the count and brings an Unhealthy engine back;
//   - refreshLoop: every random [min,max] interval (longer after repeated
//     failures) refresh the containers; re-read the specs when unhealthy or
//     every 5 minutes;
//   - TimeToValidate: a Pending engine is retried 2^failures s + 30 s after
//     its last update (at most every 4 hours).
// Deviation: swarm recorded only connection errors as the engine's error,
// so an engine refusing API 1.31 (Docker 29) was Pending with no error
// shown; the model also records why validation failed, so /info shows it.

package swarmmodel

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

type engineState int

const (
	statePending engineState = iota
	stateUnhealthy
	stateHealthy
	stateDisconnected
)

var stateText = map[engineState]string{
	statePending:      "Pending",
	stateUnhealthy:    "Unhealthy",
	stateHealthy:      "Healthy",
	stateDisconnected: "Disconnected",
}

type engineOpts struct {
	refreshMin, refreshMax time.Duration
	failureRetry           int
	overcommit             int64 // percent, swarm.overcommit*100
}

type engine struct {
	addr      string
	opts      engineOpts
	t         timing
	tlsConfig *tls.Config
	log       *logger

	// validating serialises Connect attempts of a Pending engine.
	validating sync.Mutex

	mu           sync.RWMutex
	id, ip, name string
	cpus, memory int64
	labels       map[string]string
	version      string
	state        engineState
	lastError    string
	updatedAt    time.Time
	failureCount int
	containers   map[string]*container
	images       []imageSummary
	client       *engineClient
	stopCh       chan struct{}
	resumeCh     chan struct{}
}

// container is the manager's cache of one container. It is never changed
// once made: a refresh replaces it.
type container struct {
	summary                     containerSummary
	running, paused, restarting bool
	autoRemove                  bool
	cpuShares, memory           int64 // reserved: CPUs (swarm's unit) and bytes
}

func (c *container) id() string { return c.summary.id() }

// names are the engine's names of the container ("/web").
func (c *container) names() []string {
	var out []string
	if list, ok := c.summary["Names"].([]any); ok {
		for _, n := range list {
			if s, ok := n.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// swarmID is the com.docker.swarm.id label swarm gives the containers it
// creates (cluster/config.go SwarmID).
func (c *container) swarmID() string {
	labels, _ := c.summary["Labels"].(map[string]any)
	id, _ := labels[swarmIDLabel].(string)
	return id
}

func newEngine(addr string, opts engineOpts, t timing, tlsConfig *tls.Config, log *logger) *engine {
	return &engine{
		addr: addr, opts: opts, t: t, tlsConfig: tlsConfig, log: log,
		labels:     map[string]string{},
		state:      statePending,
		updatedAt:  time.Now(),
		containers: map[string]*container{},
		stopCh:     make(chan struct{}),
		resumeCh:   make(chan struct{}, 1),
	}
}

func (e *engine) status() engineState {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.state
}

func (e *engine) isHealthy() bool { return e.status() == stateHealthy }

func (e *engine) getClient() *engineClient {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.client
}

func (e *engine) logFields() *logger {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.log.with(fields{"name": e.name, "id": e.id})
}

// connect is Engine.Connect + ConnectWithClient.
func (e *engine) connect(ctx context.Context) error {
	host, _, err := net.SplitHostPort(e.addr)
	if err != nil {
		return err
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return err
	}
	if len(ips) == 0 {
		return fmt.Errorf("no address for %s", host)
	}
	client := newEngineClient(e.addr, e.tlsConfig, e.t.engineRequestTimeout)
	e.mu.Lock()
	if e.client != nil {
		e.client.close()
	}
	e.ip = ips[0].IP.String()
	e.client = client
	e.mu.Unlock()

	if err := e.updateSpecs(ctx); err != nil {
		return err
	}
	if err := e.refreshContainers(ctx, true); err != nil {
		return err
	}
	return e.refreshImages(ctx)
}

// updateSpecs is Engine.updateSpecs.
func (e *engine) updateSpecs(ctx context.Context) error {
	c := e.getClient()
	var info engineInfo
	_, err := c.get(ctx, c.apiPath("/info"), &info)
	e.checkConnectionErr(err)
	if err != nil {
		return err
	}
	if info.NCPU == 0 || info.MemTotal == 0 {
		return fmt.Errorf("cannot get resources for this engine, make sure %s is a Docker Engine, not a Swarm manager", e.addr)
	}
	var v engineVersion
	_, err = c.get(ctx, c.apiPath("/version"), &v)
	e.checkConnectionErr(err)
	if err != nil {
		return err
	}
	c.negotiate(ctx)

	e.mu.Lock()
	defer e.mu.Unlock()
	e.version = v.Version
	id := info.ID + "|" + e.addr
	if e.id == "" {
		e.id = id
	} else if e.id != id {
		e.state = statePending
		msg := fmt.Sprintf("Engine (ID: %s, Addr: %s) shows up with another ID:%s. Please remove it from cluster, it can be added back.", e.id, e.addr, id)
		e.lastError = msg
		return errors.New(msg)
	}
	e.name = info.Name
	e.cpus = info.NCPU
	e.memory = info.MemTotal
	labels := map[string]string{}
	for k, v := range map[string]string{"storagedriver": info.Driver, "kernelversion": info.KernelVersion,
		"operatingsystem": info.OperatingSystem, "ostype": info.OSType} {
		if v != "" {
			labels[k] = v
		}
	}
	for _, l := range info.Labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return fmt.Errorf("Engine (ID: %s, Addr: %s) contains an invalid label (%s) not formatted as \"key=value\".", e.id, e.addr, l)
		}
		if k == "node" {
			e.log.Warnf("Engine (ID: %s, Addr: %s) contains a label (%s) with key of \"node\" which cannot be used in Swarm.", e.id, e.addr, l)
			continue
		}
		if old, ok := labels[k]; ok {
			e.log.Warnf("Node (ID: %s, Addr: %s) already contains a label (%s) with key (%s), and Engine's label (%s) cannot override it.", e.id, e.addr, old, k, v)
			continue
		}
		labels[k] = v
	}
	e.labels = labels
	return nil
}

// refreshContainers is Engine.RefreshContainers: list all containers,
// inspect the new ones (all of them when full), drop the ones that were
// known before the list and are not in it. A container registered while
// the list was under way (by a create) survives it.
func (e *engine) refreshContainers(ctx context.Context, full bool) error {
	e.mu.RLock()
	before := make([]string, 0, len(e.containers))
	for id := range e.containers {
		before = append(before, id)
	}
	e.mu.RUnlock()
	list, err := e.listContainers(ctx, "")
	if err != nil {
		return err
	}
	listed := map[string]bool{}
	merged := map[string]*container{}
	for _, s := range list {
		id := s.id()
		listed[id] = true
		ct, err := e.updateContainer(ctx, s, full)
		if err != nil {
			if !strings.Contains(err.Error(), "No such container") {
				e.logFields().Errorf("Unable to update state of container %q: %v", id, err)
			}
			continue
		}
		merged[id] = ct
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range before {
		if !listed[id] {
			delete(e.containers, id)
		}
	}
	for id, ct := range merged {
		e.containers[id] = ct
	}
	return nil
}

// listContainers is the vendored client's ContainerList with All, and an
// id filter when id is given (the filters' JSON form of API >= 1.22).
func (e *engine) listContainers(ctx context.Context, id string) ([]containerSummary, error) {
	c := e.getClient()
	p := "/containers/json?all=1"
	if id != "" {
		f, _ := json.Marshal(map[string]map[string]bool{"id": {id: true}})
		p += "&filters=" + url.QueryEscape(string(f))
	}
	var list []containerSummary
	_, err := c.get(ctx, c.apiPath(p), &list)
	e.checkConnectionErr(err)
	return list, err
}

// updateContainer is Engine.updateContainer: a new or restarting container,
// or any on a full refresh, is inspected; otherwise the cached inspection
// stays and the list's State (API >= 1.23) keeps the running flags fresh.
func (e *engine) updateContainer(ctx context.Context, s containerSummary, full bool) (*container, error) {
	id := s.id()
	e.mu.RLock()
	old := e.containers[id]
	e.mu.RUnlock()
	ct := &container{summary: s}
	if old != nil && !full && !old.restarting {
		ct.running, ct.paused, ct.autoRemove, ct.cpuShares, ct.memory = old.running, old.paused, old.autoRemove, old.cpuShares, old.memory
		if st, ok := s["State"].(string); ok {
			ct.running, ct.paused = st == "running" || st == "paused", st == "paused"
		}
		return ct, nil
	}
	c := e.getClient()
	var in containerInspect
	_, err := c.get(ctx, c.apiPath("/containers/"+url.PathEscape(id)+"/json"), &in)
	e.checkConnectionErr(err)
	if err != nil {
		return nil, err
	}
	ct.running, ct.paused, ct.restarting = in.State.Running, in.State.Paused, in.State.Restarting
	ct.autoRemove = in.HostConfig.AutoRemove
	ct.cpuShares = in.HostConfig.CPUShares * e.cpusNow() / 1024
	ct.memory = in.HostConfig.Memory
	return ct, nil
}

func (e *engine) cpusNow() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.cpus
}

func (e *engine) refreshImages(ctx context.Context) error {
	c := e.getClient()
	var images []imageSummary
	_, err := c.get(ctx, c.apiPath("/images/json?all=1"), &images)
	e.checkConnectionErr(err)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.images = images
	e.mu.Unlock()
	return nil
}

// checkConnectionErr is Engine.CheckConnectionErr.
func (e *engine) checkConnectionErr(err error) {
	if err == nil {
		e.mu.Lock()
		e.lastError = ""
		e.updatedAt = time.Now()
		revived := e.state == stateUnhealthy
		if revived {
			e.state = stateHealthy
			e.log.with(fields{"name": e.name, "id": e.id}).Infof("Engine came back to life after %d retries. Hooray!", e.failureCount)
		}
		e.failureCount = 0
		e.mu.Unlock()
		if revived {
			select {
			case e.resumeCh <- struct{}{}:
			default:
			}
		}
		return
	}
	if !isConnectionError(err) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failureCount++
	if e.state == stateHealthy && e.failureCount >= e.opts.failureRetry {
		e.state = stateUnhealthy
		e.log.with(fields{"name": e.name, "id": e.id}).Errorf("Flagging engine as unhealthy. Connect failed %d times", e.failureCount)
	}
	e.lastError = strings.TrimSpace(err.Error())
	e.updatedAt = time.Now()
}

// recordValidationError keeps why validation failed (see the deviation in
// the file comment).
func (e *engine) recordValidationError(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state == statePending {
		e.lastError = strings.TrimSpace(err.Error())
	}
}

// timeToValidate is Engine.TimeToValidate.
func (e *engine) timeToValidate() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.state != statePending {
		return false
	}
	since := time.Since(e.updatedAt)
	backoff := time.Duration(1<<uint(min(e.failureCount, 30)))*e.t.pendingBackoffUnit + e.t.pendingMinBackoff
	return since > e.t.pendingValidationLimit || since > backoff
}

// validationComplete is Engine.ValidationComplete.
func (e *engine) validationComplete() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state != statePending {
		return false
	}
	e.state = stateHealthy
	e.failureCount = 0
	go e.refreshLoop()
	return true
}

func (e *engine) disconnect() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state == stateDisconnected {
		return
	}
	close(e.stopCh)
	if e.client != nil {
		e.client.close()
	}
	e.state = stateDisconnected
}

// refreshLoop is Engine.refreshLoop.
func (e *engine) refreshLoop() {
	const maxBackoffFactor = 1000
	lastSpecUpdate := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-e.stopCh
		cancel()
	}()
	for {
		e.mu.RLock()
		backoff := e.failureCount - e.opts.failureRetry
		e.mu.RUnlock()
		backoff = max(0, min(backoff, maxBackoffFactor))
		wait := e.opts.refreshMin * time.Duration(1+backoff)
		if delta := e.opts.refreshMax - e.opts.refreshMin; delta > 0 {
			wait += time.Duration(rand.Int63n(int64(delta)))
		}
		t := time.NewTimer(wait)
		select {
		case <-e.resumeCh:
		case <-t.C:
		case <-e.stopCh:
			t.Stop()
			return
		}
		t.Stop()
		if !e.isHealthy() || time.Since(lastSpecUpdate) > e.t.specUpdateInterval {
			if err := e.updateSpecs(ctx); err != nil {
				if ctx.Err() == nil {
					e.logFields().Errorf("Update engine specs failed: %v", err)
				}
				continue
			}
			lastSpecUpdate = time.Now()
		}
		if err := e.refreshContainers(ctx, false); err == nil {
			e.refreshImages(ctx)
			e.logFields().Debugf("Engine update succeeded")
		} else {
			e.logFields().Debugf("Engine refresh failed")
		}
	}
}

// engineView is a consistent copy of an engine for /info and the API.
type engineView struct {
	addr, id, ip, name, version, errMsg string
	state                               engineState
	cpus, memory                        int64 // totals with overcommit
	usedCPUs, usedMemory                int64
	labels                              []string
	updatedAt                           time.Time
	containers                          []*container
	images                              []imageSummary
}

func (e *engine) view() engineView {
	e.mu.RLock()
	defer e.mu.RUnlock()
	v := engineView{
		addr: e.addr, id: e.id, ip: e.ip, name: e.name, version: e.version, errMsg: e.lastError,
		state:     e.state,
		cpus:      e.cpus + e.cpus*e.opts.overcommit/100,
		memory:    e.memory + e.memory*e.opts.overcommit/100,
		updatedAt: e.updatedAt,
		images:    e.images,
	}
	for k, val := range e.labels {
		v.labels = append(v.labels, k+"="+val)
	}
	sort.Strings(v.labels)
	for _, c := range e.containers {
		v.containers = append(v.containers, c)
		v.usedCPUs += c.cpuShares
		v.usedMemory += c.memory
	}
	return v
}
