package delivery_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/delivery/encode"
	"github.com/swarmboot/swarmboot/delivery/target"
	"github.com/swarmboot/swarmboot/gz"
	"github.com/swarmboot/swarmboot/internal/testutil"
	"github.com/swarmboot/swarmboot/pki"
	"github.com/swarmboot/swarmboot/profiles"
	"github.com/swarmboot/swarmboot/render"
)

// build plans and delivers with the cluster's certificates, issued by a
// fresh PKI as a first render would.
func build(t *testing.T, c *cluster.Cluster, keep func(*cluster.Node) bool, o delivery.Options) (*delivery.Result, error) {
	t.Helper()
	return deliver(c, keep, o, material(t, c))
}

// deliver is delivery's path: Plan, then Deliver with these certificates.
func deliver(c *cluster.Cluster, keep func(*cluster.Node) bool, o delivery.Options, tls map[string]pki.Material) (*delivery.Result, error) {
	p, err := o.Plan(c, keep)
	if err != nil {
		return nil, err
	}
	return p.Deliver(tls)
}

func material(t *testing.T, c *cluster.Cluster) map[string]pki.Material {
	t.Helper()
	p, err := pki.Prepare(c, t.TempDir(), time.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	return p.Material
}

func load(t *testing.T, file string) *cluster.Cluster {
	t.Helper()
	c, rep, err := cluster.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(false); err != nil {
		t.Fatalf("invalid description:\n%v", err)
	}
	return c
}

// TestApplyLeavesOutputsAlone: delivery builds new bytes; render's
// outputs are the same after every encoding and packaging.
func TestApplyLeavesOutputsAlone(t *testing.T) {
	c := load(t, "../examples/combined.yaml")
	tls := material(t, c)
	for _, o := range []delivery.Options{
		{Encoding: encode.Gzip},
		{Encoding: encode.GzipBase64},
		{Encoding: encode.Base64},
		{Packaging: delivery.NoCloudISO, Encoding: encode.Gzip},
	} {
		outs, err := render.Render(c, render.Options{Jobs: render.AllJobs(c), TLS: tls})
		if err != nil {
			t.Fatal(err)
		}
		var before [][]byte
		for _, out := range outs {
			for _, a := range out.Artifacts {
				before = append(before, bytes.Clone(a.Data))
			}
		}
		res, err := delivery.Apply(c, outs, o)
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		i := 0
		for _, out := range outs {
			for _, a := range out.Artifacts {
				if !bytes.Equal(a.Data, before[i]) {
					t.Errorf("%+v: %s/%s changed under delivery", o, out.Node.Name, a.Name)
				}
				i++
			}
		}
		// Writing into the result must not reach render's bytes either.
		for _, data := range res.Files {
			for j := range data {
				data[j] ^= 0xff
			}
		}
		i = 0
		for _, out := range outs {
			for _, a := range out.Artifacts {
				if !bytes.Equal(a.Data, before[i]) {
					t.Errorf("%+v: %s/%s shares bytes with the result", o, out.Node.Name, a.Name)
				}
				i++
			}
		}
	}
}

// TestEncodingRules: gzip reaches cloud-config as gzip, Ignition as a
// wrapper config, and Butane (source text) not at all.
func TestEncodingRules(t *testing.T) {
	c := load(t, "../golden/discovery-url/cluster.yaml")
	tls := material(t, c)
	every := testutil.EveryFormat()
	plain, err := deliver(c, nil, delivery.Options{Formats: every}, tls)
	if err != nil {
		t.Fatal(err)
	}
	zipped, err := deliver(c, nil, delivery.Options{Formats: every, Encoding: encode.Gzip}, tls)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range zipped.Files {
		switch {
		case strings.HasSuffix(name, "/config.bu"), strings.HasSuffix(name, "/meta-data"):
			if !bytes.Equal(data, plain.Files[name]) {
				t.Errorf("%s was encoded; it is not user-data", name)
			}
		case strings.HasSuffix(name, "/config.ign"):
			if !bytes.Contains(data, []byte(`"compression":"gzip"`)) || gz.Is(data) {
				t.Errorf("%s is not an Ignition gzip wrapper: %.80s", name, data)
			}
		case strings.HasSuffix(name, "/user-data"):
			if !gz.Is(data) {
				t.Errorf("%s is not gzip", name)
			}
		}
	}
}

func TestValidateRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    delivery.Options
		want string
	}{
		{"base64 in a seed image", delivery.Options{Packaging: delivery.NoCloudISO, Encoding: encode.Base64}, "does not base64-decode"},
		{"gzip+base64 in a seed image", delivery.Options{Packaging: delivery.NoCloudISO, Encoding: encode.GzipBase64}, "does not base64-decode"},
		{"encoded matchbox", delivery.Options{Packaging: delivery.Matchbox, Encoding: encode.Gzip}, "matchbox serves"},
		{"encoded Butane", delivery.Options{Format: profiles.Butane, Encoding: encode.Gzip}, "Butane is source text"},
		{"encoded Vagrant", delivery.Options{Packaging: delivery.Vagrant, Encoding: encode.Gzip}, "Vagrant hands"},
		{"format with a packaging", delivery.Options{Packaging: delivery.Matchbox, Format: profiles.Ignition}, "chooses the format itself"},
		{"one node of matchbox", delivery.Options{Packaging: delivery.Matchbox, Primary: true}, "use -o DIR"},
		{"Vagrant memory", delivery.Options{Packaging: delivery.Vagrant, Vagrant: delivery.VagrantOptions{Memory: 10}}, "--memory 10"},
		{"Vagrant box of no profile", delivery.Options{Packaging: delivery.Vagrant, Vagrant: delivery.VagrantOptions{Boxes: map[string]string{"gentoo": "x"}}}, "unknown profile"},
		{"unknown packaging", delivery.Options{Packaging: "floppy"}, "unknown packaging"},
	} {
		err := tc.o.Validate()
		var oe *delivery.OptionError
		if err == nil || !errors.As(err, &oe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v; want an OptionError with %q", tc.name, err, tc.want)
		}
	}
	if err := (delivery.Options{Packaging: delivery.NoCloudISO, Encoding: encode.Gzip}).Validate(); err != nil {
		t.Errorf("gzip in a seed image is fine: %v", err)
	}
}

// TestFormatRefusedNamesEveryNode: a forced format or packaging that some
// nodes cannot take names them all, before anything is rendered.
func TestFormatRefusedNamesEveryNode(t *testing.T) {
	c := load(t, "../examples/combined.yaml")
	for _, o := range []delivery.Options{{Format: profiles.Ignition}, {Packaging: delivery.Matchbox}} {
		_, err := build(t, c, nil, o)
		var oe *delivery.OptionError
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), "node-1 (ubuntu: cloud-config), node-2 (ubuntu: cloud-config), node-3") {
			t.Errorf("%+v: %v; want every node named", o, err)
		}
	}
}

// TestSnippetsMustReach: a Butane snippet a Flatcar node would carry is
// an error, not a silent drop, when the node is rendered in a format that
// cannot carry it (coreos-cloudconfig, or Vagrant, which needs it).
func TestSnippetsMustReach(t *testing.T) {
	c := load(t, "../golden/snippets/cluster.yaml")
	for _, o := range []delivery.Options{
		{Format: profiles.CoreOSCloudConfig},
		{Packaging: delivery.Vagrant},
	} {
		keep := func(n *cluster.Node) bool { return n.Name == "db-3" }
		_, err := build(t, c, keep, o)
		if !errors.Is(err, render.ErrSnippetUnreached) || !strings.Contains(err.Error(), "node db-3: snippets would be left out: its butane snippets (") || !strings.Contains(err.Error(), "chrony.bu") {
			t.Errorf("%+v: %v; want the dropped Butane snippet named", o, err)
		}
	}
	// The Ubuntu/Debian nodes never carry Butane: no error for them.
	keep := func(n *cluster.Node) bool { return n.Name != "db-3" }
	if _, err := build(t, c, keep, delivery.Options{Packaging: delivery.Vagrant}); err != nil {
		t.Errorf("Vagrant for the Debian nodes: %v", err)
	}
	// A node's own coreos-cloudconfig snippet is lost under Ignition.
	own := load(t, "testdata/own-coreos-snippet.yaml")
	if _, err := build(t, own, nil, delivery.Options{}); !errors.Is(err, render.ErrSnippetUnreached) || !strings.Contains(err.Error(), "its coreos-cloudconfig snippets") {
		t.Errorf("a node's own coreos-cloudconfig snippet under Ignition: %v", err)
	}
	if _, err := build(t, own, nil, delivery.Options{Format: profiles.CoreOSCloudConfig}); err != nil {
		t.Errorf("rendered as coreos-cloudconfig it is carried: %v", err)
	}
}

// TestTargetNamesEveryNodeTooLarge: one run names every node over the limit.
func TestTargetNamesEveryNodeTooLarge(t *testing.T) {
	c := load(t, "../examples/combined.yaml")
	tiny := target.Target{Name: "tiny", Limit: 100, Source: "https://example.com/limits"}
	_, err := build(t, c, nil, delivery.Options{Target: &tiny})
	if err == nil {
		t.Fatal("100-byte limit passed")
	}
	for _, n := range []string{`"node-1"`, `"node-2"`, `"node-3"`} {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error does not name %s:\n%v", n, err)
		}
	}
}

// TestPrimary: render --node's file per packaging.
func TestPrimary(t *testing.T) {
	c := load(t, "../golden/discovery-url/cluster.yaml")
	for _, tc := range []struct {
		o    delivery.Options
		node string
		want string
	}{
		{delivery.Options{Primary: true}, "etcd-a", "etcd-a/user-data"},
		{delivery.Options{Primary: true}, "worker-a", "worker-a/config.ign"},
		{delivery.Options{Primary: true, Format: profiles.CoreOSCloudConfig}, "worker-a", "worker-a/user-data"},
		{delivery.Options{Primary: true, Packaging: delivery.NoCloudISO}, "etcd-a", "etcd-a/seed.iso"},
	} {
		res, err := build(t, c, func(n *cluster.Node) bool { return n.Name == tc.node }, tc.o)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Primary[tc.node]; got != tc.want || len(res.Files[got]) == 0 {
			t.Errorf("%+v: primary %q (%d bytes), want %q", tc.o, got, len(res.Files[got]), tc.want)
		}
		if _, ok := res.Files[tc.node+"/config.bu"]; ok {
			t.Errorf("%+v: Butane rendered beside the primary config", tc.o)
		}
	}
}

// TestAWSSecretsAdvice: keys in user-data on AWS bring the IMDSv2 advice;
// the plain form, which holds none, does not.
func TestAWSSecretsAdvice(t *testing.T) {
	aws, err := target.Lookup("aws")
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]bool{"../examples/secure.yaml": true, "../examples/seed.yaml": false} {
		c := load(t, file)
		res, err := build(t, c, nil, delivery.Options{Target: &aws})
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Contains(messages(res.Warnings), "HttpTokens=required,HttpPutResponseHopLimit=1")
		if got != want || (len(res.Secrets) > 0) != want {
			t.Errorf("%s: IMDSv2 advice %v, secrets %v; want %v", file, got, res.Secrets, want)
		}
	}
}

// messages joins the warnings' messages, one a line.
func messages(ws []delivery.Warning) string {
	var b strings.Builder
	for _, w := range ws {
		b.WriteString(w.Message + "\n")
	}
	return b.String()
}
