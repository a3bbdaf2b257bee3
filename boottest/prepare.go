package boottest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/swarmboot/swarmboot/boottest/dockerarchive"
)

// Environment variables that steer the boot test.
const (
	// EnvCache: where the swarm binary, its archive and the VM image are
	// kept between runs (default DefaultCache), outside the repository.
	EnvCache = "SWARMBOOT_BOOTTEST_CACHE"
	// EnvShared: the shared/ folder holding third_party/classic-swarm
	// (default: ../shared beside the repository).
	EnvShared = "SWARMBOOT_SHARED"
	// EnvRendered: use this already rendered directory (DIR/<node>/...)
	// instead of running `swarmboot render`; for debugging user-data.
	EnvRendered = "SWARMBOOT_BOOTTEST_RENDERED"
	// EnvWork: keep the run's VM files (overlays, logs) here instead of a
	// temporary directory removed after the test.
	EnvWork = "SWARMBOOT_BOOTTEST_WORK"
)

// DefaultCache is the cache directory when EnvCache is not set.
const DefaultCache = "/var/cache/swarmboot-boottest"

// Env returns the environment variable's value or def.
func Env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// run runs a command, its stderr passed through to the test log on error.
func run(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(stderr.String(), 40))
	}
	return string(out), nil
}

// SwarmArchive builds the real classic-swarm 1.2.9 binary (cached by its
// build script) and packs it as a `docker load` archive of swarm:1.2.9.
func SwarmArchive(ctx context.Context, shared, cache string) (string, error) {
	script := filepath.Join(shared, "third_party", "classic-swarm", "build.sh")
	binDir := filepath.Join(cache, "swarm-bin")
	if _, err := run(ctx, "", "bash", script, binDir); err != nil {
		return "", err
	}
	bin, err := os.ReadFile(filepath.Join(binDir, "swarm"))
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := dockerarchive.Write(&buf, dockerarchive.SwarmImage("swarm:1.2.9", bin)); err != nil {
		return "", err
	}
	archive := filepath.Join(cache, "swarm-1.2.9.tar")
	// Deterministic output: rewrite only when it changed.
	if old, err := os.ReadFile(archive); err == nil && bytes.Equal(old, buf.Bytes()) {
		return archive, nil
	}
	tmp := archive + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	return archive, os.Rename(tmp, archive)
}

// BuildImage runs image/build.sh (a no-op when its cache is warm).
func BuildImage(ctx context.Context, pkgDir, cache, archive string) (Image, error) {
	out, err := run(ctx, "", "bash", filepath.Join(pkgDir, "image", "build.sh"), cache, archive)
	if err != nil {
		return Image{}, err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return NewImage(lines[len(lines)-1]), nil
}

// Render runs `swarmboot render FILE -o DIR` from the repository root.
func Render(ctx context.Context, repoRoot, description, outDir string) error {
	abs, err := filepath.Abs(description)
	if err != nil {
		return err
	}
	_, err = run(ctx, repoRoot, "go", "run", "./cmd/swarmboot", "render", abs, "-o", outDir)
	return err
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
