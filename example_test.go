package swarmboot_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/swarmboot/swarmboot"
)

// A description in, every node's user-data out, in memory: nothing is
// written until Commit, and a build that may not write (ReadOnly, as a
// Terraform read) never locks or issues anything. This one is the seed's
// plain form, so its findings warn about it.
func Example() {
	description := []byte(`version: 1
cluster: demo
etcd: {tls: false}
docker: {tls: false}
nodes:
  - {name: etcd-01, ip: 10.0.0.11, roles: [etcd]}
  - {name: docker-01, ip: 10.0.0.21, roles: [docker, manager], profile: flatcar}
ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKZGePaSh4ubTK9UavI4Z5FLgPGTmdMKCwyyhocrgBfS ops@example"]
`)
	res, err := swarmboot.Build(context.Background(), description, swarmboot.Options{
		File:    "demo.yaml",
		PKIMode: swarmboot.ReadOnly,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range res.Findings {
		fmt.Printf("%s:%d:%d: %s at %s\n", f.File, f.Line, f.Column, f.Severity, f.Path)
	}
	for _, n := range res.Nodes {
		first, _, _ := bytes.Cut(res.Files[n.Primary], []byte("\n"))
		fmt.Printf("%s (%s): %s in %s, starting %.20q\n", n.Name, n.Profile, n.Format, n.Primary, first)
	}
	// Output:
	// demo.yaml:3:13: warning at $.etcd.tls
	// demo.yaml:4:15: warning at $.docker.tls
	// etcd-01 (ubuntu): cloud-config in etcd-01/user-data, starting "#cloud-config"
	// docker-01 (flatcar): ignition in docker-01/config.ign, starting "{\"ignition\":{\"versio"
}
