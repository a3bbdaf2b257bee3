// Package boottest boots swarmboot's output in QEMU and checks that the
// nodes come up as a working etcd-backed classic Swarm cluster.
//
// The helpers here (network namespace, VMs, seeds, checks) are plain code,
// built and vetted with the rest of the module; the tests that start VMs
// carry the `boot` build tag, so `go test ./...` never boots anything:
//
//	go test -tags boot -run 'TestBoot|TestIgnition' -v -timeout 60m ./boottest/
//
// See README.md for what the test proves and how long it takes.
package boottest
