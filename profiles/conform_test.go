package profiles_test

// The contract tests: every config a render writes, for every profile, in
// the TLS and the plain form, is held against what its target system's
// contract (contracts/<profile>.yaml) says the system does with it. The
// configs come from the users' path (cluster.Load, pki.Prepare,
// delivery.Build) and are read back with their consumers' own parsers.

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/internal/testutil"
	"github.com/swarmboot/swarmboot/pki"
	"github.com/swarmboot/swarmboot/profiles"
)

// description is one cluster description the contract tests render.
type description struct {
	name string
	file string // a golden case's cluster.yaml, or
	text string // a description made here
}

// The made-up descriptions: every profile (and Debian release), the TLS
// and the plain form, the drop-in and, where the engine is
// socket-activated, the socket form, and each way a static network can
// select the NIC: nothing named (the profile's NIC names), an interface
// named, each node's MAC; and no static network at all.
func descriptions(t *testing.T) []description {
	var out []description
	networks := []struct{ name, network, macs string }{
		{"nic-names", "network: {prefix: 24, gateway: 10.0.0.254, dns: [10.0.0.53]}", ""},
		{"interface", "network: {prefix: 24, interface: ens5}", ""},
		{"mac", "network: {prefix: 24, gateway: 10.0.0.254}", "mac"},
		{"dhcp", "", ""},
	}
	for _, prof := range []string{"ubuntu", "debian-12", "debian-13", "debian-14", "flatcar", "fcos", "coreos"} {
		p, _ := profiles.Lookup(prof)
		activations := []string{cluster.ActivationDropin}
		if p.Docker.SocketActivation {
			activations = append(activations, cluster.ActivationSocket)
		}
		for i, nw := range networks {
			for _, tls := range []bool{true, false} {
				for _, act := range activations {
					name := fmt.Sprintf("%s/%s/tls=%v/%s", prof, nw.name, tls, act)
					out = append(out, description{name: name, text: made(prof, nw.network, nw.macs != "", tls, act, i)})
				}
			}
		}
	}
	goldens, err := filepath.Glob("../golden/*/cluster.yaml")
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no golden descriptions: %v", err)
	}
	for _, g := range goldens {
		out = append(out, description{name: "golden/" + filepath.Base(filepath.Dir(g)), file: g})
	}
	return out
}

// made writes a three-node description: every node an etcd member and a
// Docker host, the manager on the first.
func made(profile, network string, macs, tls bool, activation string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\ncluster: c%d\nprofile: %s\ninstall_packages: false\n", n, profile)
	if network != "" {
		b.WriteString(network + "\n")
	}
	if !tls {
		b.WriteString("etcd: {tls: false}\n")
		fmt.Fprintf(&b, "docker: {tls: false, activation: %s}\n", activation)
	} else {
		fmt.Fprintf(&b, "docker: {activation: %s}\n", activation)
	}
	b.WriteString("swarm: {image_archive: /var/lib/swarmboot/swarm.tar}\nnodes:\n")
	for i, roles := range []string{"etcd, docker, manager", "etcd, docker", "etcd, docker"} {
		mac := ""
		if macs {
			mac = fmt.Sprintf(", mac: \"52:54:00:00:00:%02x\"", i+1)
		}
		fmt.Fprintf(&b, "  - {name: n%d, ip: 10.0.0.%d, roles: [%s]%s}\n", i+1, i+1, roles, mac)
	}
	return b.String()
}

// rendered is one description rendered the way users render it.
type rendered struct {
	c     *cluster.Cluster
	files map[string][]byte // node/file
}

func render1(t *testing.T, d description) rendered {
	t.Helper()
	var c *cluster.Cluster
	var rep *cluster.Report
	if d.file != "" {
		var err error
		if c, rep, err = cluster.LoadFile(d.file); err != nil {
			t.Fatal(err)
		}
	} else {
		c, rep = cluster.Load(d.name+".yaml", []byte(d.text))
	}
	if err := rep.Err(false); err != nil {
		t.Fatalf("%s:\n%v\n%s", d.name, err, d.text)
	}
	var tls map[string]pki.Material
	if c.UsesTLS() {
		// A fresh PKI each time: `swarmboot render` issues one the same way.
		p, err := pki.Prepare(c, t.TempDir(), time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC), false)
		if err != nil {
			t.Fatal(err)
		}
		tls = p.Material
	}
	plan, err := delivery.Options{Formats: testutil.EveryFormat()}.Plan(c, nil)
	if err != nil {
		t.Fatalf("%s: %v", d.name, err)
	}
	res, err := plan.Deliver(tls)
	if err != nil {
		t.Fatalf("%s: %v", d.name, err)
	}
	return rendered{c, res.Files}
}

// TestRenderedConfigsKeepTheirContracts renders every description and
// holds each node's every config against its profile's contract.
func TestRenderedConfigsKeepTheirContracts(t *testing.T) {
	tally := newTally()
	t.Run("descriptions", func(t *testing.T) {
		for _, d := range descriptions(t) {
			t.Run(d.name, func(t *testing.T) {
				t.Parallel()
				checkRendered(t, d, tally)
			})
		}
	})
	tally.require(t)
}

// checkRendered renders d and holds every node's every config to its
// profile's contract.
func checkRendered(t *testing.T, d description, tally *tally) {
	r := render1(t, d)
	for i := range r.c.Nodes {
		n := &r.c.Nodes[i]
		contract, ok := profiles.ContractOf(n.System)
		if !ok {
			t.Fatalf("%s: profile %s has no contract", n.Name, n.Profile)
		}
		for _, f := range n.System.Formats {
			v := readView(t, f, r.files[n.Name+"/"+f.File()])
			s := subject{t: t, c: r.c, n: n, p: n.System, k: contract, v: v, files: r.files, tally: tally}
			s.checkAll()
		}
	}
}

// tally counts, per check and profile, the configs a check found
// something to hold: a check that never ran on a profile proves nothing.
type tally struct {
	mu     sync.Mutex
	counts map[string]map[string]int
}

func newTally() *tally { return &tally{counts: map[string]map[string]int{}} }

func (t *tally) count(check, profile string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts[check] == nil {
		t.counts[check] = map[string]int{}
	}
	t.counts[check][profile]++
}

// required are the checks each profile must have met on some config.
var required = map[string][]string{
	"etcd TLS files visible":             {"ubuntu", "debian-12", "debian-13", "debian-14", "flatcar", "fcos", "coreos"},
	"TLS mounts readable":                {"ubuntu", "debian-12", "debian-13", "debian-14", "flatcar", "fcos", "coreos"},
	"dockerd flags":                      {"ubuntu", "debian-12", "debian-13", "debian-14", "flatcar", "fcos", "coreos"},
	"engine command line kept":           {"ubuntu", "debian-12", "debian-13", "debian-14", "flatcar", "fcos", "coreos"},
	"commands exist":                     {"ubuntu", "debian-12", "debian-13", "debian-14", "flatcar", "fcos", "coreos"},
	"NIC names selected":                 {"ubuntu", "debian-12", "debian-13", "debian-14", "flatcar", "fcos", "coreos"},
	"interface selected":                 {"ubuntu", "debian-12", "debian-13", "debian-14", "flatcar", "fcos", "coreos"},
	"MAC selected":                       {"ubuntu", "debian-12", "debian-13", "debian-14", "flatcar", "fcos", "coreos"},
	"drop-ins on shipped units":          {"ubuntu", "debian-12", "debian-13", "debian-14", "flatcar", "fcos", "coreos"},
	"owners exist":                       {"flatcar", "coreos"},
	"agent tools shipped":                {"ubuntu", "debian-12", "debian-13", "debian-14", "flatcar", "fcos", "coreos"},
	"agent renews what etcd reads":       {"ubuntu", "debian-12", "debian-13", "debian-14", "flatcar", "fcos", "coreos"},
	"engine restarted with live-restore": {"ubuntu", "debian-12", "debian-13", "debian-14", "flatcar", "fcos", "coreos"},
}

func (t *tally) require(tt *testing.T) {
	var missing []string
	for check, profs := range required {
		for _, p := range profs {
			if t.counts[check][p] == 0 {
				missing = append(missing, check+" on "+p)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 && !tt.Failed() {
		tt.Errorf("checks that found nothing to hold: %s", strings.Join(missing, "; "))
	}
}
