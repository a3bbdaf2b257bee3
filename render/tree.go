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
	return TreeOf(c, formats, nil)
}

// TreeOf renders the folders of the nodes keep accepts (every node when
// keep is nil). The plans still come from the whole cluster, so member
// lists and discovery URLs name every node.
func TreeOf(c *cluster.Cluster, formats []profiles.Format, keep func(*cluster.Node) bool) (map[string][]byte, error) {
	all, err := Plans(c)
	if err != nil {
		return nil, err
	}
	plans := all
	if keep != nil {
		plans = nil
		for i, p := range all {
			if keep(&c.Nodes[i]) {
				plans = append(plans, p)
			}
		}
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
