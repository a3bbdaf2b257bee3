package tfprovider

import (
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/swarmboot/swarmboot"
	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/pki"
)

// findings are the library's findings as diagnostics on the argument that
// holds the description. Each detail says where, as `swarmboot validate`
// prints it (FILE:LINE:COL: SEVERITY at $.path: what to do), so editors
// and people find the line; each summary names the path, so Terraform
// does not fold different warnings into one.
func (in inputs) findings(fs []swarmboot.Finding) diag.Diagnostics {
	var diags diag.Diagnostics
	for _, f := range fs {
		summary := "Delivery " + f.Severity
		if f.Path != "" {
			summary = "Cluster description " + f.Severity + " at " + f.Path
		}
		detail := in.where(f) + ": " + f.Severity
		if f.Path != "" {
			detail += " at " + f.Path
		}
		detail += ": " + f.Message
		switch {
		case f.Severity == cluster.Error.String():
			diags.AddAttributeError(in.attr, summary, detail)
		case in.strict:
			diags.AddAttributeError(in.attr, summary+" (strict)", detail+"\n\nstrict = true makes every warning an error.")
		default:
			diags.AddAttributeWarning(in.attr, summary, detail)
		}
	}
	return diags
}

// where is a finding's file and line:column. The library names a
// description without a file <stdin>; here it is the content argument.
func (in inputs) where(f swarmboot.Finding) string {
	file := f.File
	if in.file == "" && file == "<stdin>" {
		file = "content"
	}
	if f.Line == 0 {
		return file
	}
	return fmt.Sprintf("%s:%d:%d", file, f.Line, f.Column)
}

// failure is Build's error as a diagnostic that says what to do. An
// invalid description's findings are its errors already (reported).
func (in inputs) failure(err error, reported bool) diag.Diagnostics {
	var diags diag.Diagnostics
	pkiAttr := in.attr
	if in.pkiDir != "" {
		pkiAttr = path.Root("pki_dir")
	}
	var opt *delivery.OptionError // a delivery choice, here formats
	switch {
	case errors.Is(err, swarmboot.ErrInvalid):
		if !reported {
			diags.AddAttributeError(in.attr, "Invalid cluster description", err.Error())
		}
	case errors.Is(err, pki.ErrNoCA):
		diags.AddAttributeError(pkiAttr, "No PKI for this cluster", fmt.Sprintf(
			"%v.\n\nA read never creates keys or files. Make the cluster's CA and certificates first, "+
				"with `swarmboot pki init %s` (or `swarmboot render %s -o DIR`), then plan again.", err, in.named(), in.named()))
	case errors.Is(err, pki.ErrWouldIssue):
		diags.AddAttributeError(pkiAttr, "The PKI must issue certificates", fmt.Sprintf(
			"%v.\n\nA read never issues a certificate. Issue them with `swarmboot render %s -o DIR` "+
				"(`swarmboot pki renew %s` for those near expiry), then plan again.", err, in.named(), in.named()))
	case errors.As(err, &opt) && len(in.options.Delivery.Formats) > 0:
		diags.AddAttributeError(path.Root("formats"), "Formats do not fit the nodes", err.Error())
	default:
		diags.AddAttributeError(in.attr, "Cannot build the cluster's user-data", err.Error())
	}
	return diags
}
