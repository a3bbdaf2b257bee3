// The manager's set of engines. Learned from cluster/swarm/cluster.go of
// swarm 1.2.9:
//   - monitorDiscovery: each list of entries is diffed with the previous
//     one; removed entries are removed first, then new ones added as
//     Pending and validated in the background;
//   - validatePendingEngine: Connect; on success the engine leaves the
//     pending table for the engines table (by ID) and turns Healthy
//     ("Registered Engine NAME at ADDR"); an ID already used by another
//     address keeps it Pending with "ID duplicated..." as its error;
//   - monitorPendingEngines: every 10 s, retry the Pending engines whose
//     TimeToValidate has come;
//   - Info: Strategy, Filters, Nodes (engines + pending engines), then per
//     engine, sorted by name (naturally), " NAME"/ADDR and the "  └ ..."
//     pairs; "  └ Error" only when there is one.

package swarmmodel

import (
	"context"
	"crypto/tls"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
)

type cluster struct {
	log       *logger
	t         timing
	opts      engineOpts
	tlsConfig *tls.Config
	strategy  string
	filters   []string

	mu      sync.RWMutex
	engines map[string]*engine // validated, by ID
	pending map[string]*engine // by address

	// schedMu is the scheduler's lock: it guards pendingContainers and
	// makes choosing a node and claiming a name one step.
	schedMu           sync.Mutex
	sched             scheduler
	pendingContainers map[string]*pendingContainer // by swarm ID
}

func newCluster(opts engineOpts, t timing, tlsConfig *tls.Config, strategy string, filters []string, log *logger) *cluster {
	return &cluster{log: log, t: t, opts: opts, tlsConfig: tlsConfig, strategy: strategy, filters: filters,
		engines: map[string]*engine{}, pending: map[string]*engine{},
		sched: scheduler{strategy: strategy, filters: filters}, pendingContainers: map[string]*pendingContainer{}}
}

// run follows the discovery and retries pending engines until ctx ends.
func (c *cluster) run(ctx context.Context, d *discovery) {
	go c.monitorPending(ctx)
	var current []string
	d.watch(ctx, func(entries []string) {
		added, removed := diffEntries(current, entries)
		current = entries
		for _, a := range removed {
			c.log.Debugf("Discovery: remove engine %s", a)
			c.removeEngine(a)
		}
		for _, a := range added {
			c.log.Debugf("Discovery: add engine %s", a)
			c.addEngine(ctx, a)
		}
	}, func(err error) {
		c.log.with(errorFields(err)).Errorf("Discovery error: %v", err)
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.engines {
		e.disconnect()
	}
	for _, e := range c.pending {
		e.disconnect()
	}
}

func diffEntries(old, cur []string) (added, removed []string) {
	in := func(list []string, s string) bool {
		for _, v := range list {
			if v == s {
				return true
			}
		}
		return false
	}
	for _, e := range cur {
		if !in(old, e) {
			added = append(added, e)
		}
	}
	for _, e := range old {
		if !in(cur, e) {
			removed = append(removed, e)
		}
	}
	return added, removed
}

func (c *cluster) engineByAddr(addr string) *engine {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if e, ok := c.pending[addr]; ok {
		return e
	}
	for _, e := range c.engines {
		if e.addr == addr {
			return e
		}
	}
	return nil
}

func (c *cluster) addEngine(ctx context.Context, addr string) {
	if c.engineByAddr(addr) != nil {
		return
	}
	e := newEngine(addr, c.opts, c.t, c.tlsConfig, c.log)
	c.mu.Lock()
	c.pending[addr] = e
	c.mu.Unlock()
	go c.validatePending(ctx, e)
}

func (c *cluster) validatePending(ctx context.Context, e *engine) {
	if !e.validating.TryLock() {
		return // an attempt is already under way
	}
	defer e.validating.Unlock()
	if err := e.connect(ctx); err != nil {
		c.log.with(fields{"Addr": e.addr}).Debugf("Failed to validate pending node: %s", err)
		e.recordValidationError(err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending[e.addr] != e {
		return // removed from discovery meanwhile
	}
	v := e.view()
	if old, ok := c.engines[v.id]; ok {
		if old.addr != e.addr {
			c.log.Errorf("ID duplicated. %s shared by %s and %s", v.id, old.addr, e.addr)
			e.mu.Lock()
			e.lastError = fmt.Sprintf("ID duplicated. %s shared by this node %s and another node %s", v.id, e.addr, old.addr)
			e.updatedAt = time.Now()
			e.mu.Unlock()
		} else {
			e.disconnect()
			delete(c.pending, e.addr)
		}
		return
	}
	delete(c.pending, e.addr)
	if e.validationComplete() {
		c.engines[v.id] = e
		c.log.Infof("Registered Engine %s at %s", v.name, e.addr)
	}
}

func (c *cluster) removeEngine(addr string) {
	e := c.engineByAddr(addr)
	if e == nil {
		return
	}
	e.disconnect()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending[addr] == e {
		delete(c.pending, addr)
	} else {
		for id, x := range c.engines {
			if x == e {
				delete(c.engines, id)
			}
		}
	}
	c.log.Infof("Removed Engine %s", e.view().name)
}

func (c *cluster) monitorPending(ctx context.Context) {
	for sleepCtx(ctx, c.t.pendingCheckInterval) {
		c.mu.RLock()
		var due []*engine
		for _, e := range c.pending {
			if e.timeToValidate() {
				due = append(due, e)
			}
		}
		c.mu.RUnlock()
		for _, e := range due {
			go c.validatePending(ctx, e)
		}
	}
}

// views returns every engine, validated and pending, sorted as swarm's
// EngineSorter (natural order of names; the model breaks ties by address).
func (c *cluster) views() []engineView {
	c.mu.RLock()
	var all []*engine
	for _, e := range c.engines {
		all = append(all, e)
	}
	for _, e := range c.pending {
		all = append(all, e)
	}
	c.mu.RUnlock()
	out := make([]engineView, 0, len(all))
	for _, e := range all {
		out = append(out, e.view())
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].name != out[j].name {
			return naturalLess(out[i].name, out[j].name)
		}
		return out[i].addr < out[j].addr
	})
	return out
}

// info is Cluster.Info.
func (c *cluster) info() [][2]string {
	views := c.views()
	out := [][2]string{
		{"Strategy", c.strategy},
		{"Filters", strings.Join(c.filters, ", ")},
		{"Nodes", fmt.Sprintf("%d", len(views))},
	}
	for _, v := range views {
		name := "(unknown)"
		if v.name != "" {
			name = v.name
		}
		out = append(out, [2]string{" " + name, v.addr}, [2]string{"  └ ID", v.id}, [2]string{"  └ Status", stateText[v.state]})
		if v.state == stateHealthy {
			var running, paused, stopped int
			for _, ct := range v.containers {
				switch {
				case ct.paused:
					paused++
				case ct.running:
					running++
				default:
					stopped++
				}
			}
			out = append(out, [2]string{"  └ Containers", fmt.Sprintf("%d (%d Running, %d Paused, %d Stopped)", len(v.containers), running, paused, stopped)})
		} else {
			out = append(out, [2]string{"  └ Containers", fmt.Sprintf("%d", len(v.containers))})
		}
		out = append(out,
			[2]string{"  └ Reserved CPUs", fmt.Sprintf("%d / %d", v.usedCPUs, v.cpus)},
			[2]string{"  └ Reserved Memory", fmt.Sprintf("%s / %s", bytesSize(float64(v.usedMemory)), bytesSize(float64(v.memory)))},
			[2]string{"  └ Labels", strings.Join(v.labels, ", ")})
		if v.errMsg != "" {
			out = append(out, [2]string{"  └ Error", v.errMsg})
		}
		out = append(out,
			[2]string{"  └ UpdatedAt", v.updatedAt.UTC().Format(time.RFC3339)},
			[2]string{"  └ ServerVersion", v.version})
	}
	return out
}

// validated returns the views of the engines that passed validation
// (healthy or not): swarm's containers, images and totals come from those.
func (c *cluster) validated() []engineView {
	var out []engineView
	for _, v := range c.views() {
		if v.state == stateHealthy || v.state == stateUnhealthy {
			out = append(out, v)
		}
	}
	return out
}

// bytesSize is go-units' BytesSize: binary units, 4 significant digits.
func bytesSize(size float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"}
	i := 0
	for size >= 1024 && i < len(units)-1 {
		size /= 1024
		i++
	}
	return fmt.Sprintf("%.4g %s", size, units[i])
}

// naturalLess orders "node-2" before "node-10".
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		ca, cb := rune(a[0]), rune(b[0])
		if unicode.IsDigit(ca) && unicode.IsDigit(cb) {
			na, ra := leadingDigits(a)
			nb, rb := leadingDigits(b)
			x, y := strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
			if len(x) != len(y) {
				return len(x) < len(y)
			}
			if x != y {
				return x < y
			}
			a, b = ra, rb
			continue
		}
		if ca != cb {
			return ca < cb
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func leadingDigits(s string) (string, string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i], s[i:]
}
