package swarmboot_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot"
	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/delivery/target"
	"github.com/swarmboot/swarmboot/pki"
	"github.com/swarmboot/swarmboot/profiles"
)

const mixed = `version: 1
cluster: lib
nodes:
  - {name: etcd-01, ip: 10.0.0.11, roles: [etcd]}
  - {name: docker-01, ip: 10.0.0.21, roles: [docker, manager], profile: flatcar}
  - {name: docker-02, ip: 10.0.0.22, roles: [docker], profile: coreos}
ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKZGePaSh4ubTK9UavI4Z5FLgPGTmdMKCwyyhocrgBfS ops@example"]
`

// description writes text beside a fresh folder and returns its path.
func description(t *testing.T, text string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func build(t *testing.T, file string, o swarmboot.Options) (*swarmboot.Result, error) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	o.File = file
	res, err := swarmboot.Build(context.Background(), data, o)
	if res != nil {
		t.Cleanup(res.Close)
	}
	return res, err
}

// TestBuildWritesNothing: a build that issues (a first render: a new CA,
// every certificate) holds it all in memory; without Commit neither the
// PKI nor the output exists, and Close lets the next build in.
func TestBuildWritesNothing(t *testing.T) {
	file := description(t, mixed)
	out := filepath.Join(filepath.Dir(file), "out")
	res, err := build(t, file, swarmboot.Options{Output: out})
	if err != nil {
		t.Fatal(err)
	}
	if !res.PKI.Created || !res.PKI.Writes || len(res.Files) == 0 {
		t.Fatalf("a first render creates a CA and files: %+v, %d files", res.PKI, len(res.Files))
	}
	res.Close()
	for _, p := range []string{out, filepath.Join(filepath.Dir(file), "pki", "ca.pem")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists after a build without Commit (%v)", p, err)
		}
	}
	done := make(chan error, 1)
	go func() {
		res, err := build(t, file, swarmboot.Options{Output: out})
		if err == nil {
			res.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not release the PKI: the next build waits")
	}
}

// TestCommit: Commit stores the PKI and the output together; a read-only
// build afterwards (what a Terraform read does) reproduces the output
// byte for byte, and writes nothing.
func TestCommit(t *testing.T) {
	file := description(t, mixed)
	dir := filepath.Dir(file)
	out := filepath.Join(dir, "out")
	res, err := build(t, file, swarmboot.Options{Output: out})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Commit(); err != nil {
		t.Fatal(err)
	}
	for path, data := range res.Files {
		got, err := os.ReadFile(filepath.Join(out, path))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: not written as built (%v)", path, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "pki", "nodes", "docker-02", "cert.pem")); err != nil {
		t.Fatalf("the PKI was not committed: %v", err)
	}
	again, err := build(t, file, swarmboot.Options{PKIMode: swarmboot.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Files) != len(res.Files) || again.PKI.Writes {
		t.Fatalf("read-only build: %d files (want %d), writes %v", len(again.Files), len(res.Files), again.PKI.Writes)
	}
	for path, data := range res.Files {
		if !bytes.Equal(again.Files[path], data) {
			t.Errorf("%s differs in the read-only build", path)
		}
	}
	if !bytes.Equal(again.PKI.CA, res.PKI.CA) || !bytes.HasPrefix(again.PKI.CA, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Errorf("the CA bundle differs or is not a certificate:\n%s", again.PKI.CA)
	}
	first, err := again.NotAfter()
	if err != nil || first.IsZero() || time.Until(first) < 300*24*time.Hour {
		t.Errorf("NotAfter %v (%v): want the nodes' one-year expiry", first, err)
	}
}

// TestReadOnlyNeverIssues: a read-only build without a PKI, or one that
// would have to issue, fails saying so, and writes nothing.
func TestReadOnlyNeverIssues(t *testing.T) {
	file := description(t, mixed)
	dir := filepath.Dir(file)
	if _, err := build(t, file, swarmboot.Options{PKIMode: swarmboot.ReadOnly}); !errors.Is(err, pki.ErrNoCA) {
		t.Fatalf("no PKI: %v, want ErrNoCA", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pki")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a read-only build made the PKI folder (%v)", err)
	}
	res, err := build(t, file, swarmboot.Options{Output: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Commit(); err != nil {
		t.Fatal(err)
	}
	grown := strings.Replace(mixed, "nodes:\n", "nodes:\n  - {name: docker-03, ip: 10.0.0.23, roles: [docker]}\n", 1)
	if err := os.WriteFile(file, []byte(grown), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := build(t, file, swarmboot.Options{PKIMode: swarmboot.ReadOnly}); !errors.Is(err, pki.ErrWouldIssue) || !strings.Contains(err.Error(), "docker-03") {
		t.Fatalf("a node to issue: %v, want ErrWouldIssue naming docker-03", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pki", "nodes", "docker-03")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a read-only build issued docker-03 (%v)", err)
	}
	// validate's mode builds with stand-ins, and they cannot be committed.
	res, err = build(t, file, swarmboot.Options{PKIMode: swarmboot.StandIns, Output: filepath.Join(dir, "other")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Commit(); !errors.Is(err, swarmboot.ErrStandIns) {
		t.Fatalf("Commit of stand-ins: %v", err)
	}
}

// TestFindings: an invalid description is an *InvalidError, and every
// finding carries its file, line, column and path.
func TestFindings(t *testing.T) {
	file := description(t, strings.Replace(mixed, "ip: 10.0.0.21", "ip: 10.0.0.300", 1))
	res, err := build(t, file, swarmboot.Options{})
	var invalid *swarmboot.InvalidError
	if !errors.As(err, &invalid) || !errors.Is(err, swarmboot.ErrInvalid) || !strings.Contains(invalid.Summary, "1 error, 0 warnings") {
		t.Fatalf("want an InvalidError counting 1 error, got %v", err)
	}
	if len(res.Findings) != 1 {
		t.Fatalf("findings: %+v", res.Findings)
	}
	f := res.Findings[0]
	if f.File != file || f.Line != 5 || f.Column != 27 || f.Path != "$.nodes[1].ip" || f.Severity != "error" || !strings.Contains(f.Message, "10.0.0.300") {
		t.Errorf("finding %+v", f)
	}
	if res.Files != nil {
		t.Errorf("an invalid description delivered %d files", len(res.Files))
	}
}

// TestStrictMeansEveryWarning: the delivery's warnings (here AWS's IMDSv2
// advice for user-data that holds keys) are findings too, and --strict
// fails on them as on the description's.
func TestStrictMeansEveryWarning(t *testing.T) {
	file := description(t, mixed)
	aws, err := target.Lookup("aws")
	if err != nil {
		t.Fatal(err)
	}
	o := swarmboot.Options{PKIMode: swarmboot.StandIns, Delivery: delivery.Options{Target: &aws}}
	res, err := build(t, file, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) == 0 || !strings.Contains(res.Findings[len(res.Findings)-1].Message, "HttpTokens=required") {
		t.Fatalf("no IMDSv2 finding: %+v", res.Findings)
	}
	o.Strict = true
	if _, err := build(t, file, o); !errors.Is(err, swarmboot.ErrInvalid) {
		t.Fatalf("strict with a delivery warning: %v", err)
	}
}

// TestFormatsPerProfile: each profile's nodes get the format named for
// it (a family names its releases), the others their defaults, and a
// format a profile does not read is an option error naming the nodes.
func TestFormatsPerProfile(t *testing.T) {
	file := description(t, mixed)
	o := swarmboot.Options{PKIMode: swarmboot.StandIns}
	o.Delivery.Formats = map[string][]profiles.Format{"flatcar": {profiles.CoreOSCloudConfig}}
	res, err := build(t, file, o)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]profiles.Format{}
	for _, n := range res.Nodes {
		got[n.Name] = n.Format
	}
	want := map[string]profiles.Format{"etcd-01": profiles.CloudConfig, "docker-01": profiles.CoreOSCloudConfig, "docker-02": profiles.CoreOSCloudConfig}
	for name, f := range want {
		if got[name] != f {
			t.Errorf("%s: %s, want %s", name, got[name], f)
		}
	}
	if _, ok := res.Files["docker-01/config.ign"]; ok {
		t.Error("flatcar's default Ignition was rendered beside the format asked for")
	}
	o.Delivery.Formats = map[string][]profiles.Format{"ubuntu": {profiles.Ignition}}
	var oe *delivery.OptionError
	if _, err := build(t, file, o); !errors.As(err, &oe) || !strings.Contains(err.Error(), "ubuntu does not read ignition") {
		t.Fatalf("ubuntu=ignition: %v", err)
	}
}

// TestVirtualBoxRangeWarning: a Vagrant environment whose addresses
// VirtualBox 6.1.28+ refuses is one warning, at the first such node's ip
// in the description (line, column and path as data, and in the
// message), with both ways out; addresses in 192.168.56.0/21 draw none.
func TestVirtualBoxRangeWarning(t *testing.T) {
	text := "version: 1\ncluster: vb\nprofile: debian-12\nnetwork: {prefix: 24}\nnodes:\n" +
		"  - {name: etcd-01, ip: 192.168.56.11, roles: [etcd]}\n" +
		"  - {name: docker-01,   ip: 192.168.101.21, roles: [docker, manager]}\n" +
		"  - {name: docker-02, ip: 10.0.0.22, roles: [docker]}\n"
	file := description(t, text)
	o := swarmboot.Options{PKIMode: swarmboot.StandIns, Delivery: delivery.Options{Packaging: delivery.Vagrant}}
	res, err := build(t, file, o)
	if err != nil {
		t.Fatal(err)
	}
	var found []swarmboot.Finding
	for _, f := range res.Findings {
		if strings.Contains(f.Message, "192.168.56.0/21") {
			found = append(found, f)
		}
	}
	if len(found) != 1 {
		t.Fatalf("VirtualBox range findings: %+v", found)
	}
	f := found[0]
	if f.File != file || f.Line != 7 || f.Column != 29 || f.Path != "$.nodes[1].ip" || f.Severity != "warning" {
		t.Errorf("finding at %s:%d:%d %s (%s), want line 7, column 29, $.nodes[1].ip", f.File, f.Line, f.Column, f.Path, f.Severity)
	}
	for _, want := range []string{"docker-01's 192.168.101.21 and 1 more node(s)", "/etc/vbox/networks.conf", "`* 192.168.101.0/24 10.0.0.0/24`", "`* 10.0.0.0/8 192.168.0.0/16`"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("the warning lacks %q:\n%s", want, f.Message)
		}
	}
	if !slices.Contains(res.Warnings, file+":7:29: "+f.Message) {
		t.Errorf("warnings %q lack the finding with its position", res.Warnings)
	}
	o.Strict = true
	if _, err := build(t, file, o); !errors.Is(err, swarmboot.ErrInvalid) {
		t.Errorf("strict with the range warning: %v", err)
	}
	inside := description(t, strings.NewReplacer("192.168.101.21", "192.168.57.21", "10.0.0.22", "192.168.63.22").Replace(text))
	o.Strict = false
	if res, err := build(t, inside, o); err != nil || len(res.Warnings) != 0 {
		t.Errorf("addresses in 192.168.56.0/21: %v, warnings %q", err, res.Warnings)
	}
}
