package tfprovider

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/swarmboot/swarmboot"
	_ "github.com/swarmboot/swarmboot/internal/testutil" // go test ./... -update reaches every package
)

// provider is the provider as Terraform talks to it: the framework's
// protocol 6 server, configured, with the data source's schema.
type server struct {
	server tfprotov6.ProviderServer
	schema *tfprotov6.Schema
	typ    tftypes.Object
}

func newProvider(t testing.TB) *server {
	t.Helper()
	ctx := context.Background()
	s, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	sr, err := s.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || len(sr.Diagnostics) > 0 {
		t.Fatalf("GetProviderSchema: %v %v", err, diagText(sr.Diagnostics))
	}
	ds := sr.DataSourceSchemas["swarmboot_cluster"]
	if ds == nil {
		t.Fatalf("no swarmboot_cluster among %v", sr.DataSourceSchemas)
	}
	ptyp := sr.Provider.ValueType()
	pcfg, err := tfprotov6.NewDynamicValue(ptyp, tftypes.NewValue(ptyp, map[string]tftypes.Value{}))
	if err != nil {
		t.Fatal(err)
	}
	cr, err := s.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{TerraformVersion: "1.11.4", Config: &pcfg})
	if err != nil || len(cr.Diagnostics) > 0 {
		t.Fatalf("ConfigureProvider: %v %v", err, diagText(cr.Diagnostics))
	}
	return &server{server: s, schema: ds, typ: ds.ValueType().(tftypes.Object)}
}

// args are a data source block's arguments; the others are null.
type args map[string]any

// config is args as the object Terraform sends.
func (p *server) config(t testing.TB, a args) *tfprotov6.DynamicValue {
	t.Helper()
	vals := map[string]tftypes.Value{}
	for name, typ := range p.typ.AttributeTypes {
		var v any
		switch x := a[name].(type) {
		case tftypes.Value: // unknown, as before a value is known
			vals[name] = x
			continue
		case nil:
		case map[string]string:
			m := map[string]tftypes.Value{}
			for k, s := range x {
				m[k] = tftypes.NewValue(tftypes.String, s)
			}
			v = m
		default:
			v = x
		}
		vals[name] = tftypes.NewValue(typ, v)
	}
	for name := range a {
		if _, ok := p.typ.AttributeTypes[name]; !ok {
			t.Fatalf("no argument %q in the schema", name)
		}
	}
	dv, err := tfprotov6.NewDynamicValue(p.typ, tftypes.NewValue(p.typ, vals))
	if err != nil {
		t.Fatal(err)
	}
	return &dv
}

// validate is Terraform's validation of a data block alone, as at
// `terraform validate` or before values are known.
func (p *server) validate(t testing.TB, a args) []*tfprotov6.Diagnostic {
	t.Helper()
	vr, err := p.server.ValidateDataResourceConfig(context.Background(), &tfprotov6.ValidateDataResourceConfigRequest{TypeName: "swarmboot_cluster", Config: p.config(t, a)})
	if err != nil {
		t.Fatal(err)
	}
	return vr.Diagnostics
}

// read is what Terraform does for a data block: validate, then read. It
// returns the state (null when the read failed) and every diagnostic.
func (p *server) read(t testing.TB, a args) (tftypes.Value, []*tfprotov6.Diagnostic) {
	t.Helper()
	vdiags := p.validate(t, a)
	if hasError(vdiags) {
		return tftypes.NewValue(p.typ, nil), vdiags
	}
	rr, err := p.server.ReadDataSource(context.Background(), &tfprotov6.ReadDataSourceRequest{TypeName: "swarmboot_cluster", Config: p.config(t, a)})
	if err != nil {
		t.Fatal(err)
	}
	diags := append(vdiags, rr.Diagnostics...)
	if rr.State == nil || hasError(rr.Diagnostics) {
		// Terraform keeps no state of a read that failed.
		return tftypes.NewValue(p.typ, nil), diags
	}
	state, err := rr.State.Unmarshal(p.typ)
	if err != nil {
		t.Fatal(err)
	}
	return state, diags
}

// mustRead is a read that succeeds, with its warnings.
func (p *server) mustRead(t testing.TB, a args) (readState, []*tfprotov6.Diagnostic) {
	t.Helper()
	state, diags := p.read(t, a)
	if hasError(diags) || state.IsNull() {
		t.Fatalf("read failed:\n%s", diagText(diags))
	}
	return decode(t, state), diags
}

// readState is the state of a read, decoded.
type readState struct {
	Nodes     map[string]nodeModel
	CACertPEM string
	NotAfter  string
}

func decode(t testing.TB, state tftypes.Value) readState {
	t.Helper()
	var attrs map[string]tftypes.Value
	must(t, state.As(&attrs))
	var c readState
	must(t, attrs["ca_cert_pem"].As(&c.CACertPEM))
	must(t, attrs["not_after"].As(&c.NotAfter))
	var nodes map[string]tftypes.Value
	must(t, attrs["nodes"].As(&nodes))
	c.Nodes = map[string]nodeModel{}
	for name, v := range nodes {
		var o map[string]tftypes.Value
		must(t, v.As(&o))
		var n nodeModel
		for key, dst := range map[string]*string{"user_data": &n.UserData, "user_data_base64": &n.UserDataBase64, "format": &n.Format, "ip": &n.IP, "profile": &n.Profile} {
			must(t, o[key].As(dst))
		}
		var roles []tftypes.Value
		must(t, o["roles"].As(&roles))
		for _, r := range roles {
			var s string
			must(t, r.As(&s))
			n.Roles = append(n.Roles, s)
		}
		c.Nodes[name] = n
	}
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func hasError(diags []*tfprotov6.Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			return true
		}
	}
	return false
}

// diagText prints diagnostics as Terraform would list them, one a line.
func diagText(diags []*tfprotov6.Diagnostic) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "%s: %s [%v]\n  %s\n", d.Severity, d.Summary, d.Attribute, strings.ReplaceAll(d.Detail, "\n", "\n  "))
	}
	return b.String()
}

// only returns the diagnostics of one severity.
func only(diags []*tfprotov6.Diagnostic, sev tfprotov6.DiagnosticSeverity) []*tfprotov6.Diagnostic {
	var out []*tfprotov6.Diagnostic
	for _, d := range diags {
		if d.Severity == sev {
			out = append(out, d)
		}
	}
	return out
}

// attrIs reports whether a diagnostic points at the root argument name.
func attrIs(d *tfprotov6.Diagnostic, name string) bool {
	return d.Attribute != nil && d.Attribute.Equal(tftypes.NewAttributePath().WithAttributeName(name))
}

// example copies examples/NAME into a fresh folder and returns its path.
func example(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return write(t, t.TempDir(), name, string(data))
}

func write(t testing.TB, dir, name, text string) string {
	t.Helper()
	file := filepath.Join(dir, name)
	must(t, os.MkdirAll(filepath.Dir(file), 0o755))
	must(t, os.WriteFile(file, []byte(text), 0o644))
	return file
}

// render is `swarmboot render FILE -o DIR` through the library, as the
// operator runs it before Terraform: the PKI issued and committed with
// the output. It returns the output folder.
func render(t testing.TB, file string) string {
	t.Helper()
	return renderAt(t, file, time.Time{})
}

// renderAt renders as if the time were now (zero: the real time).
func renderAt(t testing.TB, file string, now time.Time) string {
	t.Helper()
	out := filepath.Join(filepath.Dir(file), "out")
	data, err := os.ReadFile(file)
	must(t, err)
	res, err := swarmboot.Build(context.Background(), data, swarmboot.Options{File: file, Output: out, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Commit(); err != nil {
		t.Fatal(err)
	}
	return out
}

// tree is every file and folder under dir with its mode, modification
// time and bytes: a read that writes anything changes it.
func tree(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		var data []byte
		if !d.IsDir() {
			if data, err = os.ReadFile(p); err != nil {
				return err
			}
		}
		out[p] = fmt.Sprintf("%v %d %x", fi.Mode(), fi.ModTime().UnixNano(), data)
		return nil
	})
	must(t, err)
	return out
}
