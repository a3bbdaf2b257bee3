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
	// EnvCache: where the swarm archive and the VM images are kept
	// between runs (default DefaultCache), outside the repository.
	EnvCache = "SWARMBOOT_BOOTTEST_CACHE"
	// EnvRendered: use this already rendered directory (DIR/<node>/...)
	// instead of running `swarmboot render`; for debugging user-data.
	EnvRendered = "SWARMBOOT_BOOTTEST_RENDERED"
	// EnvPKI: with EnvRendered, the PKI directory that render was given
	// (--pki); the checks of a TLS description use its client/.
	EnvPKI = "SWARMBOOT_BOOTTEST_PKI"
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

// BuildSwarmModel builds the project's model of classic swarm 1.2.9
// (./boottest/cmd/swarm; classic swarm itself cannot be had here, see
// swarmmodel) as a static binary in cache and returns its path.
func BuildSwarmModel(ctx context.Context, repoRoot, cache string) (string, error) {
	bin := filepath.Join(cache, "swarm-model")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./boottest/cmd/swarm")
	build.Dir = repoRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the swarm model: %v\n%s", err, out)
	}
	return bin, nil
}

// SwarmArchive packs the swarm model as a `docker load` archive of
// swarm:1.2.9, the image the rendered units run.
func SwarmArchive(ctx context.Context, repoRoot, cache string) (string, error) {
	bin, err := BuildSwarmModel(ctx, repoRoot, cache)
	if err != nil {
		return "", err
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := dockerarchive.Write(&buf, dockerarchive.SwarmImage("swarm:1.2.9", binary)); err != nil {
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

// The VM image variants image/build.sh makes (see its header).
const (
	ImageBookworm       = "bookworm"        // Debian 12: docker.io 20.10, etcd 3.4
	ImageForky          = "forky"           // Debian 14 (testing): docker.io 28.5, etcd 3.5
	ImageForkyDocker29  = "forky-docker29"  // forky with Docker 29's dockerd from moby's module
	ImageForkyLocalRepo = "forky-localrepo" // forky without etcd and Docker, a local apt repository
)

// BuildImage runs image/build.sh for the variant (a no-op when its cache
// is warm).
func BuildImage(ctx context.Context, pkgDir, cache, archive, variant string) (Image, error) {
	out, err := run(ctx, "", "bash", filepath.Join(pkgDir, "image", "build.sh"), cache, archive, variant)
	if err != nil {
		return Image{}, err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return NewImage(lines[len(lines)-1]), nil
}

// Render runs `swarmboot render FILE -o DIR --pki PKI` from the
// repository root. A TLS description gets its CA, node and client
// certificates in pkiDir (made on the first render), never beside the
// description in testdata.
func Render(ctx context.Context, swarmboot, description, outDir, pkiDir string, flags ...string) error {
	abs, err := filepath.Abs(description)
	if err != nil {
		return err
	}
	_, err = run(ctx, "", swarmboot, append([]string{"render", abs, "-o", outDir, "--pki", pkiDir}, flags...)...)
	return err
}

// BuildSwarmboot builds the command line the boot test renders and
// verifies with, as users run it.
func BuildSwarmboot(ctx context.Context, repoRoot, out string) error {
	_, err := run(ctx, repoRoot, "go", "build", "-trimpath", "-o", out, "./cmd/swarmboot")
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
