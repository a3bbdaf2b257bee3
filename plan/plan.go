// Package plan says what a render would change in an output folder it
// rendered before, as `terraform plan` does: every node new, removed,
// changed or unchanged; for a changed node its files, as diffs with key
// material redacted, and why (the description keys that changed, the
// certificates re-issued); and what the change means for a node that is
// already running, since user-data applies only at first boot.
package plan

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/output"
	"github.com/swarmboot/swarmboot/pki"
)

// Status is what the render does to a node's output.
type Status string

const (
	New       Status = "new"
	Removed   Status = "removed"
	Changed   Status = "changed"
	Unchanged Status = "unchanged"
)

// FileChange is one file of a node that differs.
type FileChange struct {
	Path   string `json:"path"`
	Change string `json:"change"`         // added, removed, modified
	Diff   string `json:"diff,omitempty"` // unified, key material redacted
}

// Node is one node's part of the plan.
type Node struct {
	Name    string       `json:"name"`
	Status  Status       `json:"status"`
	Files   []FileChange `json:"files,omitempty"`
	Why     []string     `json:"why,omitempty"`
	Running []string     `json:"running,omitempty"` // what it means for the running node
}

// Plan is the whole comparison.
type Plan struct {
	Output string       `json:"output"`
	Nodes  []Node       `json:"nodes"`
	Other  []FileChange `json:"other,omitempty"` // files of no node (a Vagrantfile)
}

// Changes reports whether the render would change anything.
func (p *Plan) Changes() bool {
	if len(p.Other) > 0 {
		return true
	}
	for _, n := range p.Nodes {
		if n.Status != Unchanged {
			return true
		}
	}
	return false
}

// Count is how many nodes have the status.
func (p *Plan) Count(s Status) int {
	n := 0
	for _, node := range p.Nodes {
		if node.Status == s {
			n++
		}
	}
	return n
}

// Input is both sides: the old output folder as read (with the copy of
// the description it was rendered from, output.Description, if any) and
// what the render would write.
type Input struct {
	Output  string
	Old     output.Tree
	New     map[string][]byte
	Cluster *cluster.Cluster // the new description
	// Description is the new description's text.
	Description []byte
	// PKI is what the render's PKI step would do.
	PKI []pki.Change
}

// Compare makes the plan.
func Compare(in Input) (*Plan, error) {
	oldDesc := in.Old[output.Description]
	keys, err := changedKeys(oldDesc, in.Description)
	if err != nil {
		return nil, err
	}
	oldMembers := members(oldDesc)
	names := nodeNames(in.Cluster, in.Old)
	oldFiles, newFiles := byNode(in.Old, names), byNode(in.New, names)
	p := &Plan{Output: in.Output}
	for _, name := range orderedNames(in.Cluster, oldFiles) {
		if name == "" {
			continue
		}
		n := compareNode(name, oldFiles[name], newFiles[name])
		sameAsButane(&n)
		if n.Status != Unchanged {
			n.Why = why(name, n.Status, keys, in.PKI, oldMembers, in.Cluster)
			n.Running = running(name, n, keys, oldMembers, in.Cluster, oldDesc)
		}
		p.Nodes = append(p.Nodes, n)
	}
	p.Other = compareNode("", oldFiles[""], newFiles[""]).Files
	return p, nil
}

// nodeNames are every node name of the new description and of the old
// output's folders and files.
func nodeNames(c *cluster.Cluster, old output.Tree) map[string]bool {
	names := map[string]bool{}
	for _, n := range c.Nodes {
		names[n.Name] = true
	}
	for _, n := range members(old[output.Description]) {
		names[n] = true
	}
	for _, n := range oldNodes(old[output.Description]) {
		names[n] = true
	}
	return names
}

// owner is the node a delivered file belongs to: its folder (DIR/<node>/)
// or, in a matchbox tree, its name (ignition/<node>.ign); "" for the
// cluster's own files (a Vagrantfile).
func owner(p string, names map[string]bool) string {
	if first, _, ok := strings.Cut(p, "/"); ok && names[first] {
		return first
	}
	base := path.Base(p)
	if name := strings.TrimSuffix(base, path.Ext(base)); names[name] && strings.Contains(p, "/") {
		return name
	}
	return ""
}

// byNode groups a tree's files by node ("" for the cluster's), leaving
// out the description's copy.
func byNode(t map[string][]byte, names map[string]bool) map[string]map[string][]byte {
	out := map[string]map[string][]byte{}
	for p, data := range t {
		if p == output.Description {
			continue
		}
		n := owner(p, names)
		if out[n] == nil {
			out[n] = map[string][]byte{}
		}
		out[n][p] = data
	}
	return out
}

// orderedNames: the description's order, then removed nodes by name.
func orderedNames(c *cluster.Cluster, old map[string]map[string][]byte) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range c.Nodes {
		out = append(out, n.Name)
		seen[n.Name] = true
	}
	var gone []string
	for name := range old {
		if !seen[name] {
			gone = append(gone, name)
		}
	}
	sort.Strings(gone)
	return append(out, gone...)
}

func compareNode(name string, old, new map[string][]byte) Node {
	n := Node{Name: name, Status: Unchanged}
	switch {
	case len(old) == 0 && len(new) > 0:
		n.Status = New
	case len(new) == 0 && len(old) > 0:
		n.Status = Removed
	}
	paths := make([]string, 0, len(old)+len(new))
	for p := range old {
		paths = append(paths, p)
	}
	for p := range new {
		if _, ok := old[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		o, inOld := old[p]
		w, inNew := new[p]
		switch {
		case !inOld:
			n.Files = append(n.Files, FileChange{Path: p, Change: "added"})
		case !inNew:
			n.Files = append(n.Files, FileChange{Path: p, Change: "removed"})
		case !bytes.Equal(o, w):
			n.Files = append(n.Files, FileChange{Path: p, Change: "modified", Diff: unifiedDiff(p, o, w)})
		}
	}
	if n.Status == Unchanged && len(n.Files) > 0 {
		n.Status = Changed
	}
	return n
}

// sameAsButane: a node rendered as Butane and Ignition shows its change
// once, in the Butane people read; the Ignition is the same change.
func sameAsButane(n *Node) {
	var butane bool
	for _, f := range n.Files {
		butane = butane || f.Change == "modified" && strings.HasSuffix(f.Path, "/config.bu") && f.Diff != ""
	}
	for i := range n.Files {
		if f := &n.Files[i]; butane && f.Change == "modified" && strings.HasSuffix(f.Path, "/config.ign") {
			f.Diff = ""
		}
	}
}

// why says what caused a node's change: its own keys, keys of the
// cluster, an etcd member's address that every node names, its
// certificate.
func why(name string, st Status, keys []keyChange, changes []pki.Change, oldMembers []string, c *cluster.Cluster) []string {
	var out []string
	own := "$.nodes[" + name + "]"
	newMembers := memberNames(c)
	for _, k := range keys {
		node, isNode := k.node()
		switch {
		case node == name:
			if st == Changed || k.path != own {
				out = append(out, k.String())
			}
		case isNode && (slices.Contains(oldMembers, node) || slices.Contains(newMembers, node)) && st == Changed:
			out = append(out, fmt.Sprintf("%s (etcd member %s: every node names the members, in ETCD_INITIAL_CLUSTER or swarm's discovery URL)", k, node))
		case !isNode && st == Changed:
			out = append(out, k.String())
		}
	}
	for _, ch := range changes {
		if ch.Node == name && ch.Kind != pki.Expiring {
			out = append(out, "certificate "+ch.Kind.String()+" ("+ch.Why+")")
		}
	}
	if len(out) == 0 && st == Changed {
		out = append(out, "no key of the description changed: a snippet file, the PKI or swarmboot itself (another version) did")
	}
	return out
}

// running says what the change means for a node that already runs what
// the old output gave it.
func running(name string, n Node, keys []keyChange, oldMembers []string, c *cluster.Cluster, oldDesc []byte) []string {
	node := nodeOf(c, name)
	var out []string
	switch n.Status {
	case New:
		if node != nil && node.Has(cluster.RoleEtcd) && len(oldMembers) > 0 && !slices.Contains(oldMembers, name) {
			out = append(out, fmt.Sprintf("a new member of a running etcd cluster: add it first (etcdctl member add %s --peer-urls=https://%s:%d) and start it with ETCD_INITIAL_CLUSTER_STATE=existing; swarmboot renders members of a new cluster only",
				name, node.IP, c.Etcd.PeerPort))
		}
		if node != nil && node.Has(cluster.RoleDocker) {
			out = append(out, "boot it with its user-data: its swarm join registers it in etcd and every manager lists it")
		}
		if len(out) == 0 {
			out = append(out, "boot it with its user-data")
		}
	case Removed:
		roles := oldRoles(oldDesc, name)
		if slices.Contains(roles, cluster.RoleEtcd) {
			out = append(out, "an etcd member: remove it from the running cluster (etcdctl member remove ID) before powering it off, or the others keep counting it for quorum")
		}
		if slices.Contains(roles, cluster.RoleDocker) {
			out = append(out, fmt.Sprintf("a Docker host: its registration in etcd stays until its TTL (%s) runs out after it stops; the managers list it until then", ttl(c)))
		}
		if len(out) == 0 {
			out = append(out, "power it off")
		}
	case Changed:
		if onlyOtherMembers(n.Why) {
			if node != nil && node.Has(cluster.RoleEtcd) {
				out = append(out, "nothing to do on it: a member reads ETCD_INITIAL_CLUSTER only at its first start (the moved member's etcdctl member update reaches it)")
			}
			if node != nil && (node.Has(cluster.RoleDocker) || node.Has(cluster.RoleManager)) {
				out = append(out, "its swarm units keep the old member list until it is re-provisioned, and reach etcd through the other members meanwhile")
			}
			if len(out) > 0 {
				return out
			}
		}
		if node != nil && node.Has(cluster.RoleEtcd) && ownIPChanged(keys, name) {
			out = append(out, fmt.Sprintf("its etcd peer URL changes, and a running etcd keeps its member list in its data (ETCD_INITIAL_* apply only at a member's first start): run etcdctl member update ID --peer-urls=https://%s:%d first", node.IP, c.Etcd.PeerPort))
		}
		if certificateOnly(n.Files) {
			out = append(out, "only its certificate changed: `swarmboot pki publish` hands it to the running node, whose renewal agent installs it; no re-provisioning")
		} else {
			out = append(out, "user-data applies only at first boot (cloud-init once per instance-id, Ignition on the first boot): re-provision the node to apply it, or make the change on it by hand")
		}
	}
	return out
}

// onlyOtherMembers: the node changed only because another etcd member
// did (its address is in every node's member list).
func onlyOtherMembers(why []string) bool {
	if len(why) == 0 {
		return false
	}
	for _, w := range why {
		if !strings.Contains(w, "(etcd member ") {
			return false
		}
	}
	return true
}

func ownIPChanged(keys []keyChange, name string) bool {
	for _, k := range keys {
		if k.path == "$.nodes["+name+"].ip" {
			return true
		}
	}
	return false
}

// certificateOnly: the node's files differ in certificates alone (and in
// what follows from any change: NoCloud's instance-id).
func certificateOnly(files []FileChange) bool {
	for _, f := range files {
		if f.Change != "modified" || !strings.Contains(f.Diff, "[certificate ") {
			if !strings.HasSuffix(f.Path, "/meta-data") {
				return false
			}
		}
		for _, line := range strings.Split(f.Diff, "\n") {
			if (strings.HasPrefix(line, "+") || strings.HasPrefix(line, "-")) && !strings.HasPrefix(line, "+++") && !strings.HasPrefix(line, "---") &&
				!strings.Contains(line, "[certificate ") && !strings.Contains(line, "instance-id") {
				return false
			}
		}
	}
	return len(files) > 0
}

func nodeOf(c *cluster.Cluster, name string) *cluster.Node {
	for i := range c.Nodes {
		if c.Nodes[i].Name == name {
			return &c.Nodes[i]
		}
	}
	return nil
}

func memberNames(c *cluster.Cluster) []string {
	var out []string
	for _, m := range c.Members() {
		out = append(out, m.Name)
	}
	return out
}

func ttl(c *cluster.Cluster) string {
	if c.Swarm.TTL > 0 {
		return c.Swarm.TTL.String()
	}
	return (180 * time.Second).String() + ", swarm's default"
}
