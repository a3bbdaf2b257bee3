// Package examples embeds the starter descriptions, so `swarmboot init`
// writes the same text the docs show and tests can load every example.
package examples

import "embed"

// FS holds every example description (*.yaml).
//
//go:embed *.yaml
var FS embed.FS

// Starter is what `swarmboot init` writes.
const Starter = "starter.yaml"
