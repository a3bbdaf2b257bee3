// Package templates holds the text of every file and unit swarmboot writes
// onto a node. The renderer fills them in; no unit text lives anywhere else.
package templates

import (
	"embed"
	"strings"
	"text/template"
)

//go:embed *.tmpl
var files embed.FS

var set = template.Must(template.New("").
	Option("missingkey=error").
	Funcs(template.FuncMap{"unitQuote": UnitQuote}).
	ParseFS(files, "*.tmpl"))

// Execute fills in the named template ("swarm.service" for swarm.service.tmpl).
func Execute(name string, data any) (string, error) {
	var b strings.Builder
	if err := set.ExecuteTemplate(&b, name+".tmpl", data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// unitQuoter escapes what a double-quoted word of a systemd unit line
// gives a meaning of its own: '\' and '"' (quoting, systemd.syntax(7)) and
// '%' (specifiers, systemd.unit(5): %n would become the unit's name).
var unitQuoter = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%")

// UnitQuote returns s escaped for the inside of "..." on a unit line such
// as Environment="KEY=VALUE", so that systemd reads s back unchanged.
func UnitQuote(s string) string { return unitQuoter.Replace(s) }
