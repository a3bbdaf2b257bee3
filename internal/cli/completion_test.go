package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmboot/swarmboot/internal/testutil"
)

// completions is what `swarmboot __complete WORDS...` answers.
func completions(t *testing.T, words ...string) []string {
	t.Helper()
	var out bytes.Buffer
	if code := Main(append([]string{completeCommand}, words...), strings.NewReader(""), &out, &out); code != ExitOK {
		t.Fatalf("__complete %q: exit %d", words, code)
	}
	return strings.Fields(out.String())
}

func TestCompleteWords(t *testing.T) {
	seed := seedPath(t)
	for _, tc := range []struct {
		words []string
		want  string // joined by spaces
	}{
		{[]string{"ren"}, "render"},
		{[]string{"p"}, "pki profiles"},
		{[]string{"render", seed, "--node", "etcd-0"}, "etcd-01 etcd-02 etcd-03"},
		{[]string{"render", seed, "-n", "dock"}, "docker-01 docker-02 docker-03"},
		{[]string{"render", seed, "--nodes", "ro"}, "role=etcd role=docker role=manager"},
		{[]string{"render", seed, "--format", "fl"}, "flatcar="},
		{[]string{"render", seed, "--format", "m"}, "matchbox"},
		{[]string{"render", seed, "--format", "flatcar=m"}, "flatcar=matchbox"},
		{[]string{"render", seed, "--format", "ubuntu="}, "ubuntu=cloud-config ubuntu=nocloud-iso ubuntu=config-drive"},
		{[]string{"render", seed, "--format", "flatcar=matchbox,u"}, "flatcar=matchbox,ubuntu="},
		{[]string{"render", seed, "--format", "flatcar=matchbox,ubuntu=n"}, "flatcar=matchbox,ubuntu=nocloud-iso"},
		{[]string{"render", seed, "--format", "nosuch="}, ""},
		{[]string{"render", seed, "--encode", "g"}, "gzip gzip+base64"},
		{[]string{"render", seed, "--target", "a"}, "aws azure"},
		{[]string{"render", seed, "-o", ""}, dirDirective},
		{[]string{"render", "--no"}, "--node --nodes"},
		{[]string{"render", ""}, fileDirective},
		{[]string{"pki", ""}, "init renew status"},
		{[]string{"pki", "init", ""}, fileDirective},
		{[]string{"completion", "f"}, "fish"},
		{[]string{"vagrant", seed, "--box", "deb"}, "debian= debian-12= debian-13= debian-14="},
		{[]string{"nosuch", ""}, ""},
	} {
		if got := strings.Join(completions(t, tc.words...), " "); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.words, got, tc.want)
		}
	}
}

// TestCompletionScripts loads each shell's script in that shell and asks
// it to complete a line, with a swarmboot built from this code on PATH.
func TestCompletionScripts(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "swarmboot")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/swarmboot/swarmboot/cmd/swarmboot").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data, err := os.ReadFile(seedPath(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "seed.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	script := func(shell string) string {
		var out bytes.Buffer
		if code := Main([]string{"completion", shell}, strings.NewReader(""), &out, &out); code != ExitOK {
			t.Fatalf("completion %s: exit %d", shell, code)
		}
		path := filepath.Join(dir, "complete."+shell)
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	run := func(shell string, args ...string) string {
		t.Helper()
		cmd := exec.Command(testutil.NeedTool(t, shell, shell), args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", shell, err, out)
		}
		return string(out)
	}
	want := "etcd-01\netcd-02\netcd-03\n"
	// bash gives the line and its own split of it, which breaks at "=":
	// what it replaces is the last piece.
	bash := func(line string, words ...string) string {
		t.Helper()
		return run("bash", "-c", "source "+script("bash")+fmt.Sprintf(`; COMP_LINE=%q; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(%s); COMP_CWORD=%d; _swarmboot; printf '%%s\n' "${COMPREPLY[@]}"`,
			line, strings.Join(words, " "), len(words)-1))
	}
	if got := bash("swarmboot render seed.yaml --node e", "swarmboot", "render", "seed.yaml", "--node", "e"); got != want {
		t.Errorf("bash: %q, want %q", got, want)
	}
	if got := bash("swarmboot render se", "swarmboot", "render", "se"); got != "seed.yaml\n" {
		t.Errorf("bash, a file: %q", got)
	}
	if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := bash("swarmboot render seed.yaml -o ", "swarmboot", "render", "seed.yaml", "-o", "''"); got != "out\n" {
		t.Errorf("bash, -o: %q, want the folder out", got)
	}
	// --format's per-profile items, past bash's "=" and "," (one word).
	if got := bash("swarmboot render seed.yaml --format flatcar=ma", "swarmboot", "render", "seed.yaml", "--format", "flatcar", "=", "ma"); got != "matchbox\n" {
		t.Errorf("bash, flatcar=ma: %q, want matchbox", got)
	}
	if got := bash("swarmboot render seed.yaml --format flatcar=", "swarmboot", "render", "seed.yaml", "--format", "flatcar", "="); !strings.Contains(got, "=ignition\n") || !strings.Contains(got, "=matchbox\n") {
		t.Errorf("bash, flatcar=: %q", got)
	}
	if got := bash("swarmboot render seed.yaml --format flatcar=matchbox,ub", "swarmboot", "render", "seed.yaml", "--format", "flatcar", "=", "matchbox,ub"); got != "matchbox,ubuntu=\n" {
		t.Errorf("bash, a second item: %q", got)
	}
	if got := run("fish", "-c", "source "+script("fish")+`; complete -C "swarmboot render seed.yaml --node e"`); got != want {
		t.Errorf("fish: %q, want %q", got, want)
	}
	if got := run("fish", "-c", "source "+script("fish")+`; complete -C "swarmboot render seed.yaml --format flatcar=matchbox,ubuntu=n"`); got != "flatcar=matchbox,ubuntu=nocloud-iso\n" {
		t.Errorf("fish, per-profile --format: %q", got)
	}
	// zsh completes only inside its line editor: compadd and _files are
	// stood in for, printing what they are given.
	got := run("zsh", "-c", "compdef() {}; source "+script("zsh")+`; compadd() { print -l -- "$@" | grep -v '^-' }; _files() { print FILES }; words=(swarmboot render seed.yaml --node e); CURRENT=5; _swarmboot; words=(swarmboot render se); CURRENT=3; _swarmboot`)
	if strings.Fields(got)[0] != "etcd-01" || !strings.Contains(got, "etcd-03") || !strings.HasSuffix(got, "FILES\n") {
		t.Errorf("zsh: %q", got)
	}
}
