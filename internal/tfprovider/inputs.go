package tfprovider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/swarmboot/swarmboot"
	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/delivery/target"
	"github.com/swarmboot/swarmboot/profiles"
)

// inputs are the arguments as the library takes them.
type inputs struct {
	// attr is the argument holding the description (path or content):
	// where Terraform points its diagnostics.
	attr    path.Path
	file    string // the description's file; "" for content
	content string
	pkiDir  string
	strict  bool
	// target is the provider the user-data goes to (nil: none).
	target  *target.Target
	options swarmboot.Options
}

// inputs checks the arguments and turns them into library options. It
// runs at validation too, when some arguments may be unknown yet: what
// is unknown is checked at the read.
func (m clusterModel) inputs(ctx context.Context) (inputs, diag.Diagnostics) {
	var in inputs
	var diags diag.Diagnostics
	switch {
	case m.Content.IsUnknown() || m.Path.IsUnknown():
	case m.Content.IsNull() == m.Path.IsNull():
		diags.AddAttributeError(path.Root("content"), "Give content or path",
			"swarmboot_cluster reads one cluster description: set exactly one of content (the YAML) and path (its file).")
	case !m.Path.IsNull():
		in.attr, in.file = path.Root("path"), m.Path.ValueString()
	default:
		in.attr, in.content = path.Root("content"), m.Content.ValueString()
	}
	in.pkiDir = m.PKIDir.ValueString()
	in.strict = m.Strict.ValueBool()
	if name := m.Target.ValueString(); name != "" {
		if t, err := target.Lookup(name); err != nil {
			diags.AddAttributeError(path.Root("target"), "Unknown target", err.Error())
		} else {
			in.target = &t
		}
	}
	formats, fd := m.formats(ctx)
	diags.Append(fd...)
	in.options = swarmboot.Options{
		File:    in.file,
		PKI:     in.pkiDir,
		PKIMode: swarmboot.ReadOnly,
		Strict:  in.strict,
		Delivery: delivery.Options{
			Formats: formats,
			Primary: true, // one config per node: the one its provider takes
			Target:  in.buildTarget(),
		},
	}
	return in, diags
}

// buildTarget is the target as Build checks it: without its size limit,
// which the provider checks on user_data_base64, the form that is
// shipped (Build would check the uncompressed user_data and refuse a node
// whose gzip fits). Its other advice (IMDSv2 for keys in user-data on
// AWS) stays Build's.
func (in inputs) buildTarget() *target.Target {
	if in.target == nil {
		return nil
	}
	t := *in.target
	t.Limit = 0
	return &t
}

// formats reads the formats argument: one format per profile or family.
// Butane is refused: it is source text for people, which no node boots.
func (m clusterModel) formats(ctx context.Context) (map[string][]profiles.Format, diag.Diagnostics) {
	if m.Formats.IsNull() || m.Formats.IsUnknown() {
		return nil, nil
	}
	for _, v := range m.Formats.Elements() {
		if v.IsUnknown() {
			return nil, nil // known at the read
		}
	}
	var named map[string]string
	diags := m.Formats.ElementsAs(ctx, &named, false)
	if diags.HasError() {
		return nil, diags
	}
	out := map[string][]profiles.Format{}
	for _, name := range slices.Sorted(maps.Keys(named)) {
		at := path.Root("formats").AtMapKey(name)
		f, ok := profiles.ParseFormat(named[name])
		switch {
		case !ok:
			diags.AddAttributeError(at, "Unknown format",
				fmt.Sprintf("%s = %q: formats are %s", name, named[name], profiles.JoinFormats(shippable(profiles.AllFormats()))))
			continue
		case f.Source():
			diags.AddAttributeError(at, "Butane is not user-data",
				fmt.Sprintf("%s = %q: Butane is source text for people, which no node reads; give ignition, the config Butane becomes", name, named[name]))
			continue
		}
		one := map[string][]profiles.Format{name: {f}}
		if err := (delivery.Options{Formats: one}).Validate(); err != nil {
			diags.AddAttributeError(at, "Format does not fit", err.Error())
			continue
		}
		out[name] = one[name]
	}
	return out, diags
}

// shippable leaves out the formats that are source text.
func shippable(fs []profiles.Format) []profiles.Format {
	var out []profiles.Format
	for _, f := range fs {
		if !f.Source() {
			out = append(out, f)
		}
	}
	return out
}

// description is the description's bytes: content, or path's file.
func (in inputs) description() ([]byte, diag.Diagnostics) {
	var diags diag.Diagnostics
	if in.file == "" {
		return []byte(in.content), nil
	}
	data, err := os.ReadFile(in.file)
	if err != nil {
		hint := ""
		if errors.Is(err, os.ErrNotExist) {
			hint = fmt.Sprintf(" Paths are relative to Terraform's working directory; write one with `swarmboot init %s`.", in.file)
		}
		diags.AddAttributeError(in.attr, "Cannot read the cluster description", err.Error()+"."+hint)
	}
	return data, diags
}

// named is the description as commands name it: the file, or FILE for
// content (saved to a file to run them), with pki_dir as --pki.
func (in inputs) named() string {
	file := in.file
	if file == "" {
		file = "FILE"
	}
	if in.pkiDir != "" {
		file += " --pki " + in.pkiDir
	}
	return file
}
