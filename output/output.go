// Package output writes rendered configs so that a failed run never leaves
// half-written output: a tree is built beside its destination and swapped
// into place in one step; a single file is written to a temporary name and
// renamed.
package output

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/swarmboot/swarmboot/internal/english"
	"github.com/swarmboot/swarmboot/internal/failpoint"
	"github.com/swarmboot/swarmboot/internal/parallel"
)

// Marker names the file that marks a folder as swarmboot's output. A
// folder without it is never replaced, so `-o ~` cannot wipe a home.
const Marker = ".swarmboot-output"

// ErrForeignDir is returned when the destination holds other files.
var ErrForeignDir = errors.New("destination exists and was not written by swarmboot")

// Tree is a set of files by slash-separated relative path.
type Tree map[string][]byte

// Options say how a tree is written.
type Options struct {
	// FileMode of every file Modes does not name; 0 means 0600
	// (user-data can hold keys and tokens).
	FileMode os.FileMode
	// Modes are the files, by path in the tree, with a permission of
	// their own: a part a server reads, such as matchbox's, says 0644.
	Modes map[string]os.FileMode
	// Warn hears what went wrong after the new tree was in place (the old
	// one could not be removed); the run still succeeded.
	Warn func(string)
	// CA are the fingerprints of the CA the tree's nodes trust, recorded
	// in the marker; none for an output without TLS.
	CA []string
	// Keep are folders (the PKI) that must not be inside the output, nor
	// hold it: replacing the output would take them along.
	Keep []string
	// BeforeSwap runs once the new tree is complete and before it takes
	// the old one's place (the render commits its PKI there, so the output
	// never names a certificate the PKI does not hold); an error leaves
	// the old tree in place.
	BeforeSwap func() error
}

// Dest is an output folder as Check found it.
type Dest struct {
	Dir string   // symlinks resolved: the folder a write replaces
	CA  []string // the CA fingerprints its marker records
}

// Check resolves dir and says whether a tree may be written there: it is
// missing, empty or swarmboot's output; not a file; none of keep is in it
// and it is in none of them. A render calls it before it issues
// anything; WriteTree calls it again under the lock.
func Check(dir string, keep ...string) (Dest, error) {
	d, err := resolve(filepath.Clean(dir))
	if err != nil {
		return Dest{}, err
	}
	if fi, err := os.Stat(d); err == nil && !fi.IsDir() {
		return Dest{}, fmt.Errorf("the output %s is a file, not a folder: give a folder for the output (-o DIR)", dir)
	}
	for _, k := range keep {
		if inside(k, d) {
			return Dest{}, overlap{fmt.Sprintf("%s is inside the output %s, which every render replaces whole: keep it elsewhere", k, dir)}
		}
		if inside(d, k) {
			return Dest{}, overlap{fmt.Sprintf("the output %s is inside %s: render into a folder of its own", dir, k)}
		}
	}
	ca, err := checkReplaceable(d)
	return Dest{Dir: d, CA: ca}, err
}

// ErrKeepInside: a folder to keep (the PKI) and the output overlap.
var ErrKeepInside = errors.New("the output and a folder to keep overlap")

// overlap is ErrKeepInside, reading as its sentence alone.
type overlap struct{ msg string }

func (o overlap) Error() string        { return o.msg }
func (o overlap) Is(target error) bool { return target == ErrKeepInside }

// WriteTree replaces dir with exactly the files of t. The new tree is
// built beside dir and exchanged with the old one in a single rename, so
// dir always holds one complete tree and a failed run leaves the old one.
// A symlink dir is followed: the tree it points to is replaced. Runs into
// one folder take turns (a lock on the folder that holds it), and the
// temporaries an interrupted run left behind are removed.
func WriteTree(dir string, t Tree, opts Options) error {
	dir, err := resolve(filepath.Clean(dir))
	if err != nil {
		return err
	}
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	unlock, err := lock(parent)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := Check(dir, opts.Keep...); err != nil {
		return err
	}
	// Holding the lock, any temporary of ours beside dir is an orphan.
	stale, _ := filepath.Glob(filepath.Join(parent, "."+base+".new-*"))
	for _, s := range stale {
		_ = os.RemoveAll(s)
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".new-")
	if err != nil {
		return fmt.Errorf("cannot write %s: its new tree is built beside it, in %s, which this user cannot write into (%w)", dir, parent, err)
	}
	defer os.RemoveAll(tmp) // the new tree, should anything fail
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for p := range opts.Modes {
		if _, ok := t[p]; !ok {
			return fmt.Errorf("a file mode is given for %s, which the tree does not hold", p)
		}
	}
	if err := writeFiles(tmp, t, opts.mode); err != nil {
		return err
	}
	if err := writeNew(filepath.Join(tmp, Marker), marker(opts.CA), 0o644); err != nil {
		return err
	}
	if err := failpoint.Check("output: tree written"); err != nil {
		return err
	}
	if opts.BeforeSwap != nil {
		if err := opts.BeforeSwap(); err != nil {
			return err
		}
	}
	if err := swapInto(tmp, dir); err != nil {
		return err
	}
	if err := failpoint.Check("output: swapped"); err != nil {
		return err
	}
	// tmp now holds the old tree (if there was one).
	if err := removeAll(tmp); err != nil && opts.Warn != nil {
		opts.Warn(fmt.Sprintf("the new output is in %s, but the previous one, now at %s, could not be removed: %v; remove it by hand", dir, tmp, err))
	}
	return nil
}

// mode is the permission of the file at path p of the tree.
func (o Options) mode(p string) os.FileMode {
	if m, ok := o.Modes[p]; ok {
		return m
	}
	if o.FileMode != 0 {
		return o.FileMode
	}
	return 0o600
}

// markerText opens the marker; "ca sha256:..." lines follow.
const markerText = "This folder is written by swarmboot render; it is replaced whole on each run.\n"

// marker is the marker's text, recording the CA the nodes trust.
func marker(ca []string) []byte {
	var b strings.Builder
	b.WriteString(markerText)
	for _, fp := range ca {
		b.WriteString("ca " + fp + "\n")
	}
	return []byte(b.String())
}

// removeAll removes the old tree; tests make it fail.
var removeAll = os.RemoveAll

// resolve follows dir when it is a symlink, so the tree it points to is
// replaced and the link keeps pointing at fresh output.
func resolve(dir string) (string, error) {
	fi, err := os.Lstat(dir)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		return dir, nil
	}
	target, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("%s is a symlink to a folder that does not exist (%v); create it or point the link elsewhere", dir, err)
	}
	return target, nil
}

// lock takes an exclusive lock on the folder dir (flock on the directory
// itself, so no lock file is left behind), waiting for a run holding it.
func lock(dir string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

// checkReplaceable refuses a folder swarmboot did not write, and returns
// the CA fingerprints recorded in the marker of one it did.
func checkReplaceable(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || err == nil && len(entries) == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, Marker))
	if err != nil {
		return nil, fmt.Errorf("%w: %s holds %s; render into a new or empty folder, or one swarmboot wrote before", ErrForeignDir, dir, english.Count(len(entries), "entry"))
	}
	var ca []string
	for _, line := range strings.Split(string(b), "\n") {
		if fp, ok := strings.CutPrefix(line, "ca "); ok {
			ca = append(ca, fp)
		}
	}
	return ca, nil
}

// inside reports whether inner is dir or lies under it: by resolved path,
// and by the identity (device and inode) of every folder above inner's
// resolved path, so that neither a symlink nor a bind mount of dir hides
// it.
func inside(inner, dir string) bool {
	in, d := realPath(inner), realPath(dir)
	if rel, err := filepath.Rel(d, in); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		return true
	}
	di, err := os.Stat(dir)
	if err != nil {
		return false
	}
	for p := in; ; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil && os.SameFile(fi, di) {
			return true
		}
		if p == filepath.Dir(p) {
			return false
		}
	}
}

// realPath is p absolute with every symlink of its existing part
// resolved; a part that does not exist yet is kept as spelled.
func realPath(p string) string {
	p, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	var rest []string
	for {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(append([]string{r}, rest...)...)
		}
		if p == filepath.Dir(p) {
			return filepath.Join(append([]string{p}, rest...)...)
		}
		rest = append([]string{filepath.Base(p)}, rest...)
		p = filepath.Dir(p)
	}
}

func writeFiles(root string, t Tree, mode func(string) os.FileMode) error {
	paths := make([]string, 0, len(t))
	dirs := map[string]bool{".": true}
	for p := range t {
		if !filepath.IsLocal(filepath.FromSlash(p)) || strings.Contains(p, "\\") {
			return fmt.Errorf("refusing to write outside the output folder: %q", p)
		}
		paths = append(paths, p)
		for d := path.Dir(p); !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted) // parents first
	for _, d := range sorted[1:] {
		full := filepath.Join(root, filepath.FromSlash(d))
		if err := os.Mkdir(full, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(full, 0o755); err != nil { // past the umask
			return err
		}
	}
	// Two writers or more: file creation is system time, which the CPUs
	// share out.
	return parallel.Do(len(paths), func(i int) error {
		return writeNew(filepath.Join(root, filepath.FromSlash(paths[i])), t[paths[i]], mode(paths[i]))
	})
}

// writeNew creates name, which must not exist, with mode perm whatever
// the umask.
func writeNew(name string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if err = f.Chmod(perm); err == nil { // past the umask
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// swapInto puts the complete tmp tree at dir: when dir exists the two are
// exchanged in one step (renameat2 RENAME_EXCHANGE), so a reader such as
// matchbox never finds dir missing; the old tree is then at tmp.
func swapInto(tmp, dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return os.Rename(tmp, dir)
	}
	err := exchange(tmp, dir)
	if err == nil {
		return nil
	}
	if !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOSYS) {
		return fmt.Errorf("replacing %s: %w", dir, err)
	}
	// A file system without RENAME_EXCHANGE: two renames, the old tree
	// kept until the new one is in place, then moved to tmp.
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.Rename(old, dir)
		return err
	}
	return os.Rename(old, tmp)
}

// WriteFile writes one file atomically: a temporary file in the same
// folder, renamed over name once complete.
func WriteFile(name string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".new-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}

// Description names the copy of the description a render keeps in its
// output, so the next render can say which keys changed (render --plan).
const Description = ".swarmboot-description.yaml"

// maxRead bounds what ReadTree reads of one old output: a 10,000-node
// output is about 150 MiB; anything far past that is not ours.
const maxRead = 1 << 30

// ReadTree reads the output swarmboot wrote into dir, marker excluded:
// every regular file by slash-separated path. A missing dir is an empty
// tree; a folder swarmboot did not write is ErrForeignDir.
func ReadTree(dir string) (Tree, error) {
	d, err := resolve(filepath.Clean(dir))
	if err != nil {
		return nil, err
	}
	if _, err := checkReplaceable(d); err != nil {
		return nil, err
	}
	t := Tree{}
	total := 0
	err = filepath.WalkDir(d, func(path string, e os.DirEntry, err error) error {
		if errors.Is(err, os.ErrNotExist) && path == d {
			return filepath.SkipAll
		}
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(d, path)
		if err != nil || rel == Marker {
			return err
		}
		data, err := os.ReadFile(path)
		if total += len(data); total > maxRead {
			return fmt.Errorf("%s holds more than %d MiB: not an output of swarmboot's", dir, maxRead>>20)
		}
		t[filepath.ToSlash(rel)] = data
		return err
	})
	return t, err
}
