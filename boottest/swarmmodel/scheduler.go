// Where a new container goes. Learned from swarm 1.2.9's
// scheduler/scheduler.go (filters, then the strategy ranks what is left;
// the first node wins), scheduler/filter/filter.go and health.go (the
// health filter keeps the nodes whose health indicator is above 0; its
// error ends the search), scheduler/node/node.go (a node's containers,
// reserved and total resources, pending containers added),
// scheduler/strategy/weighted_node.go, spread.go, binpack.go and random.go,
// and cluster/engine.go HealthIndicator.
//
// weighNodes: a request for C CPUs and M bytes (CPUs are what the client
// sent as CpuShares: swarm read that field as a number of CPUs) skips the
// nodes smaller than the request; a node's weight is its CPU and memory
// score (100 each when nothing is asked, else the reserved share after
// placing it, in percent; over 100 skips the node) plus a health term:
// -10 x health for spread, +10 x health for binpack. Spread takes the
// lowest weight, then the fewest containers (every container of the
// engine, stopped ones too, and the ones being created); binpack the
// highest weight, then the most containers; random shuffles.
//
// Ties: swarm sorted with sort.Sort over a list built from a Go map, so
// fully tied nodes came in random order. The model breaks such ties by
// engine name in natural order ("node-2" before "node-10"), then address,
// so the same cluster always gets the same placement.
//
// Filters other than health are not applied: they change nothing for a
// request without constraints, affinities, whitelists (which create
// refuses), published host ports, container slots or dependencies.

package swarmmodel

import (
	"errors"
	"math/rand/v2"
	"sort"
)

// The scheduler's errors, in swarm's words.
var (
	errNoHealthyNode = errors.New("No healthy node available in the cluster")
	errNoNode        = errors.New("No nodes available in the cluster")
	errNoResources   = errors.New("no resources available to schedule container")
)

// schedNode is scheduler/node.Node: what the strategy weighs.
type schedNode struct {
	engine                 *engine
	name, addr             string
	containers             int
	usedCPUs, usedMemory   int64
	totalCPUs, totalMemory int64 // with the overcommit
	health                 int64 // 0..100
}

// resourceRequest is what a container asks for: CPUs and bytes.
type resourceRequest struct{ cpus, memory int64 }

type scheduler struct {
	strategy string
	filters  []string
	rand     *rand.Rand // the random strategy's source; nil: math/rand's
}

// selectNode is Scheduler.SelectNodesForContainer, returning the first
// node of the ranking.
func (s *scheduler) selectNode(nodes []schedNode, req resourceRequest) (*schedNode, error) {
	candidates := nodes
	for _, f := range s.filters {
		if f != "health" {
			continue
		}
		var healthy []schedNode
		for _, n := range candidates {
			if n.health > 0 {
				healthy = append(healthy, n)
			}
		}
		if len(healthy) == 0 {
			return nil, errNoHealthyNode
		}
		candidates = healthy
	}
	if len(candidates) == 0 {
		return nil, errNoNode
	}
	ranked, err := s.rank(candidates, req)
	if err != nil {
		return nil, err
	}
	return &ranked[0], nil
}

func (s *scheduler) rank(nodes []schedNode, req resourceRequest) ([]schedNode, error) {
	sorted := append([]schedNode(nil), nodes...)
	byName := func(a, b schedNode) bool {
		if a.name != b.name {
			return naturalLess(a.name, b.name)
		}
		return a.addr < b.addr
	}
	sort.SliceStable(sorted, func(i, j int) bool { return byName(sorted[i], sorted[j]) })
	switch s.strategy {
	case "random":
		swap := func(i, j int) { sorted[i], sorted[j] = sorted[j], sorted[i] }
		if s.rand != nil {
			s.rand.Shuffle(len(sorted), swap)
		} else {
			rand.Shuffle(len(sorted), swap)
		}
		return sorted, nil
	case "binpack":
		return weigh(sorted, req, 10, true)
	default:
		return weigh(sorted, req, -10, false)
	}
}

// weigh is weighNodes plus the sort of spread (lightest first) or binpack
// (heaviest first); nodes arrive in the model's tie-break order.
func weigh(nodes []schedNode, req resourceRequest, healthFactor int64, heaviestFirst bool) ([]schedNode, error) {
	type weighted struct {
		n      schedNode
		weight int64
	}
	var list []weighted
	for _, n := range nodes {
		if n.totalMemory < req.memory || n.totalCPUs < req.cpus {
			continue
		}
		cpuScore, memoryScore := int64(100), int64(100)
		if req.cpus > 0 {
			cpuScore = (n.usedCPUs + req.cpus) * 100 / n.totalCPUs
		}
		if req.memory > 0 {
			memoryScore = (n.usedMemory + req.memory) * 100 / n.totalMemory
		}
		if cpuScore <= 100 && memoryScore <= 100 {
			list = append(list, weighted{n, cpuScore + memoryScore + healthFactor*n.health})
		}
	}
	if len(list) == 0 {
		return nil, errNoResources
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if heaviestFirst {
			a, b = b, a
		}
		if a.weight != b.weight {
			return a.weight < b.weight
		}
		return a.n.containers < b.n.containers
	})
	out := make([]schedNode, len(list))
	for i, w := range list {
		out[i] = w.n
	}
	return out, nil
}
