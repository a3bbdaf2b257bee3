// Command swarm is swarmboot's model of classic Docker Swarm 1.2.9 (see
// boottest/swarmmodel). The boot test packs it as the swarm:1.2.9 image,
// where it runs as PID 1: SIGTERM and SIGINT end it cleanly.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/swarmboot/swarmboot/boottest/swarmmodel"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := swarmmodel.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
