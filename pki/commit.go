package pki

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/swarmboot/swarmboot/internal/failpoint"
	"github.com/swarmboot/swarmboot/internal/parallel"
)

// A commit is a redo log. Every new file is written into a staging folder
// inside the PKI and made durable with one sync; then a small manifest
// (.commit) names the renames that put them in place, and the moves that
// set the old CA aside (pki init --force). Once the manifest is durable
// the commit has happened: the renames follow, and a run stopped among
// them is completed by the next one (Begin, Open) before it reads
// anything. Before the manifest, nothing in the PKI has changed, and the
// next run removes the staging folder.

const (
	manifestName   = ".commit"
	manifestHeader = "swarmboot pki commit 1"
	stagingPrefix  = ".staging-"
)

// file is one file to store, by slash-separated path in the PKI.
type file struct {
	name string
	data []byte
	perm os.FileMode
}

// move sets aside what a new CA replaces: from and to, in the PKI.
type move struct{ from, to string }

// manifest is a decided commit: the moves first, then the puts (staged
// paths renamed into place; a folder that is new goes over whole).
type manifest struct {
	staging string
	moves   []move
	puts    []string
}

// commit stores files and makes moves as one transaction.
func (t *Tx) commit(files []file, moves []move) error {
	if len(files) == 0 && len(moves) == 0 {
		return nil
	}
	if t.readOnly {
		return fmt.Errorf("cannot store %s in %s: this user cannot write there%s; run swarmboot as the PKI's owner, or give this user write access (chmod, chown)", count(len(files), "file"), t.dir, owner(t.dir))
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	puts, err := t.puts(files, moves)
	if err != nil {
		return err
	}
	staging, err := os.MkdirTemp(t.dir, stagingPrefix)
	if err != nil {
		return explain(t.dir, "write into", err)
	}
	defer func() {
		if !t.done { // a commit that was not decided leaves nothing
			os.RemoveAll(staging)
		}
	}()
	if err := os.Chmod(staging, 0o700); err != nil {
		return err
	}
	if err := failpoint.Check("pki: staging created"); err != nil {
		return err
	}
	written, err := stage(staging, files)
	if err != nil {
		return err
	}
	if err := syncAll(staging, written); err != nil {
		return explain(staging, "sync", err)
	}
	if err := failpoint.Check("pki: staged and synced"); err != nil {
		return err
	}
	m := manifest{staging: filepath.Base(staging), moves: moves, puts: puts}
	if err := t.writeManifest(m); err != nil {
		return err
	}
	t.done = true // decided: from here the next run completes it
	if err := failpoint.Check("pki: manifest written"); err != nil {
		return err
	}
	if err := t.apply(m); err != nil {
		return fmt.Errorf("%v; the commit is recorded in %s and the next swarmboot run completes it", err, filepath.Join(t.dir, manifestName))
	}
	return nil
}

// stage writes files under staging with their modes (past the umask) and
// returns what it wrote, folders included, for syncing.
func stage(staging string, files []file) ([]string, error) {
	var written []string
	dirs := map[string]bool{".": true}
	for _, f := range files {
		for d := path.Dir(f.name); !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			written = append(written, d)
		}
		written = append(written, f.name)
	}
	sort.Strings(written) // parents before their children
	for _, p := range written {
		full := filepath.Join(staging, filepath.FromSlash(p))
		if dirs[p] {
			if err := os.Mkdir(full, 0o700); err != nil {
				return nil, explain(full, "create", err)
			}
			if err := os.Chmod(full, 0o700); err != nil {
				return nil, err
			}
		}
	}
	// On every CPU: creating files is system time, which they share out.
	err := parallel.Do(len(files), func(i int) error {
		return writeNew(filepath.Join(staging, filepath.FromSlash(files[i].name)), files[i].data, files[i].perm)
	})
	if err == nil {
		err = failpoint.Check("pki: files staged")
	}
	return written, err
}

// writeNew creates a file that must not exist, with mode perm whatever
// the umask.
func writeNew(name string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return explain(name, "create", err)
	}
	if err = f.Chmod(perm); err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return explain(name, "write", err)
	}
	return nil
}

// puts are the renames that bring the staged files into place: the
// outermost folder of a file that does not exist yet goes whole (a first
// render renames four paths, not twenty thousand), a file that exists is
// replaced. moves run first, so what they take away counts as missing.
// Something in the way (a file where a folder goes) is refused here,
// before the commit is decided.
func (t *Tx) puts(files []file, moves []move) ([]string, error) {
	type found struct{ exists, dir bool }
	known := map[string]found{}
	stat := func(rel string) found {
		if f, ok := known[rel]; ok {
			return f
		}
		var f found
		gone := slices.ContainsFunc(moves, func(m move) bool { return rel == m.from || strings.HasPrefix(rel, m.from+"/") })
		if fi, err := os.Lstat(filepath.Join(t.dir, filepath.FromSlash(rel))); err == nil && !gone {
			f = found{true, fi.IsDir()}
		}
		known[rel] = f
		return f
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range files {
		parts := strings.Split(f.name, "/")
		for i := 1; i <= len(parts); i++ {
			p := strings.Join(parts[:i], "/")
			st := stat(p)
			if i < len(parts) && st.exists {
				if !st.dir {
					return nil, refusef("%s is a file where swarmboot keeps a folder: move it away (nothing was changed)", filepath.Join(t.dir, p))
				}
				continue
			}
			if st.dir {
				return nil, refusef("%s is a folder where swarmboot keeps a file: move it away (nothing was changed)", filepath.Join(t.dir, p))
			}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
			break
		}
	}
	return out, nil
}

// writeManifest makes the decision durable: a temporary, synced, renamed
// to .commit, and the folder synced.
func (t *Tx) writeManifest(m manifest) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nstaging %s\n", manifestHeader, m.staging)
	for _, mv := range m.moves {
		fmt.Fprintf(&b, "move %s %s\n", mv.from, mv.to)
	}
	for _, p := range m.puts {
		fmt.Fprintf(&b, "put %s\n", p)
	}
	b.WriteString("end\n")
	tmp := filepath.Join(t.dir, manifestName+".tmp")
	os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return explain(tmp, "create", err)
	}
	_, err = f.Write(b.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(t.dir, manifestName))
	}
	if err == nil {
		err = syncDir(t.dir)
	}
	if err != nil {
		os.Remove(tmp)
		return explain(filepath.Join(t.dir, manifestName), "write", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// readManifest reads a decided commit; ok is false when there is none.
func (t *Tx) readManifest() (m manifest, ok bool, err error) {
	name := filepath.Join(t.dir, manifestName)
	b, err := readFile(name, false)
	if err != nil || b == nil {
		return m, false, err
	}
	bad := func(why string) error {
		return fmt.Errorf("%s is damaged (%s): it records a commit a stopped run could not finish; restore the PKI folder from a backup", name, why)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	if !sc.Scan() || sc.Text() != manifestHeader {
		return m, false, bad("unknown header")
	}
	local := func(p string) bool { return filepath.IsLocal(p) && !strings.Contains(p, "\\") }
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 1 && f[0] == "end":
			return m, true, nil
		case len(f) == 2 && f[0] == "staging" && strings.HasPrefix(f[1], stagingPrefix) && local(f[1]):
			m.staging = f[1]
		case len(f) == 3 && f[0] == "move" && local(f[1]) && local(f[2]):
			m.moves = append(m.moves, move{f[1], f[2]})
		case len(f) == 2 && f[0] == "put" && local(f[1]):
			m.puts = append(m.puts, f[1])
		default:
			return m, false, bad(fmt.Sprintf("line %q", sc.Text()))
		}
	}
	return m, false, bad("no end line")
}

// apply carries out a decided commit. Each step is skipped when it is
// done already, so a commit stopped anywhere can be applied again.
func (t *Tx) apply(m manifest) error {
	abs := func(rel string) string { return filepath.Join(t.dir, filepath.FromSlash(rel)) }
	touched := map[string]bool{".": true}
	place := func(from, to, step string) error {
		if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
			return explain(filepath.Dir(to), "create", err)
		}
		if err := os.Rename(from, to); err != nil {
			return explain(to, "put in place", err)
		}
		rel, _ := filepath.Rel(t.dir, filepath.Dir(to))
		touched[rel] = true
		return failpoint.Check(step)
	}
	for _, mv := range m.moves {
		if _, err := os.Lstat(abs(mv.to)); err == nil {
			continue // moved already
		}
		if _, err := os.Lstat(abs(mv.from)); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := place(abs(mv.from), abs(mv.to), "pki: moved aside"); err != nil {
			return err
		}
	}
	for _, p := range m.puts {
		src := filepath.Join(t.dir, m.staging, filepath.FromSlash(p))
		if _, err := os.Lstat(src); errors.Is(err, fs.ErrNotExist) {
			continue // put in place already
		}
		if err := place(src, abs(p), "pki: put in place"); err != nil {
			return err
		}
	}
	dirs := make([]string, 0, len(touched))
	for d := range touched {
		dirs = append(dirs, d)
	}
	if err := syncAll(t.dir, dirs); err != nil {
		return explain(t.dir, "sync", err)
	}
	if err := failpoint.Check("pki: renames synced"); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(t.dir, manifestName)); err != nil {
		return explain(filepath.Join(t.dir, manifestName), "remove", err)
	}
	if err := failpoint.Check("pki: manifest removed"); err != nil {
		return err
	}
	return os.RemoveAll(filepath.Join(t.dir, m.staging))
}

// recover completes a commit a stopped run decided, then removes what
// stopped runs left undecided.
func (t *Tx) recover() error {
	m, ok, err := t.readManifest()
	if err != nil {
		return err
	}
	if ok {
		if err := t.apply(m); err != nil {
			return fmt.Errorf("completing the commit a stopped run recorded in %s: %w", filepath.Join(t.dir, manifestName), err)
		}
	}
	stale := leftovers(t.dir)
	for _, sub := range []string{clientDir, "nodes"} {
		stale = append(stale, leftovers(filepath.Join(t.dir, sub))...)
	}
	nodes, _ := os.ReadDir(filepath.Join(t.dir, "nodes"))
	for _, n := range nodes {
		if n.IsDir() {
			stale = append(stale, leftovers(filepath.Join(t.dir, "nodes", n.Name()))...)
		}
	}
	for _, p := range stale {
		if err := os.RemoveAll(p); err != nil {
			return explain(p, "remove", err)
		}
	}
	return nil
}

// leftovers lists what stopped runs left undecided in dir: staging
// folders, manifest temporaries, and ".key.pem.tmp123" files of an older
// swarmboot (which may hold a private key).
func leftovers(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, stagingPrefix) || strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp") {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out
}

// count says "1 file" or "3 files".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
