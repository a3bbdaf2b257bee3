package encode

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/swarmboot/swarmboot/internal/testutil"
)

// Debian's ignition package ships the agent itself here, not on PATH.
const ignitionAgent = "/usr/lib/dracut/modules.d/30ignition/ignition"

// The real Ignition agent (Debian's 2.14, spec <= 3.3.0) fetches the wrapper, follows the
// gzip data URL in ignition.config.replace and writes the inner config's
// files: proof that the wrapper is read, not just valid.
func TestWrapperWithIgnitionAgent(t *testing.T) {
	if _, err := os.Stat(ignitionAgent); err != nil {
		if testutil.InCI() {
			t.Fatalf("%s missing; CI must install Debian's ignition (scripts/install-deps.sh)", ignitionAgent)
		}
		t.Skip("Debian package ignition not installed")
	}
	dir := t.TempDir()
	w, err := WrapIgnitionGzip(sampleIgnition)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "wrapper.ign")
	root := filepath.Join(dir, "root")
	for path, data := range map[string][]byte{
		cfg: w,
		// Debian's build always relabels: it needs a policy name and runs
		// setfiles, which a stand-in on PATH answers (labels are not what
		// this test is about).
		filepath.Join(root, "etc/selinux/config"): []byte("SELINUX=disabled\nSELINUXTYPE=targeted\n"),
		filepath.Join(dir, "bin/setfiles"):        []byte("#!/bin/sh\ncat >/dev/null\n"),
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Keep the agent's cache and state in the test's directory, not /run.
	common := []string{"-platform", "file", "-log-to-stdout",
		"-config-cache", filepath.Join(dir, "cache.json"),
		"-state-file", filepath.Join(dir, "state"),
		"-neednet", filepath.Join(dir, "neednet")}
	for _, stage := range [][]string{{"-stage", "fetch"}, {"-stage", "files", "-root", root}} {
		cmd := exec.Command(ignitionAgent, append(common, stage...)...)
		cmd.Env = append(os.Environ(), "IGNITION_CONFIG_FILE="+cfg,
			"PATH="+filepath.Join(dir, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ignition %v: %v\n%s", stage, err, out)
		}
	}
	// sampleIgnition holds units only; the first and last must be written.
	for _, unit := range []string{"swarm-join-0.service", "swarm-join-39.service"} {
		if _, err := os.Stat(filepath.Join(root, "etc/systemd/system", unit)); err != nil {
			t.Errorf("Ignition did not write %s from the wrapped config: %v", unit, err)
		}
	}
}
