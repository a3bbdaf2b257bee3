package boottest

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/swarmboot/swarmboot/pki"
	"github.com/swarmboot/swarmboot/verify"
	"gopkg.in/yaml.v3"
)

// firstBootUnits are the units a clean first boot must never see fail:
// the cluster's own and the certificate agent.
var firstBootUnits = []string{
	"etcd.service", "etcd-member.service", "docker.service", "docker-tcp.socket",
	"swarm-join.service", "swarm-manage.service", "swarmboot-cert-renew.service",
}

// FailedClusterUnits lists the cluster's units the journal text says
// failed (FailedUnits), in first-seen order.
func FailedClusterUnits(journal string) []string {
	var out []string
	for _, u := range FailedUnits(strings.Split(ansi.ReplaceAllString(journal, ""), "\n")) {
		if slices.Contains(firstBootUnits, u) {
			out = append(out, u)
		}
	}
	return out
}

// DockerVia runs the docker CLI against a manager (with --tlsverify and
// the operator's certificate where the manager uses TLS). It may take two
// minutes: a container run through the manager is created, started and
// waited for on an engine of a TCG VM (10 s was too short once).
func (c *Checker) DockerVia(ctx context.Context, m Node, args ...string) (string, error) {
	var flags []string
	if c.Desc.Docker.TLS {
		f := ClientIn(c.Client)
		flags = []string{"--tlsverify", "--tlscacert", f.CA, "--tlscert", f.Cert, "--tlskey", f.Key}
	}
	flags = append(flags, "-H", fmt.Sprintf("tcp://%s:%d", m.IP, c.Desc.Swarm.Manager.Port))
	return c.callWithin(ctx, 2*time.Minute, nil, "docker", append(flags, args...)...)
}

// ContainerState is what an engine says of one of its containers.
type ContainerState struct {
	ID        string
	Running   bool
	StartedAt string
	Node      string // the engine's node, as the manager places it
}

// ManagerContainer asks the manager where a container runs and its state.
func (c *Checker) ManagerContainer(ctx context.Context, id string) (ContainerState, error) {
	out, err := c.curl(ctx, c.Desc.Docker.TLS, true, c.ManagerURL()+"/containers/"+id+"/json")
	if err != nil {
		return ContainerState{}, err
	}
	return parseContainer(out)
}

// EngineContainer asks a node's engine itself about one of its containers.
func (c *Checker) EngineContainer(ctx context.Context, n Node, id string) (ContainerState, error) {
	out, err := c.curl(ctx, c.Desc.Docker.TLS, true, c.EngineURL(n)+"/containers/"+id+"/json")
	if err != nil {
		return ContainerState{}, err
	}
	s, err := parseContainer(out)
	s.Node = n.Name
	return s, err
}

func parseContainer(body string) (ContainerState, error) {
	var v struct {
		ID    string `json:"Id"`
		State struct {
			Running   bool
			StartedAt string
		}
		Node *struct{ Name string }
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil || v.ID == "" {
		return ContainerState{}, fmt.Errorf("not a container's inspection: %v: %.200s", err, body)
	}
	s := ContainerState{ID: v.ID, Running: v.State.Running, StartedAt: v.State.StartedAt}
	if v.Node != nil {
		s.Node = v.Node.Name
	}
	return s, nil
}

// PKICert is the certificate the PKI holds for a node.
func (c *Cluster) PKICert(node string) (*x509.Certificate, error) {
	b, err := os.ReadFile(filepath.Join(c.Prep.PKI, "nodes", node, "cert.pem"))
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s's cert.pem holds no PEM", node)
	}
	return x509.ParseCertificate(blk.Bytes)
}

// WithValidity writes into dir a copy of the description whose
// certificates last d, for `pki renew`: the cluster, its nodes and
// names stay the description's. Its snippets are left out: they are read
// relative to the original, and renewing does not use them.
func WithValidity(description, dir string, d time.Duration) (string, error) {
	b, err := os.ReadFile(description)
	if err != nil {
		return "", err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return "", fmt.Errorf("%s: not a description (%v)", description, err)
	}
	root := doc.Content[0]
	var tls *yaml.Node
	var kept []*yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch k, v := root.Content[i], root.Content[i+1]; k.Value {
		case "snippets":
			continue
		case "tls":
			tls = v
		}
		kept = append(kept, root.Content[i], root.Content[i+1])
	}
	if tls == nil || tls.Kind != yaml.MappingNode {
		return "", fmt.Errorf("%s has no tls: mapping to set validity in", description)
	}
	root.Content = kept
	set := false
	for i := 0; i+1 < len(tls.Content); i += 2 {
		if tls.Content[i].Value == "validity" {
			tls.Content[i+1].SetString(d.String())
			set = true
		}
	}
	if !set {
		tls.Content = append(tls.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "validity"}, &yaml.Node{Kind: yaml.ScalarNode, Value: d.String()})
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return "", err
	}
	name := filepath.Join(dir, strings.TrimSuffix(filepath.Base(description), ".yaml")+"-"+d.String()+".yaml")
	return name, os.WriteFile(name, out, 0o644)
}

// Swarmboot runs the swarmboot the cluster was rendered with, on the
// segment, against its description and PKI; it returns what it printed on
// standard output and, on failure, an error holding standard error.
func (c *Cluster) Swarmboot(ctx context.Context, args ...string) (string, error) {
	return c.swarmboot(ctx, append(args, c.Prep.Description, "--pki", c.Prep.PKI)...)
}

// VerifyReport is `swarmboot verify --json` once, healthy or not.
func (c *Cluster) VerifyReport(ctx context.Context) (*verify.Report, error) {
	out, err := c.Swarmboot(ctx, "verify", "--json", "--timeout", "8s")
	if err != nil && !isExit1(err) {
		return nil, err
	}
	var r verify.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return nil, fmt.Errorf("swarmboot verify --json: %w: %.300s", err, out)
	}
	return &r, nil
}

// CertChecks are a node's certificate checks in a report ("etcd
// certificate", "engine certificate", "manager certificate").
func CertChecks(r *verify.Report, node string) []verify.Check {
	var out []verify.Check
	for _, ch := range r.Checks {
		if ch.Node == node && strings.HasSuffix(ch.What, " certificate") {
			out = append(out, ch)
		}
	}
	return out
}

// PickedUp says whether every endpoint of the node serves want (the
// certificate the PKI holds for it), valid and from the cluster's CA: by
// the fingerprint verify read in each handshake.
func PickedUp(r *verify.Report, node string, want *x509.Certificate) error {
	checks := CertChecks(r, node)
	if len(checks) == 0 {
		return fmt.Errorf("verify has no certificate check for %s", node)
	}
	for _, ch := range checks {
		if !ch.OK || ch.Fingerprint != pki.Fingerprint(want) {
			return fmt.Errorf("%s %s: %s %s", node, ch.What, ch.Mark(), ch.Detail)
		}
	}
	return nil
}

// Expired says whether every certificate the node serves is refused as
// expired.
func Expired(r *verify.Report, node string) error {
	checks := CertChecks(r, node)
	if len(checks) == 0 {
		return errors.New("verify has no certificate check for " + node)
	}
	for _, ch := range checks {
		if ch.OK || !strings.Contains(ch.Detail, "serves a certificate that expired on") {
			return fmt.Errorf("%s %s: %s %s", node, ch.What, ch.Mark(), ch.Detail)
		}
	}
	return nil
}
