// Command swarm-archive packs a static classic-swarm binary into a
// `docker load` archive of the swarm image, without a Docker daemon.
//
//	swarm-archive -bin PATH/swarm -o swarm-1.2.9.tar [-tag swarm:1.2.9]
//
// See dockerarchive.SwarmImage for what the image holds.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/swarmboot/swarmboot/boottest/dockerarchive"
)

func main() {
	bin := flag.String("bin", "", "static swarm binary")
	out := flag.String("o", "", "archive to write")
	tag := flag.String("tag", "swarm:1.2.9", "image repo tag")
	flag.Parse()
	if *bin == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*bin, *out, *tag); err != nil {
		fmt.Fprintln(os.Stderr, "swarm-archive:", err)
		os.Exit(1)
	}
}

func run(bin, out, tag string) error {
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	// Write beside the target and rename, so a reader never sees half.
	f, err := os.CreateTemp(filepath.Dir(out), ".swarm-archive-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := dockerarchive.Write(f, dockerarchive.SwarmImage(tag, data)); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), out)
}
