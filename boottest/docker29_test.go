//go:build boot

package boottest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/internal/testutil"
)

// TestDocker29NegativeControl shows that the Docker 29 failure is real and
// that swarmboot's drop-in is what fixes it, without a VM: in a private
// network namespace on the host, two Docker 29 daemons (built from moby's
// module, see image/build-dockerd.sh) join one swarm through a real etcd.
// One runs as Docker ships it, the other with exactly the environment
// swarmboot's docker.service drop-ins give it. The project's swarm model,
// which pins API 1.31 as classic swarm 1.2.9 does, must list the first
// engine as Pending with Docker's "too old" error, and the second Healthy.
func TestDocker29NegativeControl(t *testing.T) {
	ctx := testContext(t)
	RequireTools(t)
	etcdBin := testutil.NeedTool(t, "etcd", "etcd-server")
	containerd := testutil.NeedTool(t, "containerd", "containerd")
	cache := Env(EnvCache, DefaultCache)
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := run(ctx, "", "bash", "image/build-dockerd.sh", cache)
	if err != nil {
		t.Fatalf("Docker 29's dockerd: %v", err)
	}
	dockerBin := lastLine(out)
	swarm, err := BuildSwarmModel(ctx, "..", cache)
	if err != nil {
		t.Fatal(err)
	}
	fix, err := EngineEnvironment("debian-14")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(fix, "DOCKER_MIN_API_VERSION=1.24") {
		t.Fatalf("swarmboot's drop-ins give docker.service %v, without the API floor", fix)
	}

	dir := WorkDir(t, "docker29")
	ns, err := NewNetns()
	if err != nil {
		t.Fatal(err)
	}
	var procs []*Proc
	t.Cleanup(func() {
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].Stop(30 * time.Second)
		}
		ns.Close()
		if t.Failed() {
			for _, p := range procs {
				b, _ := os.ReadFile(p.Log)
				t.Logf("--- %s (%s):\n%s", p.Name, p.Log, tail(string(b), 30))
			}
		}
	})
	start := func(name string, env []string, bin string, args ...string) {
		t.Helper()
		p, err := StartProc(ns, dir, name, env, bin, args...)
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}
	const etcdURL = "http://127.0.0.1:23790"
	start("etcd", nil, etcdBin, "--name=control", "--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls=http://127.0.0.1:23800", "--initial-advertise-peer-urls=http://127.0.0.1:23800",
		"--initial-cluster=control=http://127.0.0.1:23800", "--enable-v2=true")

	// Two engines: as shipped, and with swarmboot's environment.
	path := "PATH=" + dockerBin + ":" + filepath.Dir(containerd) + ":" + os.Getenv("PATH")
	engines := []struct {
		name, addr string
		env        []string
	}{
		{"dockerd-as-shipped", "127.0.0.1:2375", []string{path}},
		{"dockerd-swarmboot", "127.0.0.1:2376", append([]string{path}, fix...)},
	}
	check := &Checker{NS: ns, CallTimeout: 10 * time.Second}
	for _, e := range engines {
		root := filepath.Join(dir, e.name)
		start(e.name, e.env, filepath.Join(dockerBin, "dockerd"),
			"--data-root="+filepath.Join(root, "data"), "--exec-root="+filepath.Join(root, "exec"),
			"--pidfile="+filepath.Join(root, "dockerd.pid"), "-H", "tcp://"+e.addr, "--tls=false",
			"--iptables=false", "--ip6tables=false", "--bridge=none")
	}
	floors := map[string]string{}
	err = Eventually(ctx, 3*time.Minute, "both Docker 29 engines answer", t.Logf, func(ctx context.Context) error {
		for _, e := range engines {
			body, err := check.call(ctx, nil, "curl", "-sSf", "--max-time", "5", "http://"+e.addr+"/version")
			if err != nil {
				return err
			}
			var v struct{ Version, APIVersion, MinAPIVersion string }
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				return err
			}
			floors[e.name] = fmt.Sprintf("API %s, minimum %s", v.APIVersion, v.MinAPIVersion)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("engines: %v", floors)

	discovery := "etcd://127.0.0.1:23790/swarm"
	for _, e := range engines {
		start("join-"+e.name, nil, swarm, "join", "--heartbeat=1s", "--ttl=5s", "--addr="+e.addr, discovery)
	}
	start("manage", nil, swarm, "manage", "-H", "tcp://127.0.0.1:8333",
		"--engine-refresh-min-interval=1s", "--engine-refresh-max-interval=2s", discovery)

	var nodes []SwarmNode
	err = Eventually(ctx, 2*time.Minute, "the manager sees both engines and the fixed one Healthy", t.Logf, func(ctx context.Context) error {
		nodes, _, err = check.SwarmInfo(ctx, "127.0.0.1:8333")
		if err != nil {
			return err
		}
		byAddr := map[string]SwarmNode{}
		for _, n := range nodes {
			byAddr[n.Addr] = n
		}
		if len(byAddr) != 2 || byAddr[engines[1].addr].Status != "Healthy" {
			return fmt.Errorf("manager lists %+v", nodes)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		t.Logf("manager lists %s: %s (error: %s)", n.Addr, n.Status, n.Error)
		if n.Addr == engines[0].addr && (n.Status != "Pending" || !strings.Contains(n.Error, "client version 1.31 is too old")) {
			t.Errorf("Docker 29 as shipped must stay Pending with its \"too old\" error, got %s (%s)", n.Status, n.Error)
		}
	}
	if _, err := exec.LookPath("docker"); err == nil {
		info, err := check.call(ctx, nil, "docker", "-H", "tcp://127.0.0.1:8333", "info")
		if err == nil {
			t.Logf("docker info through the manager:\n%s", info)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
