package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/swarmboot/swarmboot"
	"github.com/swarmboot/swarmboot/cluster"
)

// read takes the description's bytes from FILE, or standard input for
// "-", no further than cluster.MaxInputSize (and one byte, so Load can
// say it is too large); name is how findings call it.
func read(e env, file string) (data []byte, name string, err error) {
	r, name := e.stdin, "<stdin>"
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, "", fmt.Errorf("cannot read %s: no such file (create one with `swarmboot init %s`)", file, file)
			}
			return nil, "", fmt.Errorf("cannot read %s: %w", file, err)
		}
		defer f.Close()
		r, name = f, file
	}
	data, err = io.ReadAll(io.LimitReader(r, cluster.MaxInputSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("cannot read %s: %w", file, err)
	}
	return data, name, nil
}

// build reads FILE and runs the library's one call with o, printing the
// description's findings as it goes: a description at fault becomes
// errReported (exit 1), the findings said it all.
func build(e env, file string, o swarmboot.Options) (*swarmboot.Result, error) {
	res, err := buildQuiet(e, file, o)
	if res != nil {
		fmt.Fprint(e.stderr, res.Report.String())
	}
	var invalid *swarmboot.InvalidError
	if errors.As(err, &invalid) {
		if !res.Report.IsFatal(o.Strict) {
			warn(e, res) // the delivery's warnings, fatal under --strict
		}
		fmt.Fprintf(e.stderr, "%s: %s\n", res.Report.File, invalid.Summary)
		return nil, errReported
	}
	if err != nil {
		return nil, err
	}
	warn(e, res)
	return res, nil
}

// buildQuiet is build without a word: the caller reports the findings
// (--json). A description at fault returns the result and its
// *swarmboot.InvalidError.
func buildQuiet(e env, file string, o swarmboot.Options) (*swarmboot.Result, error) {
	data, name, err := read(e, file)
	if err != nil {
		return nil, err
	}
	o.File = name
	return swarmboot.Build(context.Background(), data, o)
}

// findingsJSON is what --json prints: every finding as data, for editors
// and CI, and whether the description passed.
type findingsJSON struct {
	File     string              `json:"file"`
	Valid    bool                `json:"valid"`
	Summary  string              `json:"summary,omitempty"`
	Findings []swarmboot.Finding `json:"findings"`
}

// printFindings writes res's findings as JSON to standard output; a
// description at fault is errReported (exit 1) after it.
func printFindings(e env, res *swarmboot.Result, err error) error {
	var invalid *swarmboot.InvalidError
	if err != nil && !errors.As(err, &invalid) {
		return err
	}
	out := findingsJSON{File: res.Report.File, Valid: err == nil, Findings: res.Findings}
	if out.Findings == nil {
		out.Findings = []swarmboot.Finding{}
	}
	if invalid != nil {
		out.Summary = invalid.Summary
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if werr := enc.Encode(out); werr != nil {
		return werr
	}
	if invalid != nil {
		return errReported
	}
	return nil
}

// load reads, validates and reports a description, for the commands that
// need the cluster alone (pki, verify). Findings go to stderr; a fatal
// report becomes errReported (exit 1).
func load(e env, file string, strict bool) (*cluster.Cluster, error) {
	data, name, err := read(e, file)
	if err != nil {
		return nil, err
	}
	c, rep := cluster.Load(name, data)
	fmt.Fprint(e.stderr, rep.String())
	if rep.IsFatal(strict) {
		fmt.Fprintf(e.stderr, "%s: %s\n", rep.File, swarmboot.Summary(rep, strict))
		return nil, errReported
	}
	return c, nil
}
