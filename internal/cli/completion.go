package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/delivery/encode"
	"github.com/swarmboot/swarmboot/delivery/target"
	"github.com/swarmboot/swarmboot/profiles"
)

// Shell completion works as kubectl's and talosctl's do: the script each
// shell loads (swarmboot completion SHELL) asks the binary itself, through
// the hidden command __complete, what may come next on the command line;
// the binary knows the commands, their flags, the formats, targets and
// profiles, and the node names of the description on the line. A first
// answer line of fileDirective or dirDirective hands over to the shell's
// own file or folder completion.
const (
	completeCommand = "__complete"
	fileDirective   = ":files"
	dirDirective    = ":dirs"
)

// subcommands are the words that follow a command before its FILE.
var subcommands = map[string][]string{
	"pki":        {"init", "renew", "status"},
	"completion": {"bash", "zsh", "fish"},
}

func completionCommand() command {
	return command{
		name: "completion", args: "bash|zsh|fish",
		summary: "print a shell completion script",
		help: "Prints the completion script of a shell: commands, flags, formats, targets,\n" +
			"profiles, and node names from the description on the command line.\n\n" +
			"  bash:  source <(swarmboot completion bash)       (in ~/.bashrc)\n" +
			"  zsh:   source <(swarmboot completion zsh)        (in ~/.zshrc, after compinit)\n" +
			"  fish:  swarmboot completion fish > ~/.config/fish/completions/swarmboot.fish",
		flags: func(fs *pflag.FlagSet) func(env, []string) error {
			return func(e env, args []string) error {
				if len(args) != 1 {
					return usagef("name one shell: bash, zsh or fish")
				}
				script, ok := completionScripts[args[0]]
				if !ok {
					return usagef("no completion for %q; shells are bash, zsh and fish", args[0])
				}
				_, err := io.WriteString(e.stdout, script)
				return err
			}
		},
	}
}

// complete prints what may stand at the last of words (the words after
// "swarmboot", the last one being completed, maybe ""), one a line.
func complete(w io.Writer, words []string) {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	var out []string
	switch {
	case len(words) == 1:
		for _, c := range commands() {
			out = append(out, c.name)
		}
	default:
		out = completeArgs(words[0], words[1:len(words)-1], cur)
	}
	for _, s := range out {
		if strings.HasPrefix(s, cur) || s == fileDirective || s == dirDirective {
			fmt.Fprintln(w, s)
		}
	}
}

// completeArgs answers for a command's flags and arguments.
func completeArgs(name string, before []string, cur string) []string {
	i := slices.IndexFunc(commands(), func(c command) bool { return c.name == name })
	if i < 0 {
		return nil
	}
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	commands()[i].flags(fs)
	fs.BoolP("help", "h", false, "")
	if len(before) > 0 {
		if f := lookupFlag(fs, before[len(before)-1]); f != nil && f.Value.Type() != "bool" && !strings.Contains(before[len(before)-1], "=") {
			return flagValues(f.Name, fileArg(before), cur)
		}
	}
	if strings.HasPrefix(cur, "-") {
		var out []string
		fs.VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				out = append(out, "--"+f.Name)
			}
		})
		return out
	}
	if words, ok := subcommands[name]; ok && positionals(fs, before) == 0 {
		return words
	}
	return []string{fileDirective}
}

// lookupFlag finds the flag a word names (--name, --name=, -n).
func lookupFlag(fs *pflag.FlagSet, word string) *pflag.Flag {
	switch {
	case strings.HasPrefix(word, "--"):
		name, _, _ := strings.Cut(word[2:], "=")
		return fs.Lookup(name)
	case len(word) == 2 && word[0] == '-':
		return fs.ShorthandLookup(word[1:])
	}
	return nil
}

// positionals counts the arguments among words that are not flags or
// flag values.
func positionals(fs *pflag.FlagSet, words []string) int {
	n := 0
	for i := 0; i < len(words); i++ {
		if f := lookupFlag(fs, words[i]); f != nil {
			if f.Value.Type() != "bool" && !strings.Contains(words[i], "=") {
				i++ // its value
			}
			continue
		}
		if !strings.HasPrefix(words[i], "-") {
			n++
		}
	}
	return n
}

// fileArg is the description named on the line: the first word that is
// a readable file, "" when none.
func fileArg(words []string) string {
	for _, w := range words {
		if fi, err := os.Stat(w); err == nil && fi.Mode().IsRegular() {
			return w
		}
	}
	return ""
}

// flagValues are the values a flag takes; cur is the word typed so far.
func flagValues(flag, file, cur string) []string {
	switch flag {
	case "format":
		return formatValues(cur)
	case "encode":
		var out []string
		for _, e := range encode.Encodings() {
			out = append(out, string(e))
		}
		return out
	case "target":
		return target.Names()
	case "node":
		return nodeNames(file)
	case "nodes":
		out := nodeNames(file)
		for _, r := range cluster.Roles {
			out = append(out, "role="+r)
		}
		for _, p := range profiles.Names() {
			out = append(out, "profile="+p)
		}
		return out
	case "box":
		var out []string
		for _, p := range profiles.Names() {
			out = append(out, p+"=")
		}
		return out
	case "output", "pki":
		return []string{dirDirective}
	}
	return nil
}

// formatValues completes --format's value: a format or packaging for every
// node, or PROFILE=FORMAT items separated by commas, where the item being
// typed is completed after those before it and, past its "=", with what
// that profile reads and the packagings that can carry it.
func formatValues(cur string) []string {
	done := cur[:strings.LastIndex(cur, ",")+1]
	item := cur[len(done):]
	if name, _, ok := strings.Cut(item, "="); ok {
		p, known := profiles.Lookup(name)
		if !known {
			return nil
		}
		var out []string
		for _, f := range p.Formats {
			out = append(out, done+name+"="+string(f))
		}
		for _, pk := range delivery.PackagingsFor(p) {
			out = append(out, done+name+"="+pk)
		}
		return out
	}
	var out []string
	if done == "" {
		for _, f := range profiles.AllFormats() {
			out = append(out, string(f))
		}
		out = append(out, delivery.PackagingNames()...)
	}
	for _, p := range profiles.Families() {
		out = append(out, done+p.Name+"=")
	}
	return out
}

// nodeNames are the nodes of the description file, if it loads that far.
func nodeNames(file string) []string {
	if file == "" {
		return nil
	}
	data, err := os.ReadFile(file)
	if err != nil || len(data) > cluster.MaxInputSize {
		return nil
	}
	c, _ := cluster.Load(file, data)
	out := make([]string, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		out = append(out, n.Name)
	}
	return out
}

// completionScripts ask `swarmboot __complete WORDS...` and fall back to
// the shell's own file completion on the directives.
var completionScripts = map[string]string{
	"bash": `# bash completion for swarmboot: source <(swarmboot completion bash)
# Words are the line's up to the cursor, split at blanks only: bash's own
# split also breaks at = (--format flatcar=matchbox), and it replaces only
# its last piece, so each answer loses what comes before that piece.
_swarmboot() {
    local line="${COMP_LINE:0:COMP_POINT}" IFS=$' \t\n'
    local -a words out
    read -ra words <<< "$line"
    [[ -z $line || $line == *[[:blank:]] ]] && words+=("")
    local cur="${words[${#words[@]}-1]}" piece="${COMP_WORDS[COMP_CWORD]}" i
    IFS=$'\n'
    out=($("${words[0]}" __complete "${words[@]:1}" 2>/dev/null))
    case "${out[0]}" in
    :files) COMPREPLY=($(compgen -f -- "$cur")) ;;
    :dirs)  COMPREPLY=($(compgen -d -- "$cur")) ;;
    *)      COMPREPLY=("${out[@]}") ;;
    esac
    for i in "${!COMPREPLY[@]}"; do
        COMPREPLY[i]="${COMPREPLY[i]:${#cur}-${#piece}}"
    done
    [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
    return 0
}
complete -o default -F _swarmboot swarmboot
`,
	"zsh": `#compdef swarmboot
# zsh completion for swarmboot: source <(swarmboot completion zsh)
_swarmboot() {
    local -a out
    out=("${(@f)$(${words[1]} __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    case "${out[1]}" in
    :files) _files ;;
    :dirs)  _files -/ ;;
    *)      local -a open=(${(M)out:#*=}) closed=(${out:#*=})
            compadd -Q -S '' -- "${open[@]}"
            compadd -Q -- "${closed[@]}" ;;
    esac
}
compdef _swarmboot swarmboot
`,
	"fish": `# fish completion for swarmboot: swarmboot completion fish > ~/.config/fish/completions/swarmboot.fish
function __swarmboot_complete
    set -l words (commandline -opc)[2..-1] (commandline -ct)
    set -l out (swarmboot __complete $words 2>/dev/null)
    switch "$out[1]"
        case :files
            __fish_complete_path (commandline -ct)
        case :dirs
            __fish_complete_directories (commandline -ct)
        case '*'
            printf '%s\n' $out
    end
end
complete -c swarmboot -f -a '(__swarmboot_complete)'
`,
}
