package tfprovider

import (
	"encoding/base64"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/swarmboot/swarmboot"
	"github.com/swarmboot/swarmboot/delivery/encode"
	"github.com/swarmboot/swarmboot/delivery/target"
	"github.com/swarmboot/swarmboot/internal/parallel"
	"github.com/swarmboot/swarmboot/profiles"
)

// nodes is every delivered node as the nodes attribute holds it. The
// gzip of a thousand nodes is most of a read's work, so it runs on every
// CPU; each node's result depends on its config alone.
func (in inputs) nodes(res *swarmboot.Result) (map[string]nodeModel, diag.Diagnostics) {
	models := make([]nodeModel, len(res.Nodes))
	tooLarge := make([]string, len(res.Nodes))
	err := parallel.Do(len(res.Nodes), func(i int) error {
		n := res.Nodes[i]
		config := res.Files[n.Primary]
		payload, err := shippedForm(in.target, n.Format, config)
		if err != nil {
			return err
		}
		if in.target != nil && target.Check(*in.target, n.Name, n.Format, payload) != nil {
			tooLarge[i] = sizeAdvice(*in.target, n, config, payload)
		}
		models[i] = nodeModel{
			UserData:       string(config),
			UserDataBase64: base64.StdEncoding.EncodeToString(payload),
			Format:         string(n.Format),
			IP:             n.IP.String(),
			Roles:          n.Roles,
			Profile:        n.Profile,
		}
		return nil
	})
	var diags diag.Diagnostics
	if err != nil {
		diags.AddError("Cannot encode the user-data", err.Error())
		return nil, diags
	}
	out := make(map[string]nodeModel, len(models))
	for i, m := range models {
		out[res.Nodes[i].Name] = m
		if tooLarge[i] != "" {
			diags.AddAttributeError(path.Root("target"), "User-data too large for "+in.target.Name, tooLarge[i])
		}
	}
	return out, diags
}

// shippedForm is the payload of user_data_base64: what `swarmboot render
// --target T --encode gzip` ships where the target carries gzip and the
// format's agent reads it (cloud-init, coreos-cloudinit inflate gzip;
// Ignition reads a wrapper config carrying its config gzipped), and the
// config as it is elsewhere. A gzip the agent would not read is never
// chosen: target.EncodingAdvice names those cases.
func shippedForm(t *target.Target, f profiles.Format, config []byte) ([]byte, error) {
	switch {
	case t == nil || !t.Gzip:
		return config, nil
	case f == profiles.Ignition:
		return encode.WrapIgnitionGzip(config)
	case f.ReadsGzip() && target.EncodingAdvice(*t, f, encode.Gzip) == "":
		return encode.Encode(config, encode.Gzip)
	}
	return config, nil
}

// sizeAdvice says why a node does not fit: the target's own message for
// the uncompressed config (its size, the limit, what gzip would give),
// which is what the operator can act on.
func sizeAdvice(t target.Target, n swarmboot.Node, config, payload []byte) string {
	if err := target.Check(t, n.Name, n.Format, config); err != nil {
		return err.Error()
	}
	return target.Check(t, n.Name, n.Format, payload).Error()
}
