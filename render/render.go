package render

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/pki"
	"github.com/swarmboot/swarmboot/profiles"
	"github.com/swarmboot/swarmboot/render/nocloud"
)

// Options say what to render.
type Options struct {
	// Formats picks the configs a node gets from its profile; nil takes
	// the profile's defaults. Delivery decides it (a seed image needs
	// cloud-config, matchbox Ignition, ...).
	Formats func(*profiles.Profile) ([]profiles.Format, error)
	// Keep selects the nodes to render (nil: every node). Plans still
	// come from the whole cluster, so member lists and discovery URLs
	// name every node.
	Keep func(*cluster.Node) bool
	// NoStaticNetwork leaves addressing to the delivery: Vagrant numbers
	// its own private network, and a static config for the first NIC
	// would cut the VM off Vagrant's NAT.
	NoStaticNetwork bool
	// TLS are the nodes' TLS files by node name (pki.Prepare issues them;
	// the CA's key is never among them); every node needs them when the
	// cluster uses TLS (cluster.UsesTLS).
	TLS map[string]pki.Material
}

// Kind says what an artifact is.
type Kind int

const (
	Config        Kind = iota // a config in Artifact.Format
	MetaData                  // NoCloud meta-data beside a cloud-config
	NetworkConfig             // NoCloud network-config beside a cloud-config
)

// Artifact is one file of a node's output.
type Artifact struct {
	Kind   Kind
	Format profiles.Format // the config's format (for companions: the config they accompany)
	Name   string          // file name inside the node's folder
	Data   []byte
	Secret bool // holds a private key
}

// Output is what render made for one node: its configs, in the order its
// formats were asked for, each followed by its companions.
type Output struct {
	Node      *cluster.Node
	Profile   *profiles.Profile
	Artifacts []Artifact
}

// Companion returns the node's artifact of kind k that accompanies the
// config in format f, if any.
func (o *Output) Companion(f profiles.Format, k Kind) ([]byte, bool) {
	for _, a := range o.Artifacts {
		if a.Kind == k && a.Format == f {
			return a.Data, true
		}
	}
	return nil, false
}

// Render renders every node the options keep. Nodes are emitted in
// parallel (each plan is independent) and collected by index, so the
// result does not depend on scheduling: outputs follow the description's
// node order, and the error is the first failing node's.
func Render(c *cluster.Cluster, o Options) ([]Output, error) {
	if o.NoStaticNetwork && c.Network != nil {
		without := *c // a shallow copy: the caller's cluster is not touched
		without.Network = nil
		c = &without
	}
	ctx := newClusterContext(c, o.TLS)
	var nodes []*cluster.Node
	for i := range c.Nodes {
		if o.Keep == nil || o.Keep(&c.Nodes[i]) {
			nodes = append(nodes, &c.Nodes[i])
		}
	}
	outs := make([]Output, len(nodes))
	errs := make([]error, len(nodes))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(nodes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				outs[i], errs[i] = ctx.output(nodes[i], o.Formats)
			}
		}()
	}
	for i := range nodes {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return outs, nil
}

// output plans one node and emits the formats it gets.
func (x *clusterContext) output(n *cluster.Node, pick func(*profiles.Profile) ([]profiles.Format, error)) (Output, error) {
	p, err := x.plan(n)
	if err != nil {
		return Output{}, err
	}
	formats := p.Profile.Defaults
	if pick != nil {
		if formats, err = pick(p.Profile); err != nil {
			return Output{}, fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	if err := snippetsReach(p, n, formats); err != nil {
		return Output{}, err
	}
	out := Output{Node: n, Profile: p.Profile}
	for _, f := range formats {
		data, err := Emit(p, f)
		if err != nil {
			return Output{}, err
		}
		out.Artifacts = append(out.Artifacts, Artifact{Config, f, f.File(), data, p.Secret})
		if f != profiles.CloudConfig {
			continue
		}
		companions, err := noCloudCompanions(p, data)
		if err != nil {
			return Output{}, err
		}
		out.Artifacts = append(out.Artifacts, companions...)
	}
	return out, nil
}

// noCloudCompanions are cloud-config's NoCloud documents: meta-data and,
// with static addressing that cloud-init applies, network-config.
func noCloudCompanions(p *Plan, userData []byte) ([]Artifact, error) {
	var netcfg []byte
	if p.Profile.Network == profiles.NetworkCloudInit {
		var err error
		if netcfg, err = emitNetworkConfig(p); err != nil {
			return nil, err
		}
	}
	// The instance-id changes with the node's config (see
	// nocloud.InstanceID): cloud-init applies user-data once per
	// instance-id, so a changed config is applied on the next boot and an
	// unchanged one is not applied twice.
	meta := nocloud.MetaData(nocloud.InstanceID(p.Cluster, p.Node, userData, netcfg), p.Hostname)
	out := []Artifact{{MetaData, profiles.CloudConfig, nocloud.MetaDataFile, meta, false}}
	if netcfg != nil {
		out = append(out, Artifact{NetworkConfig, profiles.CloudConfig, nocloud.NetworkConfigFile, netcfg, false})
	}
	return out, nil
}

// snippetsReach refuses to drop a node's snippets without a word: every
// snippet kind the node would get by default (the cluster's snippets of
// a kind its profile's default formats carry) and every kind of the
// node's own snippets must reach one of the formats rendered.
func snippetsReach(p *Plan, n *cluster.Node, formats []profiles.Format) error {
	reached := map[profiles.Format]bool{}
	for _, f := range formats {
		reached[f.Snippets()] = true
	}
	expected := map[profiles.Format]bool{}
	for _, f := range p.Profile.Defaults {
		expected[f.Snippets()] = true
	}
	for _, kind := range profiles.AllFormats() {
		list := p.Snippets.Of(kind)
		if len(list) == 0 || reached[kind] || !expected[kind] && len(n.Snippets.Of(kind)) == 0 {
			continue
		}
		var carriers []profiles.Format
		for _, f := range p.Profile.Formats {
			if f.Snippets() == kind {
				carriers = append(carriers, f)
			}
		}
		files := make([]string, len(list))
		for i, s := range list {
			files[i] = s.File
		}
		return fmt.Errorf("node %s: %w: its %s snippets (%s) reach only %s output, and this render writes %s for it; render a format that carries them, or put their settings in a snippet of that format",
			n.Name, ErrSnippetUnreached, kind, strings.Join(files, ", "), profiles.JoinFormats(carriers), profiles.JoinFormats(formats))
	}
	return nil
}
