package tfprovider

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/swarmboot/swarmboot"
	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/delivery/encode"
	"github.com/swarmboot/swarmboot/profiles"
)

// position is the line and column (1-based) where value starts, at its
// first occurrence after near: where the library must point.
func position(t testing.TB, text, near, value string) string {
	t.Helper()
	at := strings.Index(text, near)
	if at < 0 {
		t.Fatalf("%q not in the description", near)
	}
	at += strings.Index(text[at:], value)
	line := strings.Count(text[:at], "\n") + 1
	col := at - strings.LastIndex(text[:at], "\n")
	return fmt.Sprintf("%d:%d", line, col)
}

// TestReadTLS: a TLS description whose PKI the operator rendered first.
// Every node's user_data is the file `swarmboot render` wrote, with its
// key; ca_cert_pem is the CA's certificate and not_after the earliest
// node certificate's expiry. Two reads give the same state, and neither
// changes a byte, mode or time of anything beside the description.
func TestReadTLS(t *testing.T) {
	file := example(t, "secure.yaml")
	dir := filepath.Dir(file)
	out := render(t, file)
	before := tree(t, dir)
	p := newProvider(t)

	state, diags := p.read(t, args{"path": file})
	if len(diags) > 0 || state.IsNull() {
		t.Fatalf("read:\n%s", diagText(diags))
	}
	got := decode(t, state)
	want := map[string]struct {
		ip, profile, format string
		roles               []string
	}{
		"etcd-01":   {"192.168.101.101", "ubuntu", "cloud-config", []string{"etcd"}},
		"etcd-02":   {"192.168.101.102", "ubuntu", "cloud-config", []string{"etcd"}},
		"etcd-03":   {"192.168.101.103", "ubuntu", "cloud-config", []string{"etcd"}},
		"docker-01": {"192.168.101.111", "flatcar", "ignition", []string{"docker", "manager"}},
		"docker-02": {"192.168.101.112", "flatcar", "ignition", []string{"docker"}},
		"docker-03": {"192.168.101.113", "flatcar", "ignition", []string{"docker"}},
	}
	if len(got.Nodes) != len(want) {
		t.Fatalf("%d nodes, want %d", len(got.Nodes), len(want))
	}
	for name, w := range want {
		n := got.Nodes[name]
		if n.IP != w.ip || n.Profile != w.profile || n.Format != w.format || !slices.Equal(n.Roles, w.roles) {
			t.Errorf("%s: %+v, want %+v", name, n, w)
		}
		rendered, err := os.ReadFile(filepath.Join(out, name, profiles.Format(w.format).File()))
		must(t, err)
		if n.UserData != string(rendered) {
			t.Errorf("%s: user_data is not the file swarmboot render wrote", name)
		}
		if !strings.Contains(n.UserData, "PRIVATE KEY") && !strings.Contains(n.UserData, `"path":"/etc/swarmboot/tls/key.pem"`) {
			t.Errorf("%s: user_data holds no key: not the TLS config", name)
		}
		if n.UserDataBase64 != base64.StdEncoding.EncodeToString(rendered) {
			t.Errorf("%s: without a target, user_data_base64 is not the config in base64", name)
		}
	}
	ca, err := os.ReadFile(filepath.Join(dir, "pki", "ca.pem"))
	must(t, err)
	if got.CACertPEM != string(ca) {
		t.Errorf("ca_cert_pem is not pki/ca.pem:\n%s", got.CACertPEM)
	}
	if want := earliestNotAfter(t, filepath.Join(dir, "pki", "nodes", "*", "cert.pem")); got.NotAfter != want {
		t.Errorf("not_after %q, want the earliest node certificate's %q", got.NotAfter, want)
	}

	again, diags := p.read(t, args{"path": file})
	if len(diags) > 0 || !again.Equal(state) {
		t.Errorf("a second read differs:\n%s", diagText(diags))
	}
	if after := tree(t, dir); !reflect.DeepEqual(after, before) {
		t.Errorf("a read changed files:\n%s", treeDiff(before, after))
	}
}

// earliestNotAfter reads the certificates that match pattern itself.
func earliestNotAfter(t testing.TB, pattern string) string {
	t.Helper()
	certs, err := filepath.Glob(pattern)
	must(t, err)
	var first time.Time
	for _, f := range certs {
		data, err := os.ReadFile(f)
		must(t, err)
		b, _ := pem.Decode(data)
		c, err := x509.ParseCertificate(b.Bytes)
		must(t, err)
		if first.IsZero() || c.NotAfter.Before(first) {
			first = c.NotAfter
		}
	}
	if len(certs) == 0 {
		t.Fatalf("no certificates match %s", pattern)
	}
	return first.UTC().Format(time.RFC3339)
}

func treeDiff(before, after map[string]string) string {
	var b strings.Builder
	for p, v := range after {
		if before[p] != v {
			fmt.Fprintf(&b, "changed or new: %s\n", p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			fmt.Fprintf(&b, "removed: %s\n", p)
		}
	}
	return b.String()
}

// TestNotAfterIsTheEarliest: not_after is the expiry of the node whose
// certificate expires first, not of any other: here the six issued a
// month ago, not docker-04 issued today.
func TestNotAfterIsTheEarliest(t *testing.T) {
	file := example(t, "secure.yaml")
	renderAt(t, file, time.Now().Add(-30*24*time.Hour))
	text, _ := os.ReadFile(file)
	must(t, os.WriteFile(file, append(text, "  - {name: docker-04, ip: 192.168.101.114, roles: [docker], profile: flatcar}\n"...), 0o644))
	render(t, file)
	got, _ := newProvider(t).mustRead(t, args{"path": file})
	nodes := filepath.Join(filepath.Dir(file), "pki", "nodes")
	early, late := earliestNotAfter(t, filepath.Join(nodes, "etcd-01", "cert.pem")), earliestNotAfter(t, filepath.Join(nodes, "docker-04", "cert.pem"))
	if early >= late {
		t.Fatalf("the test needs docker-04 to expire last: %s, %s", early, late)
	}
	if want := earliestNotAfter(t, filepath.Join(nodes, "*", "cert.pem")); got.NotAfter != want || want != early {
		t.Errorf("not_after %s, want the earliest %s", got.NotAfter, want)
	}
}

// TestReadSeed: the seed's plain form needs no PKI. Its two warnings are
// warning diagnostics on path, each with the file and line:col where the
// description says tls: false; the read still succeeds, without CA.
func TestReadSeed(t *testing.T) {
	file := example(t, "seed.yaml")
	text, _ := os.ReadFile(file)
	p := newProvider(t)
	got, diags := p.mustRead(t, args{"path": file})
	if len(got.Nodes) != 6 || got.CACertPEM != "" || got.NotAfter != "" {
		t.Fatalf("%d nodes, ca %q, not_after %q", len(got.Nodes), got.CACertPEM, got.NotAfter)
	}
	warnings := only(diags, tfprotov6.DiagnosticSeverityWarning)
	if len(warnings) != 2 || len(diags) != 2 {
		t.Fatalf("want 2 warnings:\n%s", diagText(diags))
	}
	for i, key := range []string{"etcd", "docker"} {
		d := warnings[i]
		at := fmt.Sprintf("%s:%s: warning at $.%s.tls: ", file, position(t, string(text), key+":\n  tls:", "false"), key)
		if !strings.HasPrefix(d.Detail, at) || !attrIs(d, "path") || !strings.Contains(d.Summary, "$."+key+".tls") {
			t.Errorf("warning %d: want detail starting %q on path:\n%s", i, at, diagText(diags[i:i+1]))
		}
	}
	for name, n := range got.Nodes {
		if strings.Contains(n.UserData, "PRIVATE KEY") {
			t.Errorf("%s: the plain form holds a key", name)
		}
	}
}

// TestFormatsPerProfile: formats gives a profile's nodes another format,
// the others keep theirs; a format a profile does not read, Butane (no
// node boots source text), an unknown format or profile are errors on
// that key of formats.
func TestFormatsPerProfile(t *testing.T) {
	file := example(t, "seed.yaml")
	p := newProvider(t)
	got, _ := p.mustRead(t, args{"path": file, "formats": map[string]string{"flatcar": "coreos-cloudconfig"}})
	for name, n := range got.Nodes {
		want := "cloud-config"
		if n.Profile == "flatcar" {
			want = "coreos-cloudconfig"
		}
		if n.Format != want || !strings.HasPrefix(n.UserData, "#cloud-config") {
			t.Errorf("%s (%s): format %s, want %s; starts %.20q", name, n.Profile, n.Format, want, n.UserData)
		}
	}
	for _, c := range []struct {
		formats map[string]string
		key     string
		says    string
	}{
		{map[string]string{"ubuntu": "ignition"}, "ubuntu", "does not read ignition"},
		{map[string]string{"flatcar": "butane"}, "flatcar", "give ignition"},
		{map[string]string{"flatcar": "yaml"}, "flatcar", "formats are cloud-config"},
		{map[string]string{"plan9": "ignition"}, "plan9", `unknown profile "plan9"`},
	} {
		_, diags := p.read(t, args{"path": file, "formats": c.formats})
		errs := only(diags, tfprotov6.DiagnosticSeverityError)
		at := tftypes.NewAttributePath().WithAttributeName("formats").WithElementKeyString(c.key)
		if len(errs) != 1 || !errs[0].Attribute.Equal(at) || !strings.Contains(errs[0].Detail, c.says) {
			t.Errorf("formats %v: want one error on formats[%q] saying %q:\n%s", c.formats, c.key, c.says, diagText(diags))
		}
	}
}

// TestMissingPKI: a TLS description without its PKI fails the read,
// saying which command makes it, and the read makes nothing.
func TestMissingPKI(t *testing.T) {
	file := example(t, "secure.yaml")
	dir := filepath.Dir(file)
	before := tree(t, dir)
	p := newProvider(t)
	for _, c := range []struct {
		a        args
		attr     string
		commands []string
	}{
		{args{"path": file}, "path", []string{"`swarmboot pki init " + file + "`", "`swarmboot render " + file + " -o DIR`"}},
		{args{"path": file, "pki_dir": filepath.Join(dir, "elsewhere")}, "pki_dir", []string{"`swarmboot pki init " + file + " --pki " + filepath.Join(dir, "elsewhere") + "`"}},
	} {
		state, diags := p.read(t, c.a)
		errs := only(diags, tfprotov6.DiagnosticSeverityError)
		if !state.IsNull() || len(errs) != 1 || !attrIs(errs[0], c.attr) || errs[0].Summary != "No PKI for this cluster" {
			t.Fatalf("%v: want one error on %s:\n%s", c.a, c.attr, diagText(diags))
		}
		for _, cmd := range c.commands {
			if !strings.Contains(errs[0].Detail, cmd) {
				t.Errorf("%v: the error does not say to run %s:\n%s", c.a, cmd, errs[0].Detail)
			}
		}
	}
	if after := tree(t, dir); !reflect.DeepEqual(after, before) {
		t.Errorf("a failed read changed files:\n%s", treeDiff(before, after))
	}
}

// TestNodeToIssue: a node the PKI has no certificate for fails the read,
// naming it and the render that issues it; nothing is issued.
func TestNodeToIssue(t *testing.T) {
	file := example(t, "secure.yaml")
	dir := filepath.Dir(file)
	render(t, file)
	text, _ := os.ReadFile(file)
	grown := string(text) + "  - {name: docker-04, ip: 192.168.101.114, roles: [docker], profile: flatcar}\n"
	must(t, os.WriteFile(file, []byte(grown), 0o644))
	before := tree(t, dir)
	state, diags := newProvider(t).read(t, args{"path": file})
	errs := only(diags, tfprotov6.DiagnosticSeverityError)
	if !state.IsNull() || len(errs) != 1 || !attrIs(errs[0], "path") ||
		!strings.Contains(errs[0].Detail, "docker-04") || !strings.Contains(errs[0].Detail, "`swarmboot render "+file+" -o DIR`") {
		t.Fatalf("want one error naming docker-04 and the render to run:\n%s", diagText(diags))
	}
	if after := tree(t, dir); !reflect.DeepEqual(after, before) {
		t.Errorf("a failed read changed files:\n%s", treeDiff(before, after))
	}
}

// TestInvalidDescription: each error is an error diagnostic on the
// argument that holds the description, with the file and line:col of
// the value at fault in its detail.
func TestInvalidDescription(t *testing.T) {
	seed, err := os.ReadFile(filepath.Join("..", "..", "examples", "seed.yaml"))
	must(t, err)
	text := strings.Replace(string(seed), "ip: 192.168.101.112", "ip: 192.168.101.300", 1)
	text = strings.Replace(text, "port: 8333", "port: 99999", 1)
	file := write(t, t.TempDir(), "bad.yaml", text)
	p := newProvider(t)
	for _, c := range []struct {
		a    args
		name string
		attr string
	}{{args{"path": file}, file, "path"}, {args{"content": text}, "content", "content"}} {
		state, diags := p.read(t, c.a)
		errs := only(diags, tfprotov6.DiagnosticSeverityError)
		if !state.IsNull() || len(errs) != 2 {
			t.Fatalf("want 2 errors:\n%s", diagText(diags))
		}
		for i, w := range []struct{ at, near, value string }{
			{"$.swarm.manager.port", "manager:", "99999"},
			{"$.nodes[4].ip", "docker-02", "192.168.101.300"},
		} {
			prefix := fmt.Sprintf("%s:%s: error at %s: ", c.name, position(t, text, w.near, w.value), w.at)
			if !slices.ContainsFunc(errs, func(d *tfprotov6.Diagnostic) bool {
				return strings.HasPrefix(d.Detail, prefix) && attrIs(d, c.attr) && strings.Contains(d.Summary, w.at)
			}) {
				t.Errorf("error %d: none on %s with a detail starting %q:\n%s", i, c.attr, prefix, diagText(errs))
			}
		}
	}
}

// TestStrict: strict makes the description's warnings errors, and the
// delivery's (user-data holding keys on AWS) too; the read fails.
func TestStrict(t *testing.T) {
	p := newProvider(t)
	seed := example(t, "seed.yaml")
	state, diags := p.read(t, args{"path": seed, "strict": true})
	if !state.IsNull() || len(only(diags, tfprotov6.DiagnosticSeverityError)) != 2 || len(only(diags, tfprotov6.DiagnosticSeverityWarning)) != 0 {
		t.Fatalf("strict seed: want its 2 warnings as errors and no state:\n%s", diagText(diags))
	}
	secure := example(t, "secure.yaml")
	render(t, secure)
	_, diags = p.mustRead(t, args{"path": secure, "target": "aws"})
	if w := only(diags, tfprotov6.DiagnosticSeverityWarning); len(w) != 1 || !strings.Contains(w[0].Detail, "HttpPutResponseHopLimit=1") {
		t.Fatalf("aws with keys in user-data: want the IMDSv2 warning:\n%s", diagText(diags))
	}
	state, diags = p.read(t, args{"path": secure, "target": "aws", "strict": true})
	if errs := only(diags, tfprotov6.DiagnosticSeverityError); !state.IsNull() || len(errs) != 1 || !strings.Contains(errs[0].Detail, "HttpPutResponseHopLimit=1") {
		t.Fatalf("strict: want the IMDSv2 warning as an error:\n%s", diagText(diags))
	}
}

// TestContentOrPath: content and path give the same nodes; the content's
// findings name it; exactly one of them is required.
func TestContentOrPath(t *testing.T) {
	file := example(t, "seed.yaml")
	text, _ := os.ReadFile(file)
	p := newProvider(t)
	byPath, _ := p.mustRead(t, args{"path": file})
	byContent, diags := p.mustRead(t, args{"content": string(text)})
	if !reflect.DeepEqual(byPath, byContent) {
		t.Error("content and path of the same description read differently")
	}
	if w := only(diags, tfprotov6.DiagnosticSeverityWarning); len(w) != 2 || !strings.HasPrefix(w[0].Detail, "content:"+position(t, string(text), "etcd:\n  tls:", "false")+": ") || !attrIs(w[0], "content") {
		t.Errorf("content's warnings must name content and line:col:\n%s", diagText(diags))
	}
	for _, a := range []args{{}, {"path": file, "content": string(text)}} {
		state, diags := p.read(t, a)
		if errs := only(diags, tfprotov6.DiagnosticSeverityError); !state.IsNull() || len(errs) != 1 || !strings.Contains(errs[0].Detail, "exactly one of content (the YAML) and path") {
			t.Errorf("%d of content and path: want one error:\n%s", len(a), diagText(diags))
		}
	}
	state, diags := p.read(t, args{"path": filepath.Join(t.TempDir(), "none.yaml")})
	if errs := only(diags, tfprotov6.DiagnosticSeverityError); !state.IsNull() || len(errs) != 1 || !strings.Contains(errs[0].Detail, "swarmboot init") {
		t.Errorf("a missing file: want one error saying how to make one:\n%s", diagText(diags))
	}
}

// TestValidate: terraform validate catches what it can before any read
// (both of content and path, an unknown target or format) and lets
// through what is not known yet.
func TestValidate(t *testing.T) {
	p := newProvider(t)
	unknown := tftypes.NewValue(tftypes.String, tftypes.UnknownValue)
	for _, c := range []struct {
		a    args
		want string // the attribute of the one error; "" for none
	}{
		{args{"path": unknown, "formats": map[string]tftypes.Value{"flatcar": unknown}, "target": unknown}, ""},
		{args{"path": "cluster.yaml", "content": unknown}, ""},
		{args{"path": "cluster.yaml", "content": "version: 1"}, "content"},
		{args{"path": "cluster.yaml", "target": "ec2"}, "target"},
		{args{"path": "cluster.yaml", "formats": map[string]string{"flatcar": "cloud-config"}}, "formats"},
	} {
		diags := p.validate(t, c.a)
		errs := only(diags, tfprotov6.DiagnosticSeverityError)
		switch {
		case c.want == "" && len(diags) > 0:
			t.Errorf("%v: want no diagnostics:\n%s", c.a, diagText(diags))
		case c.want != "" && (len(errs) != 1 || errs[0].Attribute.String() == "" || !strings.HasPrefix(errs[0].Attribute.String(), `AttributeName("`+c.want+`")`)):
			t.Errorf("%v: want one error on %s:\n%s", c.a, c.want, diagText(diags))
		}
	}
}

// TestSensitivity: in the schema Terraform receives, the user-data
// attributes are sensitive and nothing else is, the nodes map least of
// all: Terraform refuses a sensitive for_each (terraform_test.go shows it).
func TestSensitivity(t *testing.T) {
	p := newProvider(t)
	sensitive := map[string]bool{}
	for _, a := range p.schema.Block.Attributes {
		sensitive[a.Name] = a.Sensitive
		if a.Name == "nodes" {
			if a.NestedType == nil || a.NestedType.Nesting != tfprotov6.SchemaObjectNestingModeMap {
				t.Fatalf("nodes is not a map of nested attributes: %+v", a)
			}
			for _, n := range a.NestedType.Attributes {
				sensitive["nodes."+n.Name] = n.Sensitive
			}
		}
	}
	want := map[string]bool{
		"content": false, "path": false, "pki_dir": false, "formats": false, "strict": false, "target": false,
		"nodes": false, "ca_cert_pem": false, "not_after": false,
		"nodes.user_data": true, "nodes.user_data_base64": true,
		"nodes.format": false, "nodes.ip": false, "nodes.roles": false, "nodes.profile": false,
	}
	if !reflect.DeepEqual(sensitive, want) {
		t.Errorf("sensitive: %v\nwant %v", sensitive, want)
	}
}

// mixed is one node of each shipped format, in the plain form (no PKI).
const mixed = `version: 1
cluster: mixed
etcd: {tls: false}
docker: {tls: false}
nodes:
  - {name: etcd-01, ip: 10.0.0.11, roles: [etcd]}
  - {name: docker-01, ip: 10.0.0.21, roles: [docker, manager], profile: flatcar}
  - {name: docker-02, ip: 10.0.0.22, roles: [docker], profile: coreos}
`

// TestUserDataBase64: user_data_base64 is, byte for byte, what the
// library ships with --encode gzip for the target where the target carries
// gzip and the node's agent reads it (cloud-init, coreos-cloudinit; the
// Ignition wrapper), and the config as it is elsewhere.
func TestUserDataBase64(t *testing.T) {
	file := write(t, t.TempDir(), "mixed.yaml", mixed)
	p := newProvider(t)
	gzip, none := encode.Gzip, encode.None
	for _, c := range []struct {
		target string
		want   map[string]encode.Encoding
	}{
		{"aws", map[string]encode.Encoding{"etcd-01": gzip, "docker-01": gzip, "docker-02": gzip}},
		{"openstack", map[string]encode.Encoding{"etcd-01": gzip, "docker-01": gzip, "docker-02": gzip}},
		// On GCE only cloud-init decodes the base64 that gzip needs.
		{"gce", map[string]encode.Encoding{"etcd-01": gzip, "docker-01": gzip, "docker-02": none}},
		// DigitalOcean takes text only.
		{"digitalocean", map[string]encode.Encoding{"etcd-01": none, "docker-01": none, "docker-02": none}},
	} {
		got, _ := p.mustRead(t, args{"path": file, "target": c.target})
		for name, enc := range c.want {
			wantBytes := shippedByLibrary(t, file, name, enc)
			n := got.Nodes[name]
			if n.UserDataBase64 != base64.StdEncoding.EncodeToString(wantBytes) {
				t.Errorf("%s, %s (%s): user_data_base64 is not --encode %s's bytes", c.target, name, n.Format, enc)
			}
			if plain := shippedByLibrary(t, file, name, none); n.UserData != string(plain) {
				t.Errorf("%s, %s: user_data is not the config as rendered", c.target, name)
			}
		}
	}
}

// shippedByLibrary is node's primary config as `swarmboot render --node
// NAME --encode ENC` makes it.
func shippedByLibrary(t testing.TB, file, node string, enc encode.Encoding) []byte {
	t.Helper()
	data, err := os.ReadFile(file)
	must(t, err)
	res, err := swarmboot.Build(context.Background(), data, swarmboot.Options{
		File: file, Node: node, PKIMode: swarmboot.ReadOnly,
		Delivery: delivery.Options{Primary: true, Encoding: enc},
	})
	must(t, err)
	return res.Files[res.Nodes[0].Primary]
}

// TestSizeLimit: the target's limit applies to user_data_base64, the form
// that is shipped: a config over AWS's 16 KiB that fits gzipped reads
// fine; one that does not fit even gzipped fails, naming the node, its
// size and the limit.
func TestSizeLimit(t *testing.T) {
	dir := t.TempDir()
	big := func(name, content string) string {
		snippet := "write_files:\n  - path: /etc/big\n    content: " + content + "\n"
		write(t, dir, name+".yaml", snippet)
		return write(t, dir, name+"-cluster.yaml", strings.Replace(mixed, "roles: [etcd]}",
			"roles: [etcd], snippets: {cloud-config: ["+name+".yaml]}}", 1))
	}
	compressible := big("compressible", strings.Repeat("swarm ", 4000))
	random := make([]byte, 24000)
	_, _ = rand.Read(random)
	incompressible := big("incompressible", base64.StdEncoding.EncodeToString(random))
	p := newProvider(t)

	got, _ := p.mustRead(t, args{"path": compressible, "target": "aws"})
	n := got.Nodes["etcd-01"]
	payload, err := base64.StdEncoding.DecodeString(n.UserDataBase64)
	must(t, err)
	if len(n.UserData) <= 16384 || len(payload) > 16384 {
		t.Fatalf("want user_data over 16384 bytes and its gzip under: %d, %d", len(n.UserData), len(payload))
	}

	state, diags := p.read(t, args{"path": incompressible, "target": "aws"})
	errs := only(diags, tfprotov6.DiagnosticSeverityError)
	if !state.IsNull() || len(errs) != 1 || !attrIs(errs[0], "target") ||
		!strings.Contains(errs[0].Detail, `node "etcd-01"`) || !strings.Contains(errs[0].Detail, "limit of 16384 bytes") {
		t.Fatalf("want one error on target naming etcd-01 and the limit:\n%s", diagText(diags))
	}
	if _, diags := p.read(t, args{"path": incompressible}); hasError(diags) {
		t.Errorf("without a target there is no limit:\n%s", diagText(diags))
	}
}

// TestDeterministic: the same inputs give the same state however the
// gzip is scheduled, and every encoded form is the library's own bytes
// (TestUserDataBase64), so no time or order leaks into it.
func TestDeterministic(t *testing.T) {
	file := example(t, "secure.yaml")
	render(t, file)
	p := newProvider(t)
	a := args{"path": file, "target": "aws"}
	first, _ := p.read(t, a)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	second, _ := p.read(t, a)
	if first.IsNull() || !first.Equal(second) {
		t.Fatal("two reads of the same inputs differ")
	}
}
