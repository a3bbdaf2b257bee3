// The container routes of a manager's API, as api/handlers.go and
// api/utils.go of swarm 1.2.9 served them:
//   - POST /containers/create (postContainersCreate): the body as
//     buildContainerConfig leaves it, created where the scheduler says;
//     201 {"Id":...}; 409 for swarm's own name conflict ("Conflict: The
//     name ..."), 400 for a body that is not a JSON object or has fields
//     of the wrong JSON type, 501 for constraints and affinities, 500 for
//     the rest.
//   - GET /containers/{name}/json (getContainerJSON): the engine's
//     inspection with swarm's Node field, and ports bound to 0.0.0.0 (or
//     to no address) shown on the engine's IP.
//   - POST /containers/{name}/start (postContainersStart), DELETE
//     /containers/{name} (deleteContainers, force and v): through the
//     engine's API; 204.
//   - wait, kill, stop, restart, pause, unpause, update
//     (proxyContainerAndForceRefresh): forwarded, then the container is
//     refreshed; logs, top, changes, export, stats, archive, resize, copy
//     (proxyContainer): forwarded; attach and attach/ws (proxyHijack): the
//     connection is taken over.
// Errors in swarm's words, as plain text: "No such container NAME" (inspect,
// start), "Container NAME not found" (remove), "No such container: NAME"
// and "Container NAME running on unhealthy node ENGINE" (forwarded routes;
// inspect too for the latter).

package swarmmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

func (s *apiServer) postContainersCreate(w http.ResponseWriter, r *http.Request, _ routeMatch) {
	d := json.NewDecoder(r.Body)
	d.UseNumber()
	var cfg map[string]any
	if err := d.Decode(&cfg); err != nil {
		s.httpError(w, err.Error(), http.StatusBadRequest)
		return
	}
	if cfg == nil {
		cfg = map[string]any{}
	}
	req, err := buildContainerConfig(cfg)
	var nm errNotModelled
	var bad errBadBody
	switch {
	case errors.As(err, &nm):
		jsonError(w, http.StatusNotImplemented, nm.Error())
		return
	case errors.As(err, &bad):
		s.httpError(w, bad.Error(), http.StatusBadRequest)
		return
	}
	if err != nil {
		s.httpError(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// Swarm called the engines with a background context: a client that
	// leaves does not stop a creation, start or removal under way.
	l, err := s.cluster.createContainer(context.WithoutCancel(r.Context()), cfg, r.URL.Query().Get("name"), req)
	if err != nil {
		code := http.StatusInternalServerError
		if strings.HasPrefix(err.Error(), "Conflict") {
			code = http.StatusConflict
		}
		s.httpError(w, err.Error(), code)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, "{%q:%q}", "Id", l.c.id())
}

func (s *apiServer) getContainerJSON(w http.ResponseWriter, r *http.Request, m routeMatch) {
	l := s.cluster.container(m.name)
	if l == nil {
		s.httpError(w, fmt.Sprintf("No such container %s", m.name), http.StatusNotFound)
		return
	}
	if !l.engine.isHealthy() {
		s.httpError(w, fmt.Sprintf("Container %s running on unhealthy node %s", m.name, l.engineName), http.StatusInternalServerError)
		return
	}
	con, err := l.engine.inspectContainer(r.Context(), l.c.id())
	if err != nil {
		s.httpError(w, err.Error(), http.StatusInternalServerError)
		return
	}
	node := l.engine.containerNode()
	con["Node"] = node
	if ns, ok := con["NetworkSettings"].(map[string]any); ok {
		ports, _ := ns["Ports"].(map[string]any)
		for _, bindings := range ports {
			list, _ := bindings.([]any)
			for _, b := range list {
				if binding, ok := b.(map[string]any); ok {
					if ip := net.ParseIP(fmt.Sprint(binding["HostIp"])); ip == nil || ip.IsUnspecified() {
						binding["HostIp"] = node.IPAddress
					}
				}
			}
		}
	}
	writeJSON(w, con)
}

func (s *apiServer) postContainersStart(w http.ResponseWriter, r *http.Request, m routeMatch) {
	l := s.cluster.container(m.name)
	if l == nil {
		s.httpError(w, fmt.Sprintf("No such container %s", m.name), http.StatusNotFound)
		return
	}
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		s.httpError(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := l.engine.startContainer(context.WithoutCancel(r.Context()), l.c); err != nil {
		s.httpError(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *apiServer) deleteContainers(w http.ResponseWriter, r *http.Request, m routeMatch) {
	q := r.URL.Query()
	l := s.cluster.container(m.name)
	if l == nil {
		s.httpError(w, fmt.Sprintf("Container %s not found", m.name), http.StatusNotFound)
		return
	}
	if err := l.engine.removeContainer(context.WithoutCancel(r.Context()), l.c, boolValue(q.Get("force")), boolValue(q.Get("v"))); err != nil {
		s.httpError(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// forwardable is getContainerFromVars: the container, if it is there and
// its engine Healthy; otherwise the error has been sent.
func (s *apiServer) forwardable(w http.ResponseWriter, m routeMatch) *located {
	l := s.cluster.container(m.name)
	if l == nil {
		s.httpError(w, fmt.Sprintf("No such container: %s", m.name), http.StatusNotFound)
		return nil
	}
	if !l.engine.isHealthy() {
		s.httpError(w, fmt.Sprintf("Container %s running on unhealthy node %s", m.name, l.engineName), http.StatusInternalServerError)
		return nil
	}
	return l
}

func (s *apiServer) proxyContainer(w http.ResponseWriter, r *http.Request, m routeMatch) {
	s.forward(w, r, m, false)
}

func (s *apiServer) proxyContainerAndForceRefresh(w http.ResponseWriter, r *http.Request, m routeMatch) {
	s.forward(w, r, m, true)
}

func (s *apiServer) forward(w http.ResponseWriter, r *http.Request, m routeMatch, refresh bool) {
	l := s.forwardable(w, m)
	if l == nil {
		return
	}
	var after func()
	if refresh {
		after = func() { l.engine.refreshContainer(context.WithoutCancel(r.Context()), l.c.id(), true) }
	}
	err := proxy(l.engine.getClient(), w, r, m.pathFor(l.c.id()), after)
	l.engine.checkConnectionErr(err)
	if err != nil {
		s.httpError(w, err.Error(), http.StatusInternalServerError)
	}
}

func (s *apiServer) proxyHijack(w http.ResponseWriter, r *http.Request, m routeMatch) {
	l := s.forwardable(w, m)
	if l == nil {
		return
	}
	r.URL.Path, r.URL.RawPath = m.pathFor(l.c.id()), ""
	err := hijack(s.cluster.tlsConfig, l.engine.addr, w, r)
	l.engine.checkConnectionErr(err)
	if err != nil {
		s.httpError(w, err.Error(), http.StatusInternalServerError)
	}
}
