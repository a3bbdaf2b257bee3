// Package testflags defines the flags shared by every test package, so
// that `go test ./... -update` is accepted by all of them (go test hands
// each flag to every package's test binary).
package testflags

import "flag"

// Update rewrites golden files instead of comparing against them.
var Update = flag.Bool("update", false, "rewrite golden files")
