// The Docker API a manager serves: its routes, and the ones clients use to
// look at a classic swarm (the container routes are in apicontainers.go).
// Learned from api/primary.go (routes, each with and without a /vX.Y
// prefix, and the API-Version header), api/handlers.go (getInfo,
// getVersion, ping, getContainersJSON), api/server.go and api/status.go of
// swarm 1.2.9.
//   - GET /_ping answers "OK" (the model also answers HEAD, which current
//     docker clients try first).
//   - GET /version: Version "swarm/1.2.9", ApiVersion "1.30".
//   - GET /info: the engine totals and classic swarm's SystemStatus pairs
//     (Role/Primary, then Cluster.Info).
//   - GET /containers/json (and /containers/ps): the containers of the
//     validated engines, running ones only unless all=1, swarm's own
//     containers hidden unless all, names prefixed with "/ENGINE-NAME",
//     "Host Down" as the status on an unhealthy engine, 0.0.0.0 ports shown
//     on the engine's IP, newest first, limit.
// The routes of swarm 1.2.9 the model does not serve answer 501 with a JSON
// message saying so; anything else is a JSON 404.

package swarmmodel

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// statusFunc gives the pairs shown before the cluster's (Role, Primary).
type statusFunc func() [][2]string

type apiServer struct {
	cluster *cluster
	status  statusFunc
	log     *logger
	debug   bool
	cors    bool
}

var versionPrefix = regexp.MustCompile(`^/v[0-9]+\.[0-9]+(/.*)$`)

// routeMatch is a request matched to a route: what the route's "*" stood
// for, and the parts of the path around it.
type routeMatch struct {
	name         string
	prefix, rest string // "/v1.30" or "", and "/containers/"
	suffix       string // "/logs", or "" for DELETE /containers/*
}

// pathFor is the request's path with the container's name replaced by its
// ID, as swarm forwarded it.
func (m routeMatch) pathFor(id string) string { return m.prefix + m.rest + id + m.suffix }

type apiHandler func(s *apiServer, w http.ResponseWriter, r *http.Request, m routeMatch)

type apiRoute struct {
	method, pattern string
	handle          apiHandler
}

// modelledRoutes are the routes of swarm 1.2.9 (api/primary.go) the model
// serves, with swarm's handler for each.
var modelledRoutes = []apiRoute{
	{"GET", "/_ping", (*apiServer).ping},
	{"HEAD", "/_ping", (*apiServer).ping},
	{"GET", "/version", (*apiServer).getVersion},
	{"GET", "/info", (*apiServer).getInfo},
	{"GET", "/containers/json", (*apiServer).getContainersJSON},
	{"GET", "/containers/ps", (*apiServer).getContainersJSON},
	{"POST", "/containers/create", (*apiServer).postContainersCreate},
	{"GET", "/containers/*/json", (*apiServer).getContainerJSON},
	{"POST", "/containers/*/start", (*apiServer).postContainersStart},
	{"DELETE", "/containers/*", (*apiServer).deleteContainers},
	{"POST", "/containers/*/wait", (*apiServer).proxyContainerAndForceRefresh},
	{"POST", "/containers/*/kill", (*apiServer).proxyContainerAndForceRefresh},
	{"POST", "/containers/*/stop", (*apiServer).proxyContainerAndForceRefresh},
	{"POST", "/containers/*/restart", (*apiServer).proxyContainerAndForceRefresh},
	{"POST", "/containers/*/pause", (*apiServer).proxyContainerAndForceRefresh},
	{"POST", "/containers/*/unpause", (*apiServer).proxyContainerAndForceRefresh},
	{"POST", "/containers/*/update", (*apiServer).proxyContainerAndForceRefresh},
	{"GET", "/containers/*/logs", (*apiServer).proxyContainer},
	{"GET", "/containers/*/top", (*apiServer).proxyContainer},
	{"GET", "/containers/*/changes", (*apiServer).proxyContainer},
	{"GET", "/containers/*/export", (*apiServer).proxyContainer},
	{"GET", "/containers/*/stats", (*apiServer).proxyContainer},
	{"HEAD", "/containers/*/archive", (*apiServer).proxyContainer},
	{"GET", "/containers/*/archive", (*apiServer).proxyContainer},
	{"PUT", "/containers/*/archive", (*apiServer).proxyContainer},
	{"POST", "/containers/*/resize", (*apiServer).proxyContainer},
	{"POST", "/containers/*/copy", (*apiServer).proxyContainer},
	{"POST", "/containers/*/attach", (*apiServer).proxyHijack},
	{"GET", "/containers/*/attach/ws", (*apiServer).proxyHijack},
}

// swarm 1.2.9's routes the model does not implement (api/primary.go).
var unmodelledRoutes = map[string][]string{
	"GET": {"/events", "/images/json", "/images/viz", "/images/search", "/images/get", "/images/*/get",
		"/images/*/history", "/images/*/json", "/exec/*/json", "/networks", "/networks/*", "/volumes", "/volumes/*"},
	"POST": {"/auth", "/commit", "/build", "/images/create", "/images/load", "/images/*/push", "/images/*/tag",
		"/containers/*/rename", "/containers/*/exec", "/exec/*/start", "/exec/*/resize", "/networks/create",
		"/networks/*/connect", "/networks/*/disconnect", "/volumes/create"},
	"DELETE": {"/images/*", "/networks/*", "/volumes/*"},
}

// hijackRoutes are the routes whose connection swarm took over; a replica
// forwards them the same way.
var hijackRoutes = []apiRoute{
	{method: "POST", pattern: "/containers/*/attach"},
	{method: "GET", pattern: "/containers/*/attach/ws"},
	{method: "POST", pattern: "/exec/*/start"},
}

// matchRoute matches a path against a route where "*" stands for one or
// more characters (gorilla/mux's {name:.*}).
func matchRoute(route, p string) (routeMatch, bool) {
	pre, post, wild := strings.Cut(route, "*")
	if !wild {
		return routeMatch{}, p == route
	}
	if len(p) > len(pre)+len(post) && strings.HasPrefix(p, pre) && strings.HasSuffix(p, post) {
		return routeMatch{name: p[len(pre) : len(p)-len(post)], rest: pre, suffix: post}, true
	}
	return routeMatch{}, false
}

// splitVersion returns the API version prefix of a path ("/v1.30" or "")
// and the rest.
func splitVersion(p string) (string, string) {
	if m := versionPrefix.FindStringSubmatch(p); m != nil {
		return p[:len(p)-len(m[1])], m[1]
	}
	return "", p
}

func isHijackRoute(r *http.Request) bool {
	_, p := splitVersion(r.URL.Path)
	for _, route := range hijackRoutes {
		if _, ok := matchRoute(route.pattern, p); ok && r.Method == route.method {
			return true
		}
	}
	return false
}

func (s *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	prefix, p := splitVersion(r.URL.Path)
	if s.cors {
		w.Header().Add("Access-Control-Allow-Origin", "*")
		w.Header().Add("Access-Control-Allow-Headers", "Origin, X-Requested-With, Content-Type, Accept")
		w.Header().Add("Access-Control-Allow-Methods", "GET, POST, DELETE, PUT, OPTIONS, HEAD")
	}
	for _, route := range modelledRoutes {
		if route.method != r.Method {
			continue
		}
		if m, ok := matchRoute(route.pattern, p); ok {
			m.prefix = prefix
			w.Header().Set("API-Version", apiVersion)
			route.handle(s, w, r, m)
			return
		}
	}
	for _, route := range unmodelledRoutes[r.Method] {
		if _, ok := matchRoute(route, p); ok {
			w.Header().Set("API-Version", apiVersion)
			jsonError(w, http.StatusNotImplemented,
				fmt.Sprintf("%s %s is a route of swarm %s that this model of it does not implement", r.Method, p, Version))
			return
		}
	}
	if s.cors && r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusOK)
		return
	}
	jsonError(w, http.StatusNotFound, "page not found")
}

func (s *apiServer) ping(w http.ResponseWriter, r *http.Request, _ routeMatch) {
	w.Write([]byte("OK"))
}

// httpError is api/utils.go httpError: logged, then sent as plain text.
func (s *apiServer) httpError(w http.ResponseWriter, msg string, code int) {
	s.log.with(fields{"status": code}).Errorf("HTTP error: %v", msg)
	http.Error(w, msg, code)
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// kernelVersion is what swarm read from uname; "<unknown>" when it cannot.
func kernelVersion() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "<unknown>"
	}
	return strings.TrimSpace(string(b))
}

func (s *apiServer) getVersion(w http.ResponseWriter, r *http.Request, _ routeMatch) {
	writeJSON(w, struct {
		Version, APIVersion, GitCommit, GoVersion, Os, Arch, KernelVersion string
		BuildTime                                                          string `json:",omitempty"`
	}{
		Version: "swarm/" + Version, APIVersion: apiVersion, GitCommit: gitCommit, GoVersion: runtime.Version(),
		Os: runtime.GOOS, Arch: runtime.GOARCH, KernelVersion: kernelVersion(),
	})
}

// infoResponse has the fields of the Docker API's Info of the docker
// release swarm 1.2.9 vendored, so clients decode it as they did.
type infoResponse struct {
	ID                 string
	Containers         int
	ContainersRunning  int
	ContainersPaused   int
	ContainersStopped  int
	Images             int
	Driver             string
	DriverStatus       [][2]string
	SystemStatus       [][2]string
	Plugins            struct{ Volume, Network, Authorization, Log []string }
	MemoryLimit        bool
	SwapLimit          bool
	KernelMemory       bool
	CPUCfsPeriod       bool `json:"CpuCfsPeriod"`
	CPUCfsQuota        bool `json:"CpuCfsQuota"`
	CPUShares          bool
	CPUSet             bool
	IPv4Forwarding     bool
	BridgeNfIptables   bool
	BridgeNfIP6tables  bool `json:"BridgeNfIp6tables"`
	Debug              bool
	NFd                int
	OomKillDisable     bool
	NGoroutines        int
	SystemTime         string
	LoggingDriver      string
	CgroupDriver       string
	NEventsListener    int
	KernelVersion      string
	OperatingSystem    string
	OSType             string
	Architecture       string
	IndexServerAddress string
	RegistryConfig     *struct{}
	NCPU               int64
	MemTotal           int64
	DockerRootDir      string
	HTTPProxy          string `json:"HttpProxy"`
	HTTPSProxy         string `json:"HttpsProxy"`
	NoProxy            string
	Name               string
	Labels             []string
	ExperimentalBuild  bool
	ServerVersion      string
	ClusterStore       string
	ClusterAdvertise   string
	Runtimes           map[string]struct{}
	DefaultRuntime     string
	Swarm              struct {
		NodeID, NodeAddr, LocalNodeState string
		ControlAvailable                 bool
		Error                            string
		RemoteManagers                   []struct{}
	}
	LiveRestoreEnabled bool
	Isolation          string
	InitBinary         string
	ContainerdCommit   commitInfo
	RuncCommit         commitInfo
	InitCommit         commitInfo
	SecurityOptions    []string
}

type commitInfo struct{ ID, Expected string }

func (s *apiServer) getInfo(w http.ResponseWriter, r *http.Request, _ routeMatch) {
	info := infoResponse{
		Debug: s.debug, MemoryLimit: true, SwapLimit: true, CPUCfsPeriod: true, CPUCfsQuota: true,
		CPUShares: true, CPUSet: true, IPv4Forwarding: true, BridgeNfIptables: true, BridgeNfIP6tables: true,
		OomKillDisable: true, ServerVersion: "swarm/" + Version,
		OperatingSystem: runtime.GOOS, Architecture: runtime.GOARCH, KernelVersion: kernelVersion(),
		HTTPProxy: os.Getenv("http_proxy"), HTTPSProxy: os.Getenv("https_proxy"), NoProxy: os.Getenv("no_proxy"),
		SystemTime: time.Now().Format(time.RFC3339Nano),
		Name:       "<unknown>",
	}
	if hn, err := os.Hostname(); err == nil {
		info.Name = hn
	}
	info.SystemStatus = append(s.status(), s.cluster.info()...)
	for _, v := range s.cluster.validated() {
		info.NCPU += v.cpus
		info.MemTotal += v.memory
		for _, ct := range v.containers {
			info.Containers++
			switch {
			case ct.paused:
				info.ContainersPaused++
			case ct.running:
				info.ContainersRunning++
			default:
				info.ContainersStopped++
			}
		}
		for _, im := range v.images {
			if len(im.RepoTags) > 0 && im.RepoTags[0] != "<none>:<none>" ||
				len(im.RepoDigests) > 0 && im.RepoDigests[0] != "<none>@<none>" {
				info.Images++
			}
		}
	}
	writeJSON(w, info)
}

// containerFilters are the filters of GET /containers/json the model
// applies; swarm knew more (label, exited, health, volume, network, ...).
var containerFilters = map[string]bool{"name": true, "id": true, "status": true, "node": true}

func (s *apiServer) getContainersJSON(w http.ResponseWriter, r *http.Request, _ routeMatch) {
	q := r.URL.Query()
	all := boolValue(q.Get("all"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	filters := map[string][]string{}
	if f := q.Get("filters"); f != "" {
		// Two encodings: {"name":["x"]} and the older {"name":{"x":true}}.
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(f), &raw); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		for k, v := range raw {
			if !containerFilters[k] {
				jsonError(w, http.StatusNotImplemented, fmt.Sprintf("the container filter %q is not implemented by this model of swarm %s", k, Version))
				return
			}
			var list []string
			if json.Unmarshal(v, &list) != nil {
				var set map[string]bool
				json.Unmarshal(v, &set)
				for x := range set {
					list = append(list, x)
				}
			}
			filters[k] = list
		}
	}
	for _, st := range filters["status"] {
		if st == "exited" {
			all = true
		}
	}
	type candidate struct {
		c       *container
		e       engineView
		created int64
	}
	var cands []candidate
	for _, e := range s.cluster.validated() {
		for _, ct := range e.containers {
			healthy := e.state == stateHealthy
			if (!ct.running || !healthy) && !all && limit <= 0 {
				continue
			}
			image, _ := ct.summary["Image"].(string)
			if strings.Split(image, ":")[0] == "swarm" && !all {
				continue
			}
			name := ""
			if names, ok := ct.summary["Names"].([]any); ok && len(names) > 0 {
				name, _ = names[0].(string)
			}
			if !matchAny(filters["name"], strings.TrimPrefix(name, "/"), true) ||
				!matchAny(filters["id"], ct.summary.id(), true) ||
				!matchAny(filters["status"], stateString(ct), false) ||
				!matchAny(filters["node"], e.name, true) {
				continue
			}
			created, _ := ct.summary["Created"].(float64)
			cands = append(cands, candidate{ct, e, int64(created)})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].created > cands[j].created })
	if limit > 0 && limit < len(cands) {
		cands = cands[:limit]
	}
	out := make([]containerSummary, 0, len(cands))
	for _, cd := range cands {
		tmp := containerSummary{}
		for k, v := range cd.c.summary {
			tmp[k] = v
		}
		if cd.e.state != stateHealthy {
			tmp["Status"] = "Host Down"
		}
		if names, ok := cd.c.summary["Names"].([]any); ok {
			prefixed := make([]any, len(names))
			for i, n := range names {
				s, _ := n.(string)
				prefixed[i] = "/" + cd.e.name + s
			}
			tmp["Names"] = prefixed
		}
		if ports, ok := cd.c.summary["Ports"].([]any); ok {
			fixed := make([]any, len(ports))
			for i, p := range ports {
				if pm, ok := p.(map[string]any); ok {
					cp := map[string]any{}
					for k, v := range pm {
						cp[k] = v
					}
					if ip, _ := cp["IP"].(string); net.ParseIP(ip) != nil && net.ParseIP(ip).IsUnspecified() {
						cp["IP"] = cd.e.ip
					}
					p = cp
				}
				fixed[i] = p
			}
			tmp["Ports"] = fixed
		}
		out = append(out, tmp)
	}
	writeJSON(w, out)
}

func boolValue(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return !(s == "" || s == "0" || s == "no" || s == "false" || s == "none")
}

// matchAny is docker's filters.Match: no values match everything; with
// regexps, a value is a regular expression.
func matchAny(values []string, s string, regex bool) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		if v == s {
			return true
		}
		if regex {
			if re, err := regexp.Compile(v); err == nil && re.MatchString(s) {
				return true
			}
		}
	}
	return false
}

// stateString is cluster.StateString for the states the model knows.
func stateString(c *container) string {
	switch {
	case c.paused:
		return "paused"
	case c.restarting:
		return "restarting"
	case c.running:
		return "running"
	}
	if st, ok := c.summary["State"].(string); ok && st != "" {
		return st
	}
	return "exited"
}
