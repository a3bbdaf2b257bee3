package boottest

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/swarmboot/swarmboot/pki"
)

// A Refusal is a request the TLS cluster must refuse, paired with the
// operator's own request to the same server (https, the operator's client
// files), which must succeed right before it: the refusal is then the
// server turning the client away, not a dead server.
type Refusal struct {
	What     string   // e.g. "no client certificate: engine of node-3"
	URL      string   // the refused request
	Flags    []string // the refused client's curl TLS flags
	Accepted string   // the operator's request to the same server
}

// OtherCA makes a CA of its own in dir (swarmboot's pki.Init, as `swarmboot
// pki init` does) and returns its operator client's files: a certificate
// as valid as the cluster's own, from a CA the cluster does not trust.
func OtherCA(dir string) (ClientFiles, error) {
	if _, err := pki.Init(dir, "other", pki.Settings{}, false); err != nil {
		return ClientFiles{}, err
	}
	return ClientIn(filepath.Join(dir, "client")), nil
}

// TLSRefusals lists what a TLS cluster must refuse, on the engine of
// engine (2376), the manager (8333) and the etcd member on member (2379):
// a client without a certificate and a client with other's (another CA's)
// certificate on each, and plain http to etcd and to the engine. Both
// refused clients trust the cluster's CA, so a refusal is the server's
// verdict on the client, not the client's on the server.
func (c *Checker) TLSRefusals(engine, member Node, other ClientFiles) []Refusal {
	ours := ClientIn(c.Client)
	servers := []struct{ name, url string }{
		{"engine of " + engine.Name, c.url(true, engine.IP, c.Desc.Docker.Port)},
		{"manager", c.ManagerURL()},
		{"etcd member " + member.Name, c.url(true, member.IP, c.Desc.Etcd.ClientPort)},
	}
	var out []Refusal
	for _, client := range []struct {
		what  string
		files ClientFiles
	}{
		{"no client certificate", ClientFiles{CA: ours.CA}},
		{"a certificate from another CA", ClientFiles{CA: ours.CA, Cert: other.Cert, Key: other.Key}},
	} {
		for _, s := range servers {
			out = append(out, Refusal{What: client.what + ": " + s.name, URL: s.url + "/version",
				Flags: client.files.Flags(), Accepted: s.url + "/version"})
		}
	}
	return append(out,
		Refusal{What: "plain http: etcd member " + member.Name, URL: c.url(false, member.IP, c.Desc.Etcd.ClientPort) + "/version",
			Accepted: servers[2].url + "/version"},
		Refusal{What: "plain http: engine of " + engine.Name, URL: c.url(false, engine.IP, c.Desc.Docker.Port) + "/version",
			Accepted: servers[0].url + "/version"})
}

// Refused makes r's accepted request, which must succeed, then r's
// refused one, which must fail; it returns what curl said about the
// refusal (and the body of an HTTP error answer).
func (c *Checker) Refused(ctx context.Context, r Refusal) (string, error) {
	if _, err := c.Get(ctx, ClientIn(c.Client).Flags(), true, r.Accepted); err != nil {
		return "", fmt.Errorf("%s: the operator's own request failed, so a refusal would prove nothing: %w", r.What, err)
	}
	// --fail-with-body: an HTTP error status fails, its body is kept.
	body, err := c.Get(ctx, append([]string{"--fail-with-body"}, r.Flags...), false, r.URL)
	if err == nil {
		return "", fmt.Errorf("%s: %s was served: %.200s", r.What, r.URL, body)
	}
	var ce *CallError
	var exit *exec.ExitError
	if !errors.As(err, &ce) || !errors.As(ce.Err, &exit) {
		return "", fmt.Errorf("%s: curl did not run: %w", r.What, err)
	}
	if exit.ExitCode() == 28 { // a timeout is not an answer
		return "", fmt.Errorf("%s: %s timed out instead of being refused: %s", r.What, r.URL, ce.Stderr)
	}
	if ce.Stdout != "" {
		return fmt.Sprintf("%s; body: %.200q", ce.Stderr, ce.Stdout), nil
	}
	return ce.Stderr, nil
}
