package render

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/internal/consumers"
)

// FuzzRender holds the renderer to more than "no panic": every description
// that validates must render, through the parallel Tree users run, and
// every file it writes must parse: Ignition with Ignition's validator,
// Butane with Butane (strict), the YAML formats as YAML, meta-data and
// network-config too. Seeds: every golden case and example.
func FuzzRender(f *testing.F) {
	for _, pattern := range []string{"../golden/*/cluster.yaml", "../examples/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil && !strings.Contains(string(data), "snippets:") {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, rep := cluster.Load("fuzz.yaml", data)
		if rep.Err(false) != nil || len(c.Snippets.CloudConfig)+len(c.Snippets.Butane)+len(c.Snippets.CoreOSCloudConfig) > 0 {
			return
		}
		for i := range c.Nodes {
			if n := c.Nodes[i].Snippets; len(n.CloudConfig)+len(n.Butane)+len(n.CoreOSCloudConfig) > 0 {
				return
			}
		}
		outs, err := Render(c, Options{Jobs: AllJobs(c), TLS: testTLS(c)})
		if err != nil {
			t.Fatalf("a valid description does not render: %v\n%s", err, data)
		}
		tree := map[string][]byte{}
		for _, o := range outs {
			for _, a := range o.Artifacts {
				tree[o.Node.Name+"/"+a.Name] = a.Data
			}
		}
		for name, out := range tree {
			var err error
			switch {
			case strings.HasSuffix(name, ".ign"):
				err = consumers.Ignition(out)
			case strings.HasSuffix(name, ".bu"):
				_, err = consumers.Butane(out)
			default:
				var v any
				err = yaml.Unmarshal(out, &v)
				if err == nil && strings.HasSuffix(name, "/user-data") && !strings.HasPrefix(string(out), "#cloud-config\n") {
					err = json.Unmarshal(out, &v) // only YAML formats write user-data
				}
			}
			if err != nil {
				t.Fatalf("%s does not parse: %v\n%s\n--- description ---\n%s", name, err, out, data)
			}
		}
	})
}
