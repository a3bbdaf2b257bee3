// Command swarmboot turns one cluster description into the boot-time
// user-data of every node of an etcd-backed classic Docker Swarm cluster.
package main

import (
	"os"

	"github.com/swarmboot/swarmboot/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
