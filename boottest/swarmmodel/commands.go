// The commands and flags of swarm 1.2.9, with its names, defaults, usage
// strings and environment variables (cli/commands.go, cli/flags.go,
// cli/cli.go). Every flag is accepted; README.md says which ones only are.

package swarmmodel

import (
	"context"
	"strings"
)

// Version is the swarm release the model stands for.
const Version = "1.2.9"

// gitCommit fills the "(commit)" slot of swarm's version string; the model
// says what it is instead of borrowing a commit of the real project.
const gitCommit = "model"

// apiVersion is the Docker API version a swarm 1.2.9 manager announces
// (api/handlers.go APIVERSION).
const apiVersion = "1.30"

// engineAPIVersion is the version swarm 1.2.9's vendored Docker client
// starts from and never goes above (vendor/github.com/docker/docker/api/
// common.go DefaultVersion, client.NegotiateAPIVersionPing).
const engineAPIVersion = "1.31"

var strategies = []string{"spread", "binpack", "random"}

var filterNames = []string{"health", "port", "containerslots", "dependency", "affinity", "constraint", "whitelist"}

var (
	flHelp    = &flagDef{names: []string{"help", "h"}, kind: kindBool, usage: "show help"}
	flVersion = &flagDef{names: []string{"version", "v"}, kind: kindBool, usage: "print the version"}

	globalFlags = []*flagDef{
		{names: []string{"debug"}, kind: kindBool, usage: "debug mode", env: "DEBUG"},
		{names: []string{"log-level", "l"}, kind: kindString, def: "info", usage: "Log level (options: debug, info, warn, error, fatal, panic)"},
		{names: []string{"experimental"}, kind: kindBool, usage: "enable experimental features"},
		flHelp,
		flVersion,
	}

	flJoinAdvertise = &flagDef{names: []string{"advertise", "addr"}, kind: kindString, env: "SWARM_ADVERTISE",
		usage: "Address of the Docker Engine joining the cluster. Swarm manager(s) MUST be able to reach the Docker Engine at this address."}
	flJoinRandomDelay = &flagDef{names: []string{"delay"}, kind: kindString, def: "0s",
		usage: "add a random delay in [0s,delay] to avoid synchronized registration"}
	flManageAdvertise = &flagDef{names: []string{"advertise", "addr"}, kind: kindString, env: "SWARM_ADVERTISE",
		usage: "Address of the swarm manager joining the cluster. Other swarm manager(s) MUST be able to reach the swarm manager at this address."}
	flHosts = &flagDef{names: []string{"host", "H"}, kind: kindSlice, defs: []string{"tcp://127.0.0.1:2375"},
		usage: "ip/socket to listen on", env: "SWARM_HOST"}
	flHeartBeat = &flagDef{names: []string{"heartbeat"}, kind: kindString, def: "60s", usage: "period between each heartbeat"}
	flTTL       = &flagDef{names: []string{"ttl"}, kind: kindString, def: "180s", usage: "set the expiration of an ephemeral node"}
	flTimeout   = &flagDef{names: []string{"timeout"}, kind: kindString, def: "10s", usage: "timeout period"}

	flRefreshIntervalMin = &flagDef{names: []string{"engine-refresh-min-interval"}, kind: kindString, def: "30s", usage: "set engine refresh minimum interval"}
	flRefreshIntervalMax = &flagDef{names: []string{"engine-refresh-max-interval"}, kind: kindString, def: "60s", usage: "set engine refresh maximum interval"}
	flRefreshRetry       = &flagDef{names: []string{"engine-refresh-retry"}, kind: kindInt, def: "3", usage: "deprecated; replaced by --engine-failure-retry"}
	flFailureRetry       = &flagDef{names: []string{"engine-failure-retry"}, kind: kindInt, def: "3", usage: "set engine failure retry count"}
	flEnableCors         = &flagDef{names: []string{"api-enable-cors", "cors"}, kind: kindBool, usage: "enable CORS headers in the remote API"}

	flTLS       = &flagDef{names: []string{"tls"}, kind: kindBool, usage: "use TLS; implied by --tlsverify=true"}
	flTLSCaCert = &flagDef{names: []string{"tlscacert"}, kind: kindString, usage: "trust only remotes providing a certificate signed by the CA given here"}
	flTLSCert   = &flagDef{names: []string{"tlscert"}, kind: kindString, usage: "path to TLS certificate file"}
	flTLSKey    = &flagDef{names: []string{"tlskey"}, kind: kindString, usage: "path to TLS key file"}
	flTLSVerify = &flagDef{names: []string{"tlsverify"}, kind: kindBool, usage: "use TLS and verify the remote"}

	flStrategy = &flagDef{names: []string{"strategy"}, kind: kindString, def: strategies[0],
		usage: "placement strategy to use [" + strings.Join(strategies, ", ") + "]"}
	flFilter = &flagDef{names: []string{"filter", "f"}, kind: kindSlice, defs: filterNames,
		usage: "filter to use [" + strings.Join(filterNames, ", ") + "]"}
	flCluster      = &flagDef{names: []string{"cluster-driver", "c"}, kind: kindString, def: "swarm", usage: "cluster driver to use [swarm]"}
	flClusterOpt   = &flagDef{names: []string{"cluster-opt"}, kind: kindSlice, usage: "cluster driver options"}
	flDiscoveryOpt = &flagDef{names: []string{"discovery-opt"}, kind: kindSlice, usage: "discovery options"}

	flLeaderElection = &flagDef{names: []string{"replication"}, kind: kindBool, usage: "Enable Swarm manager replication"}
	flLeaderTTL      = &flagDef{names: []string{"replication-ttl"}, kind: kindString, def: "20s", usage: "Leader lock release time on failure"}

	flRefreshOnNodeFilter        = &flagDef{names: []string{"refresh-on-node-filter"}, kind: kindBool, usage: "If true, refresh the cache when a ContainerList call comes in with a node filter"}
	flContainerNameRefreshFilter = &flagDef{names: []string{"container-name-refresh-filter"}, kind: kindString, usage: "If set, refresh the cache when a ContainerList call comes in with a name filter set to this value"}
)

// command is one subcommand.
type command struct {
	name, short, usage string
	flags              []*flagDef
	discovery          bool // takes a <discovery> argument
	run                func(ctx context.Context, c *cmdContext) error
}

var commands = []*command{
	{name: "create", short: "c", usage: "Create a cluster", run: runCreate},
	{name: "list", short: "l", usage: "List nodes in a cluster", discovery: true,
		flags: []*flagDef{flTimeout, flDiscoveryOpt}, run: runList},
	{name: "manage", short: "m", usage: "Manage a docker cluster", discovery: true,
		flags: []*flagDef{
			flStrategy, flFilter,
			flHosts,
			flLeaderElection, flLeaderTTL, flManageAdvertise,
			flTLS, flTLSCaCert, flTLSCert, flTLSKey, flTLSVerify,
			flRefreshIntervalMin, flRefreshIntervalMax, flFailureRetry, flRefreshRetry,
			flHeartBeat,
			flEnableCors,
			flCluster, flDiscoveryOpt, flClusterOpt, flRefreshOnNodeFilter, flContainerNameRefreshFilter,
		}, run: runManage},
	{name: "join", short: "j", usage: "Join a docker cluster", discovery: true,
		flags: []*flagDef{flJoinAdvertise, flHeartBeat, flTTL, flJoinRandomDelay, flDiscoveryOpt}, run: runJoin},
}

func findCommand(name string) *command {
	for _, c := range commands {
		if c.name == name || c.short == name {
			return c
		}
	}
	return nil
}

// runCreate stands for `swarm create`, which asked Docker Hub's token
// discovery service (shut down since) for a cluster token.
func runCreate(ctx context.Context, c *cmdContext) error {
	return fatalf("`swarm create` (token discovery on Docker Hub) is not part of this model of swarm %s; use etcd:// discovery", Version)
}
