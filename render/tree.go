package render

import (
	"runtime"
	"sync"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/profiles"
)

// Plan1 makes the plan of one node of c.
func Plan1(c *cluster.Cluster, n *cluster.Node) (*Plan, error) {
	return newClusterContext(c).plan(n)
}

// Tree renders every node's folder: "<node>/<file>" -> contents. Nodes are
// emitted in parallel (each plan is independent); results are collected by
// index, so the output does not depend on scheduling.
func Tree(c *cluster.Cluster, formats []profiles.Format) (map[string][]byte, error) {
	plans, err := Plans(c)
	if err != nil {
		return nil, err
	}
	arts := make([][]Artifact, len(plans))
	errs := make([]error, len(plans))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(plans)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				arts[i], errs[i] = Artifacts(plans[i], formats)
			}
		}()
	}
	for i := range plans {
		next <- i
	}
	close(next)
	wg.Wait()
	tree := make(map[string][]byte, 3*len(plans))
	for i, p := range plans {
		if errs[i] != nil {
			return nil, errs[i]
		}
		for _, a := range arts[i] {
			tree[p.Node+"/"+a.Name] = a.Data
		}
	}
	return tree, nil
}
