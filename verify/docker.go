package verify

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"github.com/swarmboot/swarmboot/cluster"
)

// What a Docker engine's /version holds: a release ("29.1.3",
// "28.5.2+dfsg4") and API versions ("1.52"). Anything else is not an
// engine's answer.
var (
	releaseGrammar = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+~_-]{0,63}$`)
	apiGrammar     = regexp.MustCompile(`^[0-9]{1,3}\.[0-9]{1,3}$`)
)

// engine: the Docker engine answers /version and serves API 1.31, which
// classic swarm pins (Docker 29 refuses it unless its floor is lowered).
func (v *verifier) engine(ctx context.Context, n *cluster.Node) []Check {
	ch := Check{Node: n.Name, What: "engine"}
	var ver struct {
		Version       string `json:"Version"`
		APIVersion    string `json:"ApiVersion"`
		MinAPIVersion string `json:"MinAPIVersion"`
	}
	a, err := v.f.getJSON(ctx, endpoint(v.c.Docker.TLS, n.IP, v.c.Docker.Port, "/version"), smallAnswer, &ver)
	ch.OK, ch.Detail = judgeEngine(ver.Version, ver.APIVersion, ver.MinAPIVersion, err)
	return v.withCertificate(ch, v.c.Docker.TLS, n, "engine certificate", a.peer)
}

// judgeEngine says whether an engine's /version suits classic swarm.
func judgeEngine(release, api, floor string, err error) (bool, string) {
	switch {
	case err != nil:
		return false, err.Error()
	case !releaseGrammar.MatchString(release):
		return false, "answers /version, but not as a Docker engine: Version " + quote(release)
	case !apiGrammar.MatchString(api):
		return false, "answers /version, but not as a Docker engine: ApiVersion " + quote(api)
	case floor == "":
		floor = "1.12" // engines before 1.24 did not say; they served every older version
	case !apiGrammar.MatchString(floor):
		return false, "answers /version, but not as a Docker engine: MinAPIVersion " + quote(floor)
	}
	detail := fmt.Sprintf("Docker %s, API %s, floor %s", release, api, floor)
	if apiLess(swarmAPI, floor) {
		return false, detail + fmt.Sprintf(": refuses classic swarm's API %s, so the manager keeps it Pending; the engine needs DOCKER_MIN_API_VERSION (swarmboot's 20-swarmboot-api.conf drop-in)", swarmAPI)
	}
	return true, detail
}

// apiLess compares Docker API versions "1.N" (apiGrammar's).
func apiLess(a, b string) bool {
	var am, an, bm, bn int
	fmt.Sscanf(a, "%d.%d", &am, &an)
	fmt.Sscanf(b, "%d.%d", &bm, &bn)
	return am < bm || am == bm && an < bn
}

// manager: the manager answers /info, lists every Docker host Healthy,
// and says whether it is the primary.
func (v *verifier) manager(ctx context.Context, n *cluster.Node) []Check {
	ch := Check{Node: n.Name, What: "manager"}
	hosts := v.c.DockerHosts()
	var info struct {
		SystemStatus [][2]string
		DriverStatus [][2]string
	}
	a, err := v.f.getJSON(ctx, endpoint(v.c.Docker.TLS, n.IP, v.c.Swarm.Manager.Port, "/info"), smallAnswer+perEngine*len(hosts), &info)
	out := func() []Check { return v.withCertificate(ch, v.c.Docker.TLS, n, "manager certificate", a.peer) }
	if err != nil {
		ch.Detail = err.Error()
		return out()
	}
	status := info.SystemStatus
	if len(status) == 0 {
		status = info.DriverStatus
	}
	role, engines := parseStatus(status)
	if role != "primary" && role != "replica" {
		ch.Detail = "answers /info, but its role is " + quote(role) + ", not classic swarm's primary or replica"
		return out()
	}
	v.mu.Lock()
	v.roles[n.Name] = role
	v.mu.Unlock()
	var bad []string
	for _, h := range hosts {
		addr := netip.AddrPortFrom(h.IP, uint16(v.c.Docker.Port)).String()
		switch st, ok := engines[addr]; {
		case !ok:
			bad = append(bad, h.Name+" missing")
		case st.status != "Healthy":
			why := h.Name + " " + word(st.status)
			if st.err != "" && st.err != "(none)" {
				why += " (" + quote(st.err) + ")"
			}
			bad = append(bad, why)
		}
	}
	if len(bad) > 0 {
		ch.Detail = fmt.Sprintf("%s; %s", role, list8(bad))
		return out()
	}
	ch.OK, ch.Detail = true, fmt.Sprintf("%s; %d of %d engines Healthy", role, len(hosts), len(engines))
	return out()
}

type engineStatus struct{ status, err string }

// parseStatus reads swarm's /info SystemStatus: ["Role", "primary"], then
// " name" / "ip:port" opening each engine, followed by "  └ Status".
func parseStatus(pairs [][2]string) (role string, engines map[string]engineStatus) {
	engines = map[string]engineStatus{}
	role = "primary" // a manager without --replication says nothing else
	var addr string
	for _, kv := range pairs {
		label, value := kv[0], kv[1]
		trimmed := strings.TrimSpace(label)
		switch {
		case label == "Role":
			role = value
		case strings.HasPrefix(label, " ") && !strings.Contains(label, "└") && strings.Contains(value, ":"):
			addr = value
			engines[addr] = engineStatus{}
		case addr != "" && strings.Contains(label, "└") && trimmed == "└ Status":
			e := engines[addr]
			e.status = value
			engines[addr] = e
		case addr != "" && strings.Contains(label, "└") && trimmed == "└ Error":
			e := engines[addr]
			e.err = value
			engines[addr] = e
		}
	}
	return role, engines
}

// primaries: exactly one manager is primary (only one checked: none to
// elect).
func (v *verifier) primaries() Check {
	ch := Check{Node: "cluster", What: "managers"}
	managers := v.c.Managers()
	if len(managers) == 0 {
		ch.OK, ch.Detail = true, "none in the description"
		return ch
	}
	var primary, silent []string
	for _, m := range managers {
		switch role, ok := v.roles[m.Name]; {
		case !ok:
			silent = append(silent, m.Name)
		case role == "primary":
			primary = append(primary, m.Name)
		}
	}
	switch {
	case len(primary) == 1:
		ch.OK, ch.Detail = true, fmt.Sprintf("one primary (%s) of %d", primary[0], len(managers))
		if len(silent) > 0 {
			ch.Detail += "; not answering: " + list8(silent)
		}
	case len(primary) == 0:
		ch.Detail = "no primary among the managers that answer"
	default:
		ch.Detail = "several primaries: " + list8(primary) + " (replicas must share one etcd and one path)"
	}
	return ch
}
