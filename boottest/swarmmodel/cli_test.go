package swarmmodel

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runOnce runs the model to completion and returns status, stdout, stderr.
func runOnce(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code := runWith(ctx, args, func(k string) string { return env[k] }, &stdout, &stderr, fastTiming(), nil)
	return code, stdout.String(), stderr.String()
}

var fatalLine = regexp.MustCompile(`^time="[0-9T:Z+-]+" level=fatal msg="(.*)" \n$`)

// TestBadArguments: each malformed command line exits 1 with swarm's own
// message, as a logrus fatal line (on stdout, where swarm's cli.go sends
// its log; list used Go's log package on stderr).
func TestBadArguments(t *testing.T) {
	const url = "etcd://127.0.0.1:1/swarm"
	tests := []struct {
		name string
		env  map[string]string
		args []string
		msg  string
	}{
		{"join without discovery", nil, []string{"join", "--addr=10.0.0.1:2375"}, "discovery required to join a cluster. See 'swarm join --help'."},
		{"join with two arguments", nil, []string{"join", "--addr=10.0.0.1:2375", url, "extra"}, "discovery required to join a cluster. See 'swarm join --help'."},
		{"join without advertise", nil, []string{"join", url}, "missing mandatory --advertise flag"},
		{"join advertise without port", nil, []string{"join", "--advertise=10.0.0.1", url}, "--advertise should be of the form ip:port or hostname:port"},
		{"join advertise port 0", nil, []string{"join", "--addr=10.0.0.1:0", url}, "--advertise should be of the form ip:port or hostname:port"},
		{"join advertise port too big", nil, []string{"join", "--addr=10.0.0.1:70000", url}, "--advertise should be of the form ip:port or hostname:port"},
		{"join bad advertise from env", map[string]string{"SWARM_ADVERTISE": "nope"}, []string{"join", url}, "--advertise should be of the form ip:port or hostname:port"},
		{"join bad delay", nil, []string{"join", "--addr=10.0.0.1:2375", "--delay=x", url}, `invalid --delay: time: invalid duration "x"`},
		{"join negative delay", nil, []string{"join", "--addr=10.0.0.1:2375", "--delay=-1s", url}, "--delay should not be a negative number"},
		{"join bad heartbeat", nil, []string{"join", "--addr=10.0.0.1:2375", "--heartbeat=soon", url}, `invalid --heartbeat: time: invalid duration "soon"`},
		{"join short heartbeat", nil, []string{"join", "--addr=10.0.0.1:2375", "--heartbeat=500ms", url}, "--heartbeat should be at least one second"},
		{"join bad ttl", nil, []string{"join", "--addr=10.0.0.1:2375", "--ttl=x", url}, `invalid --ttl: time: invalid duration "x"`},
		{"join ttl equal heartbeat", nil, []string{"join", "--addr=10.0.0.1:2375", "--heartbeat=20s", "--ttl=20s", url}, "--ttl must be strictly superior to the heartbeat value"},
		{"join ttl below default heartbeat", nil, []string{"join", "--addr=10.0.0.1:2375", "--ttl=30s", url}, "--ttl must be strictly superior to the heartbeat value"},
		{"join bad discovery-opt", nil, []string{"join", "--addr=10.0.0.1:2375", "--discovery-opt", "kv.path", url}, "--discovery-opt must contain key=value strings"},
		{"join discovery from SWARM_DISCOVERY", map[string]string{"SWARM_DISCOVERY": "redis://127.0.0.1:1/x"}, []string{"join", "--addr=10.0.0.1:2375"}, "discovery service not supported"},
		{"join unknown scheme", nil, []string{"join", "--addr=10.0.0.1:2375", "redis://127.0.0.1:1/x"}, "discovery service not supported"},
		{"join consul not modelled", nil, []string{"join", "--addr=10.0.0.1:2375", "consul://127.0.0.1:8500/x"}, `discovery service "consul" is not part of this model of swarm 1.2.9 (only etcd:// is)`},
		{"join nodes not modelled", nil, []string{"join", "--addr=10.0.0.1:2375", "10.0.0.1:2375,10.0.0.2:2375"}, `discovery service "nodes" is not part of this model of swarm 1.2.9 (only etcd:// is)`},
		{"join kv tls unreadable", nil, []string{"join", "--addr=10.0.0.1:2375", "--discovery-opt=kv.cacertfile=/nonexistent/ca.pem",
			"--discovery-opt=kv.certfile=/nonexistent/c.pem", "--discovery-opt=kv.keyfile=/nonexistent/k.pem", url},
			`Could not read CA certificate "/nonexistent/ca.pem": open /nonexistent/ca.pem: no such file or directory`},
		{"join unknown flag", nil, []string{"join", "--bogus", url}, "flag provided but not defined: -bogus"},
		{"join flag without value", nil, []string{"join", "--addr"}, "flag needs an argument: -addr"},
		// urfave/cli moved the flags first, so --addr took the URL as its value.
		{"join flag swallowing the argument", nil, []string{"join", url, "--addr"}, "discovery required to join a cluster. See 'swarm join --help'."},
		{"join two forms of advertise", nil, []string{"join", "--addr=10.0.0.1:2375", "--advertise=10.0.0.2:2375", url}, "Cannot use two forms of the same flag: addr advertise"},
		{"manage without discovery", nil, []string{"manage"}, "discovery required to manage a cluster. See 'swarm manage --help'."},
		{"manage short heartbeat", nil, []string{"manage", "--heartbeat=100ms", url}, "--heartbeat should be at least one second"},
		{"manage zero min refresh", nil, []string{"manage", "--engine-refresh-min-interval=0s", url}, "min refresh interval should be a positive number"},
		{"manage unparsable min refresh", nil, []string{"manage", "--engine-refresh-min-interval=soon", url}, "min refresh interval should be a positive number"},
		{"manage max below min", nil, []string{"manage", "--engine-refresh-min-interval=10s", "--engine-refresh-max-interval=5s", url}, "max refresh interval cannot be less than min refresh interval"},
		{"manage deprecated refresh retry", nil, []string{"manage", "--engine-refresh-retry=5", url}, "--engine-refresh-retry is deprecated. Use --engine-failure-retry"},
		{"manage zero failure retry", nil, []string{"manage", "--engine-failure-retry=0", url}, "invalid failure retry count"},
		{"manage non-numeric failure retry", nil, []string{"manage", "--engine-failure-retry=x", url}, `invalid value "x" for flag -engine-failure-retry: parse error`},
		{"manage bad strategy", nil, []string{"manage", "--strategy=roundrobin", url}, "strategy not supported"},
		{"manage bad filter", nil, []string{"manage", "--filter=nope", url}, "filter not supported"},
		{"manage bad cluster driver", nil, []string{"manage", "--cluster-driver=mesos", url}, `unsupported cluster "mesos"`},
		{"manage tls without cert", nil, []string{"manage", "--tls", url}, "--tlscert and --tlskey must be provided when using --tls"},
		{"manage tlsverify without ca", nil, []string{"manage", "--tlsverify", "--tlscert=c.pem", "--tlskey=k.pem", url}, "--tlscacert must be provided when using --tlsverify"},
		{"manage tls files without tls", nil, []string{"manage", "--tlscert=c.pem", url}, "--tlscert, --tlskey and --tlscacert require the use of either --tls or --tlsverify"},
		{"manage unreadable key pair", nil, []string{"manage", "--tls", "--tlscert=/nonexistent/c.pem", "--tlskey=/nonexistent/k.pem", url},
			"Couldn't load X509 key pair (/nonexistent/c.pem, /nonexistent/k.pem): open /nonexistent/c.pem: no such file or directory. Key encrypted?"},
		{"manage replication without advertise", nil, []string{"manage", "--replication", url}, "--advertise address must be provided when using --leader-election"},
		{"manage replication bad advertise", nil, []string{"manage", "--replication", "--advertise=host", url}, "--advertise should be of the form ip:port or hostname:port"},
		{"manage replication bad ttl", nil, []string{"manage", "--replication", "--advertise=10.0.0.1:4000", "--replication-ttl=x", url}, `invalid --replication-ttl: time: invalid duration "x"`},
		{"manage replication zero ttl", nil, []string{"manage", "--replication", "--advertise=10.0.0.1:4000", "--replication-ttl=0s", url}, "--replication-ttl should be a positive number"},
		{"manage bad log level", nil, []string{"--log-level=loud", "manage", url}, `not a valid logrus Level: "loud"`},
		{"create not modelled", nil, []string{"create"}, "`swarm create` (token discovery on Docker Hub) is not part of this model of swarm 1.2.9; use etcd:// discovery"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runOnce(t, tt.env, tt.args...)
			if code != 1 {
				t.Errorf("exit status %d, want 1\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			lines := strings.SplitAfter(stdout, "\n")
			last := lines[len(lines)-2] // SplitAfter leaves "" after the final newline
			m := fatalLine.FindStringSubmatch(last)
			if m == nil {
				t.Fatalf("last stdout line is not a logrus fatal line: %q\nstdout: %s\nstderr: %s", last, stdout, stderr)
			}
			want := strings.ReplaceAll(strings.ReplaceAll(tt.msg, `\`, `\\`), `"`, `\"`)
			if m[1] != want {
				t.Errorf("message\n got: %s\nwant: %s", m[1], want)
			}
		})
	}
}

// TestUsageErrors: flag errors print "Incorrect Usage." and the help of
// the command (or of the program) before failing; unknown commands fail.
func TestUsageErrors(t *testing.T) {
	code, stdout, stderr := runOnce(t, nil, "manage", "--nope", "etcd://127.0.0.1:1/x")
	if code != 1 || !strings.HasPrefix(stdout, "Incorrect Usage.\n\nUsage: swarm manage [OPTIONS] <discovery>\n") {
		t.Errorf("manage --nope: status %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runOnce(t, nil, "--nope", "join")
	if code != 1 || !strings.HasPrefix(stdout, "Incorrect Usage.\n\nUsage: swarm [OPTIONS] COMMAND [arg...]\n") ||
		!strings.Contains(stderr, `level=fatal msg="flag provided but not defined: -nope"`) {
		t.Errorf("--nope: status %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	code, stdout, _ = runOnce(t, nil, "jion", "--addr=10.0.0.1:2375")
	if code != 1 || !strings.Contains(stdout, "No help topic for 'jion'") {
		t.Errorf("jion: status %d\n%s", code, stdout)
	}
	code, _, stderr = runOnce(t, nil, "list")
	if code != 1 || !regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d discovery required to list a cluster. See 'swarm list --help'.\n$`).MatchString(stderr) {
		t.Errorf("list: status %d, stderr %q", code, stderr)
	}
}

// TestHelpAndVersion: --version and -v print swarm's version line; help
// exits 0 and names the commands and flags.
func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-v"}} {
		code, stdout, _ := runOnce(t, nil, args...)
		if code != 0 || stdout != "swarm version 1.2.9 (model)\n" {
			t.Errorf("%v: status %d, %q", args, code, stdout)
		}
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"Usage: swarm [OPTIONS] COMMAND [arg...]", "manage, m\tManage a docker cluster", "join, j\tJoin a docker cluster"}},
		{[]string{"--help"}, []string{"Usage: swarm [OPTIONS] COMMAND [arg...]", "--log-level, -l \"info\""}},
		{[]string{"help", "join"}, []string{"Usage: swarm join [OPTIONS] <discovery>", "--advertise, --addr", "[$SWARM_ADVERTISE]", `--ttl "180s"`}},
		{[]string{"manage", "--help"}, []string{"Usage: swarm manage [OPTIONS] <discovery>", "--host, -H [--host option --host option]", "[$SWARM_HOST]", `--replication-ttl "20s"`}},
		{[]string{"j", "-h"}, []string{"Usage: swarm join"}},
	} {
		code, stdout, _ := runOnce(t, nil, tc.args...)
		if code != 0 {
			t.Errorf("%v: status %d", tc.args, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, w, stdout)
			}
		}
	}
}

// TestFlagParsing: flags after the discovery argument, environment
// fallbacks and their precedence, as swarm's urfave/cli did.
func TestFlagParsing(t *testing.T) {
	defs := []*flagDef{flJoinAdvertise, flHeartBeat, flHosts}
	env := map[string]string{"SWARM_ADVERTISE": "10.0.0.9:2375", "SWARM_HOST": ":2375"}
	getenv := func(k string) string { return env[k] }

	p, args, err := parseFlags(defs, reorderCommandArgs([]string{"etcd://a/b", "--heartbeat=5s"}), getenv)
	if err != nil || p.String("heartbeat") != "5s" || len(args) != 1 || args[0] != "etcd://a/b" {
		t.Errorf("flag after argument: %v %v %v", p, args, err)
	}
	if p.String("advertise") != "10.0.0.9:2375" || p.IsSet("advertise") {
		t.Errorf("advertise from SWARM_ADVERTISE: %q set=%v", p.String("advertise"), p.IsSet("advertise"))
	}
	if got := p.Slice("host"); len(got) != 1 || got[0] != ":2375" {
		t.Errorf("host from SWARM_HOST: %v", got)
	}
	p, _, _ = parseFlags(defs, []string{"-H", "tcp://0.0.0.0:2375", "--addr", "10.0.0.1:2375"}, getenv)
	if got := p.Slice("host"); len(got) != 1 || got[0] != "tcp://0.0.0.0:2375" {
		t.Errorf("-H over SWARM_HOST: %v", got)
	}
	if p.String("advertise") != "10.0.0.1:2375" {
		t.Errorf("--addr over SWARM_ADVERTISE: %q", p.String("advertise"))
	}
	p, _, _ = parseFlags(defs, nil, func(string) string { return "" })
	if got := p.Slice("host"); len(got) != 1 || got[0] != "tcp://127.0.0.1:2375" {
		t.Errorf("default host: %v", got)
	}
}
