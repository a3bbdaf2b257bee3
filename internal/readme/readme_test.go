// Package readme runs every console example of the top-level README.md,
// as butane's test script runs its docs' examples, and compares the output
// with the README's text.
//
// A ```console block is a session: lines starting with "$ " are commands,
// the lines after each are what it prints (standard output and standard
// error, in the order written). A line that is only "..." (indentation
// allowed) stands for any number of lines the README leaves out. Every
// block runs in a fresh folder holding examples/ (the repository's), the
// files of testdata/, and big.yaml (the seed with 200 SSH keys).
//
// Commands are `swarmboot ...`, run through cli.Main as the binary runs
// it, and `ls DIR...`, done in Go as GNU ls prints a short listing to a
// terminal. Anything else fails the test: show it in a ```sh block.
package readme

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/swarmboot/swarmboot/examples"
	"github.com/swarmboot/swarmboot/internal/cli"
	_ "github.com/swarmboot/swarmboot/internal/testutil" // accepts -update
)

// block is one console example.
type block struct {
	line     int // of its first command, in README.md
	commands []command
}

type command struct {
	line int
	text string   // as written after "$ "
	want []string // the lines the README shows
}

// consoleBlocks returns the ```console blocks of a Markdown text.
func consoleBlocks(text string) ([]block, error) {
	var blocks []block
	var cur *block
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		switch {
		case cur == nil && line == "```console":
			cur = &block{line: n + 1}
		case cur == nil:
		case line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case strings.HasPrefix(line, "$ "):
			cur.commands = append(cur.commands, command{line: n, text: line[2:]})
		case len(cur.commands) == 0:
			return nil, fmt.Errorf("README.md:%d: a console block must start with a `$ ` command line", n)
		default:
			c := &cur.commands[len(cur.commands)-1]
			c.want = append(c.want, line)
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("README.md:%d: console block not closed", cur.line)
	}
	return blocks, nil
}

// words splits a command line as a shell does for the simple lines the
// README holds: blanks separate words, quotes group, '#' at a word's start
// begins a comment.
func words(line string) ([]string, error) {
	var out []string
	var w strings.Builder
	inWord, quote := false, rune(0)
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, w.String())
				w.Reset()
				inWord = false
			}
		case r == '#' && !inWord:
			return out, nil
		case strings.ContainsRune("|&;<>()$`\\*?", r):
			return nil, fmt.Errorf("shell syntax %q is not supported", r)
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed quote")
	}
	if inWord {
		out = append(out, w.String())
	}
	return out, nil
}

// run runs one command in the current directory and returns what it
// prints.
func run(line string) (string, error) {
	args, err := words(line)
	if err != nil {
		return "", err
	}
	if len(args) == 0 {
		return "", fmt.Errorf("no command")
	}
	var out bytes.Buffer
	switch args[0] {
	case "swarmboot":
		// One buffer for both streams keeps them in the order written; the
		// exit status is not shown in the README, the messages are.
		cli.Main(args[1:], strings.NewReader(""), &out, &out)
	case "ls":
		if err := ls(&out, args[1:]); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("%s is not supported here; show it in a ```sh block, or teach internal/readme to run it", args[0])
	}
	return out.String(), nil
}

// ls prints as GNU ls does to a terminal when each listing fits on one
// line: names sorted and two spaces apart, a "DIR:" heading and a blank
// line between listings when several operands are given.
func ls(w *bytes.Buffer, args []string) error {
	if len(args) == 0 {
		args = []string{"."}
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			return fmt.Errorf("ls %s: options are not supported", a)
		}
	}
	args = append([]string(nil), args...)
	sort.Strings(args)
	for i, dir := range args {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		var names []string
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".") {
				names = append(names, e.Name())
			}
		}
		row := strings.Join(names, "  ")
		if len(row) > 80 {
			return fmt.Errorf("ls %s: wider than a terminal, which ls would print in columns", dir)
		}
		if i > 0 {
			w.WriteString("\n")
		}
		if len(args) > 1 {
			fmt.Fprintf(w, "%s:\n", dir)
		}
		if row != "" {
			w.WriteString(row + "\n")
		}
	}
	return nil
}

// matches reports whether the output's lines are the wanted ones, where a
// "..." line stands for any number of lines.
func matches(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if strings.TrimSpace(want[0]) == "..." {
		for i := 0; i <= len(got); i++ {
			if matches(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && want[0] == got[0] && matches(want[1:], got[1:])
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// diff is a line diff, "- " for the README's lines, "+ " for the output's,
// from a longest common subsequence; small outputs, so quadratic is fine.
func diff(want, got []string) string {
	lcs := make([][]int, len(want)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(got)+1)
	}
	for i := len(want) - 1; i >= 0; i-- {
		for j := len(got) - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case i < len(want) && j < len(got) && want[i] == got[j]:
			b.WriteString("  " + want[i] + "\n")
			i, j = i+1, j+1
		case j == len(got) || (i < len(want) && lcs[i+1][j] >= lcs[i][j+1]):
			b.WriteString("- " + want[i] + "\n")
			i++
		default:
			b.WriteString("+ " + got[j] + "\n")
			j++
		}
	}
	return b.String()
}

// check runs a block's commands in order in the current directory and
// returns what differs from the README.
func check(b block) []string {
	var problems []string
	for _, c := range b.commands {
		got, err := run(c.text)
		if err != nil {
			problems = append(problems, fmt.Sprintf("README.md:%d: $ %s: %v", c.line, c.text, err))
			continue
		}
		if !matches(c.want, lines(got)) {
			problems = append(problems, fmt.Sprintf("README.md:%d: $ %s\nprints other than the README shows (-README +now):\n%s\nIt now prints (paste it, keeping any `...` the README means):\n```console\n$ %s\n%s```",
				c.line, c.text, diff(c.want, lines(got)), c.text, got))
		}
	}
	return problems
}

// setUp makes a fresh folder with the files the README's examples name
// and enters it for the rest of the test.
func setUp(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "examples"), examples.FS); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dir, os.DirFS("testdata")); err != nil {
		t.Fatal(err)
	}
	// Git keeps no file modes: the PKI's keys are 0600 again, as pki
	// requires of private keys.
	keys, _ := filepath.Glob(filepath.Join(dir, "demo-pki", "*", "*key.pem"))
	nodeKeys, _ := filepath.Glob(filepath.Join(dir, "demo-pki", "nodes", "*", "key.pem"))
	for _, k := range append(keys, nodeKeys...) {
		if err := os.Chmod(k, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// big.yaml: the seed whose one SSH key is given 200 times, so every
	// node's user-data is over AWS's 16 KiB.
	seed, err := examples.FS.ReadFile("seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const key = "  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKZGePaSh4ubTK9UavI4Z5FLgPGTmdMKCwyyhocrgBfS ops@example\n"
	if bytes.Count(seed, []byte(key)) != 1 {
		t.Fatalf("examples/seed.yaml no longer has the one SSH key line big.yaml repeats:\n%s", key)
	}
	big := bytes.Replace(seed, []byte(key), bytes.Repeat([]byte(key), 200), 1)
	if err := os.WriteFile(filepath.Join(dir, "big.yaml"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
}

// TestREADMEConsoleExamples runs every ```console example of README.md.
func TestREADMEConsoleExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := consoleBlocks(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) < 5 {
		t.Fatalf("found %d console blocks in README.md; the parser is broken or examples were lost", len(blocks))
	}
	for _, b := range blocks {
		t.Run(fmt.Sprintf("line%d", b.line), func(t *testing.T) {
			setUp(t)
			for _, p := range check(b) {
				t.Error(p)
			}
		})
	}
}

// TestCheckerFailsOnWrongOutput: the checker is not a rubber stamp. A
// wrong line, a missing line, an extra line, a misplaced "..." and a
// command it cannot run are all reported; the right output and a proper
// "..." pass.
func TestCheckerFailsOnWrongOutput(t *testing.T) {
	// The seed's plain form is warned about first, on every render.
	const render = "$ swarmboot render examples/seed.yaml -o out\n" +
		"examples/seed.yaml:16:8: warning at $.etcd.tls: etcd takes any client and peer over plain HTTP: whoever reaches port 2379 can rewrite the swarm's discovery; remove `tls: false` for TLS with client certificates\n" +
		"examples/seed.yaml:20:8: warning at $.docker.tls: the Docker API on port 2375 and the swarm manager on 8333 take any client, without TLS: whoever reaches them has root on every node; remove `tls: false` for mutual TLS\n"
	const ls = "$ ls out/etcd-01 out/docker-01\nout/docker-01:\nconfig.bu  config.ign\n\nout/etcd-01:\nmeta-data  network-config  user-data\n"
	cases := []struct {
		name, block string
		ok          bool
	}{
		{"right", render + "wrote 15 files for 6 nodes of cluster demo into out\n" + ls, true},
		{"elided", render + "...\n" + ls, true},
		{"elided tail", render + "wrote 15 files for 6 nodes of cluster demo into out\n  ...\n", true},
		{"wrong line", render + "wrote 16 files for 6 nodes of cluster demo into out\n", false},
		{"missing line", render, false},
		{"missing warning", "$ swarmboot render examples/seed.yaml -o out\nwrote 15 files for 6 nodes of cluster demo into out\n", false},
		{"extra line", render + "wrote 15 files for 6 nodes of cluster demo into out\nand more\n", false},
		{"wrong after elision", render + "...\nwrote 15 files into out\n", false},
		{"wrong ls", render + "...\n$ ls out/etcd-01\nmeta-data  user-data\n", false},
		{"unsupported command", "$ cat out/etcd-01/user-data\n#cloud-config\n", false},
		{"shell syntax", "$ swarmboot render examples/seed.yaml --node etcd-01 | head -1\n#cloud-config\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			blocks, err := consoleBlocks("text\n\n```console\n" + tc.block + "```\n")
			if err != nil || len(blocks) != 1 {
				t.Fatalf("%d blocks, %v", len(blocks), err)
			}
			setUp(t)
			problems := check(blocks[0])
			if ok := len(problems) == 0; ok != tc.ok {
				t.Errorf("checker passes it: %v, want %v\n%s", ok, tc.ok, strings.Join(problems, "\n"))
			}
			if !tc.ok && len(problems) > 0 && strings.Contains(tc.name, "wrong line") && !strings.Contains(problems[0], "\n- wrote 16 files for 6 nodes of cluster demo into out\n+ wrote 15 files") {
				t.Errorf("the failure shows no diff:\n%s", problems[0])
			}
		})
	}
}
