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
	// Jobs are the nodes to render and the formats each gets, in the
	// description's order (delivery decides them: a seed image needs
	// cloud-config, matchbox Ignition, ...). Plans still come from the
	// whole cluster, so member lists and discovery URLs name every node.
	Jobs []Job
	// NoStaticNetwork leaves addressing to the delivery: Vagrant numbers
	// its own private network, and a static config for the first NIC
	// would cut the VM off Vagrant's NAT.
	NoStaticNetwork bool
	// TLS are the nodes' TLS files by node name (pki issues them; the
	// CA's key is never among them); every node needs them when the
	// cluster uses TLS (cluster.UsesTLS).
	TLS map[string]pki.Material
}

// Job is one node to render and its formats, the first one primary.
type Job struct {
	Node    *cluster.Node
	Formats []profiles.Format
}

// AllJobs renders every node in its profile's default formats.
func AllJobs(c *cluster.Cluster) []Job {
	jobs := make([]Job, len(c.Nodes))
	for i := range c.Nodes {
		n := &c.Nodes[i]
		jobs[i] = Job{Node: n}
		if n.System != nil {
			jobs[i].Formats = n.System.Defaults
		}
	}
	return jobs
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

// Render renders the jobs. Nodes are emitted in parallel (each plan is
// independent) and collected by index, so the result does not depend on
// scheduling: outputs follow the jobs' order, and the error is the first
// failing job's.
func Render(c *cluster.Cluster, o Options) ([]Output, error) {
	if o.NoStaticNetwork && c.Network != nil {
		without := *c // a shallow copy: the caller's cluster is not touched
		without.Network = nil
		c = &without
	}
	ctx := newClusterContext(c, o.TLS)
	outs := make([]Output, len(o.Jobs))
	errs := make([]error, len(o.Jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(o.Jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				outs[i], errs[i] = ctx.output(o.Jobs[i])
			}
		}()
	}
	for i := range o.Jobs {
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
func (x *clusterContext) output(j Job) (Output, error) {
	n := j.Node
	p, err := x.plan(n)
	if err != nil {
		return Output{}, err
	}
	out := Output{Node: n, Profile: p.Profile}
	for _, f := range j.Formats {
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

// CheckJobs refuses, before anything is issued or rendered, to drop a
// node's snippets without a word: every snippet kind the node would get
// by default (the cluster's snippets of a kind its profile's default
// formats carry) and every kind of the node's own snippets must reach
// one of the formats its job renders.
func CheckJobs(c *cluster.Cluster, jobs []Job) error {
	for _, j := range jobs {
		if err := snippetsReach(c, j); err != nil {
			return err
		}
	}
	return nil
}

func snippetsReach(c *cluster.Cluster, j Job) error {
	n, prof := j.Node, j.Node.System
	reached := map[profiles.Format]bool{}
	for _, f := range j.Formats {
		reached[f.Snippets()] = true
	}
	expected := map[profiles.Format]bool{}
	for _, f := range prof.Defaults {
		expected[f.Snippets()] = true
	}
	for _, kind := range profiles.AllFormats() {
		list := concat(c.Snippets.Of(kind), n.Snippets.Of(kind))
		if len(list) == 0 || reached[kind] || !expected[kind] && len(n.Snippets.Of(kind)) == 0 {
			continue
		}
		var carriers []profiles.Format
		for _, f := range prof.Formats {
			if f.Snippets() == kind {
				carriers = append(carriers, f)
			}
		}
		files := make([]string, len(list))
		for i, s := range list {
			files[i] = s.File
		}
		return fmt.Errorf("node %s: %w: its %s snippets (%s) reach only %s output, and this render writes %s for it; render a format that carries them, or put their settings in a snippet of that format",
			n.Name, ErrSnippetUnreached, kind, strings.Join(files, ", "), profiles.JoinFormats(carriers), profiles.JoinFormats(j.Formats))
	}
	return nil
}
