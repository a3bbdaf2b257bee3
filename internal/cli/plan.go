package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/swarmboot/swarmboot"
	"github.com/swarmboot/swarmboot/output"
	"github.com/swarmboot/swarmboot/plan"
)

// errChanges: the plan said what would change; exit 3, as `terraform plan
// -detailed-exitcode` tells changes from none.
var errChanges = errors.New("changes")

// planRender builds as a render does, never commits (the PKI keeps what
// it has; the build's new certificates are dropped), and prints what the
// render would change in the output folder.
func planRender(e env, file string, o swarmboot.Options, asJSON bool) error {
	res, err := build(e, file, o)
	if err != nil {
		return err
	}
	defer res.Close()
	old, err := output.ReadTree(o.Output)
	if err != nil {
		return err
	}
	p, err := plan.Compare(plan.Input{
		Output: o.Output, Old: old, New: res.Files, Cluster: res.Cluster,
		Description: res.Description(), PKI: res.PKI.Changes,
	})
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(p); err != nil {
			return err
		}
	} else {
		writePlan(e, p)
	}
	if p.Changes() {
		return errChanges
	}
	return nil
}

// planMarks are the signs terraform plan uses.
var planMarks = map[plan.Status]string{plan.New: "+", plan.Removed: "-", plan.Changed: "~", plan.Unchanged: " "}

// writePlan prints the plan for people.
func writePlan(e env, p *plan.Plan) {
	w := e.stdout
	fmt.Fprintf(w, "Plan for %s (nothing written):\n", p.Output)
	for _, n := range p.Nodes {
		if n.Status == plan.Unchanged {
			continue
		}
		var files []string
		for _, f := range n.Files {
			files = append(files, f.Path+" ("+f.Change+")")
		}
		fmt.Fprintf(w, "\n%s %s: %s\n", planMarks[n.Status], n.Name, n.Status)
		if n.Status == plan.Changed {
			fmt.Fprintf(w, "    files: %s\n", strings.Join(files, ", "))
		}
		for _, y := range n.Why {
			fmt.Fprintf(w, "    why: %s\n", y)
		}
		for _, r := range n.Running {
			fmt.Fprintf(w, "    on the running node: %s\n", r)
		}
		for _, f := range n.Files {
			if f.Diff != "" {
				fmt.Fprintf(w, "%s", indent(f.Diff, "    "))
			}
		}
	}
	for _, f := range p.Other {
		fmt.Fprintf(w, "\n~ %s: %s\n%s", f.Path, f.Change, indent(f.Diff, "    "))
	}
	fmt.Fprintf(w, "\nPlan: %d to add, %d to change, %d to remove, %d unchanged.\n",
		p.Count(plan.New), p.Count(plan.Changed), p.Count(plan.Removed), p.Count(plan.Unchanged))
}

func indent(s, by string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return by + strings.Join(lines, "\n"+by) + "\n"
}
