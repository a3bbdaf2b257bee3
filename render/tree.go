package render

import (
	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/profiles"
)

// Plan1 makes the plan of one node of c.
func Plan1(c *cluster.Cluster, n *cluster.Node) (*Plan, error) {
	return newClusterContext(c).plan(n)
}

// Tree renders every node's folder: "<node>/<file>" -> contents.
func Tree(c *cluster.Cluster, formats []profiles.Format) (map[string][]byte, error) {
	plans, err := Plans(c)
	if err != nil {
		return nil, err
	}
	tree := make(map[string][]byte, 3*len(plans))
	for _, p := range plans {
		arts, err := Artifacts(p, formats)
		if err != nil {
			return nil, err
		}
		for _, a := range arts {
			tree[p.Node+"/"+a.Name] = a.Data
		}
	}
	return tree, nil
}
