package cli

import (
	"fmt"
	"os"

	"github.com/swarmboot/swarmboot/cluster"
)

// load reads, validates and reports a description. Findings go to stderr;
// a fatal report becomes errReported (exit 1).
func load(e env, file string, strict bool) (*cluster.Cluster, error) {
	var (
		c   *cluster.Cluster
		rep *cluster.Report
		err error
	)
	if file == "-" {
		c, rep, err = cluster.LoadReader("<stdin>", e.stdin)
	} else {
		c, rep, err = cluster.LoadFile(file)
	}
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("cannot read %s: no such file (create one with `swarmboot init %s`)", file, file)
		}
		return nil, fmt.Errorf("cannot read %s: %w", file, err)
	}
	fmt.Fprint(e.stderr, rep.String())
	if err := rep.Err(strict); err != nil {
		errs, warns := countFindings(rep)
		if strict && errs == 0 {
			fmt.Fprintf(e.stderr, "%s: %d warning(s), fatal with --strict\n", rep.File, warns)
		} else {
			fmt.Fprintf(e.stderr, "%s: %d error(s), %d warning(s); nothing was written\n", rep.File, errs, warns)
		}
		return nil, errReported
	}
	return c, nil
}

func countFindings(rep *cluster.Report) (errs, warns int) {
	for _, en := range rep.Entries {
		if en.Severity == cluster.Error {
			errs++
		} else {
			warns++
		}
	}
	return
}
