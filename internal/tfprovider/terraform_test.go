package tfprovider

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/swarmboot/swarmboot/internal/cli"
	"github.com/swarmboot/swarmboot/internal/testutil"
)

// These tests run the real Terraform (1.11.4 on these machines) offline:
// this provider, built from cmd/terraform-provider-swarmboot, from a
// filesystem mirror the test makes, and the AWS provider from the
// machine's mirror, for its schema (mock_provider answers for it).

// awsMirror holds hashicorp/aws 5.100.0 (docs/FACTS: /opt/tf-plugins).
const awsMirror = "/opt/tf-plugins"

// mirrorVersion is the version the built provider is mirrored as.
const mirrorVersion = "0.0.1"

// built is the provider binary, built once for the package's tests into
// a folder TestMain removes.
var built struct {
	sync.Once
	mirror string
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.mirror != "" {
		os.RemoveAll(built.mirror)
	}
	os.Exit(code)
}

// terraform is the terraform binary with a CLI configuration that
// installs providers from the two mirrors only: nothing leaves the machine.
type terraform struct {
	bin string
	env []string
}

func newTerraform(t *testing.T) *terraform {
	t.Helper()
	bin := testutil.NeedTool(t, "terraform", "terraform (HashiCorp's 1.11.4 release in /usr/local/bin; Debian has none)")
	aws := filepath.Join(awsMirror, "registry.terraform.io", "hashicorp", "aws")
	if _, err := os.Stat(aws); err != nil {
		if testutil.InCI() {
			t.Fatalf("the AWS provider mirror is missing (%v): CI machines carry hashicorp/aws 5.100.0 in %s", err, awsMirror)
		}
		t.Skipf("no AWS provider mirror in %s (%v)", awsMirror, err)
	}
	built.Do(func() {
		if built.mirror, built.err = os.MkdirTemp("", "swarmboot-tf-mirror-"); built.err != nil {
			return
		}
		exe := filepath.Join(built.mirror, "registry.terraform.io", "swarmboot", "swarmboot", mirrorVersion, "linux_amd64",
			"terraform-provider-swarmboot_v"+mirrorVersion)
		out, err := exec.Command("go", "build", "-o", exe, "github.com/swarmboot/swarmboot/cmd/terraform-provider-swarmboot").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	rc := write(t, t.TempDir(), "terraformrc", fmt.Sprintf(`disable_checkpoint = true
provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/swarmboot/swarmboot"]
  }
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/hashicorp/*"]
  }
}
`, built.mirror, awsMirror))
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TF_") && !strings.HasPrefix(kv, "CHECKPOINT_") {
			env = append(env, kv)
		}
	}
	env = append(env, "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0")
	return &terraform{bin: bin, env: env}
}

// run runs terraform in dir and returns its output and exit code.
func (tf *terraform) run(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(tf.bin, args...)
	cmd.Dir, cmd.Env = dir, tf.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("terraform %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), cmd.ProcessState.ExitCode()
}

// ok runs terraform and fails the test unless it exits 0.
func (tf *terraform) ok(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, code := tf.run(t, dir, args...)
	if code != 0 {
		t.Fatalf("terraform %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// TestTerraformExampleAWS runs the AWS example module's own test
// (examples/terraform/aws/tests) with the AWS provider mocked: one
// aws_instance per node of the seed, each with its node's address, the
// file `swarmboot render --target aws --encode gzip` wrote as its
// user_data_base64, and IMDSv2 with one hop.
func TestTerraformExampleAWS(t *testing.T) {
	tf := newTerraform(t)
	root := t.TempDir()
	module := filepath.Join(root, "examples", "terraform", "aws")
	for _, f := range []string{"versions.tf", "variables.tf", "main.tf", "outputs.tf", "tests/seed.tftest.hcl"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", "terraform", "aws", f))
		must(t, err)
		write(t, module, f, string(data))
	}
	seed := example(t, "seed.yaml")
	must(t, os.Rename(seed, filepath.Join(root, "examples", "seed.yaml")))
	// Where the module's test reads them, as its comment says to render.
	rendered := filepath.Join(module, "rendered")
	var stdout, stderr bytes.Buffer
	if code := cli.Main([]string{"render", filepath.Join(root, "examples", "seed.yaml"), "--target", "aws", "--encode", "gzip", "-o", rendered}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("swarmboot render: exit %d\n%s", code, stderr.String())
	}
	tf.ok(t, module, "init", "-input=false", "-no-color")
	out := tf.ok(t, module, "test", "-no-color")
	if !strings.Contains(out, "Success! 2 passed, 0 failed.") {
		t.Fatalf("terraform test:\n%s", out)
	}
	// The seed's warnings, as Terraform prints them: where, and what to do.
	for _, want := range []string{
		"Warning: Cluster description warning at $.etcd.tls",
		"./../../seed.yaml:16:8: warning at $.etcd.tls: etcd takes any client",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("terraform test does not print %q:\n%s", want, out)
		}
	}
}

// TestTerraformFmt: both example modules are formatted as terraform fmt
// writes them. (The OpenStack module's own test needs the OpenStack
// provider, which no mirror here holds.)
func TestTerraformFmt(t *testing.T) {
	tf := newTerraform(t)
	if out, code := tf.run(t, filepath.Join("..", ".."), "fmt", "-check", "-recursive", "-diff", "-no-color", "examples/terraform"); code != 0 {
		t.Fatalf("terraform fmt -check: exit %d\n%s", code, out)
	}
}

// TestTerraformForEach: with TLS, nodes feeds for_each; plan shows the
// user-data as (sensitive value) and never the key; a second plan after
// apply has no changes; nothing in the PKI or the output folder changes.
// Marking the map itself sensitive is what Terraform refuses, and so is
// an output of the whole map without sensitive = true: Terraform sees
// the nested user-data as sensitive.
func TestTerraformForEach(t *testing.T) {
	tf := newTerraform(t)
	file := example(t, "secure.yaml")
	dir := filepath.Dir(file)
	out := render(t, file)
	// What the reads must leave alone: the PKI and the rendered output
	// (Terraform writes its own files beside them).
	watched := func() map[string]string {
		m := tree(t, filepath.Join(dir, "pki"))
		maps.Copy(m, tree(t, out))
		return m
	}
	before := watched()
	config := func(name, forEach, output string) string {
		return write(t, dir, filepath.Join(name, "main.tf"), fmt.Sprintf(`terraform {
  required_providers {
    swarmboot = { source = "swarmboot/swarmboot" }
  }
}

data "swarmboot_cluster" "this" {
  path = "../secure.yaml"
}

resource "terraform_data" "node" {
  for_each = %s
  input = {
    ip        = each.value.ip
    user_data = each.value.user_data
  }
}

output "nodes" {
  value = %s
}
`, forEach, output))
	}
	nodes := "data.swarmboot_cluster.this.nodes"
	ok := filepath.Dir(config("ok", nodes, "{ for name, node in "+nodes+" : name => node.ip }"))
	tf.ok(t, ok, "init", "-input=false", "-no-color")
	applied := tf.ok(t, ok, "apply", "-auto-approve", "-no-color")
	for _, want := range []string{
		`terraform_data.node["docker-01"] will be created`,
		"user_data = (sensitive value)",
		"Apply complete! Resources: 6 added, 0 changed, 0 destroyed.",
		`"etcd-01" = "192.168.101.101"`,
	} {
		if !strings.Contains(applied, want) {
			t.Errorf("apply does not print %q:\n%s", want, applied)
		}
	}
	if strings.Contains(applied, "PRIVATE KEY") {
		t.Errorf("apply printed a private key:\n%s", applied)
	}
	plan, code := tf.run(t, ok, "plan", "-detailed-exitcode", "-no-color")
	if code != 0 || !strings.Contains(plan, "No changes.") {
		t.Errorf("a plan after apply: exit %d, want 0 and No changes:\n%s", code, plan)
	}

	sensitiveMap := filepath.Dir(config("sensitive-map", "sensitive("+nodes+")", "length("+nodes+")"))
	tf.ok(t, sensitiveMap, "init", "-input=false", "-no-color")
	plan, code = tf.run(t, sensitiveMap, "plan", "-no-color")
	if code == 0 || !strings.Contains(plan, "Error: Invalid for_each argument") ||
		!strings.Contains(strings.Join(strings.Fields(plan), " "), "Sensitive values, or values derived from sensitive values, cannot be used as for_each arguments.") {
		t.Errorf("for_each over a sensitive map: exit %d, want Terraform's refusal:\n%s", code, plan)
	}
	t.Logf("for_each = sensitive(nodes):\n%s", plan)

	wholeMap := filepath.Dir(config("whole-map", nodes, nodes))
	tf.ok(t, wholeMap, "init", "-input=false", "-no-color")
	plan, code = tf.run(t, wholeMap, "plan", "-no-color")
	if code == 0 || !strings.Contains(plan, "Error: Output refers to sensitive values") {
		t.Errorf("an output of nodes without sensitive = true: exit %d, want Terraform's refusal:\n%s", code, plan)
	}

	if after := watched(); !reflect.DeepEqual(after, before) {
		t.Errorf("Terraform's reads changed the PKI or the output:\n%s", treeDiff(before, after))
	}
}

// TestTerraformDiagnostics: what Terraform prints for an invalid
// description (the file and line:col of the value at fault, on the path
// argument) and for a TLS description without its PKI (the command that
// makes it).
func TestTerraformDiagnostics(t *testing.T) {
	tf := newTerraform(t)
	seed, err := os.ReadFile(filepath.Join("..", "..", "examples", "seed.yaml"))
	must(t, err)
	text := strings.Replace(string(seed), "ip: 192.168.101.112", "ip: 192.168.101.300", 1)
	dir := t.TempDir()
	bad := write(t, dir, "bad.yaml", text)
	secure := example(t, "secure.yaml")
	write(t, dir, "main.tf", `terraform {
  required_providers {
    swarmboot = { source = "swarmboot/swarmboot" }
  }
}

variable "file" {
  type = string
}

data "swarmboot_cluster" "this" {
  path = var.file
}

output "ips" {
  value = { for name, node in data.swarmboot_cluster.this.nodes : name => node.ip }
}
`)
	tf.ok(t, dir, "init", "-input=false", "-no-color")
	for _, c := range []struct {
		file string
		want []string
	}{
		{bad, []string{
			"Error: Cluster description error at $.nodes[4].ip",
			"on main.tf line 12, in data \"swarmboot_cluster\" \"this\":",
			bad + ":" + position(t, text, "docker-02", "192.168.101.300") + `: error at $.nodes[4].ip: "192.168.101.300" is not an IP address`,
		}},
		{secure, []string{
			"Error: No PKI for this cluster",
			"`swarmboot pki init " + secure + "`",
		}},
	} {
		out, code := tf.run(t, dir, "plan", "-no-color", "-var", "file="+c.file)
		// Terraform wraps details at 78 columns: compare with lines joined.
		joined := strings.Join(strings.Fields(out), " ")
		for _, want := range c.want {
			if code == 0 || !strings.Contains(joined, strings.Join(strings.Fields(want), " ")) {
				t.Errorf("plan of %s: exit %d, want %q in:\n%s", filepath.Base(c.file), code, want, out)
			}
		}
	}
}
