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

var set = template.Must(template.New("").Option("missingkey=error").ParseFS(files, "*.tmpl"))

// Execute fills in the named template ("swarm.service" for swarm.service.tmpl).
func Execute(name string, data any) (string, error) {
	var b strings.Builder
	if err := set.ExecuteTemplate(&b, name+".tmpl", data); err != nil {
		return "", err
	}
	return b.String(), nil
}
