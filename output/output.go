// Package output writes rendered configs so that a failed run never leaves
// half-written output: a tree is built beside its destination and swapped
// into place in one step; a single file is written to a temporary name and
// renamed.
package output

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
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
	// FileMode of every file; 0 means 0600 (user-data can hold keys and
	// tokens). A tree a server reads, such as matchbox's, says 0644.
	FileMode os.FileMode
	// Warn hears what went wrong after the new tree was in place (the old
	// one could not be removed); the run still succeeded.
	Warn func(string)
}

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
	if err := checkReplaceable(dir); err != nil {
		return err
	}
	// Holding the lock, any temporary of ours beside dir is an orphan.
	stale, _ := filepath.Glob(filepath.Join(parent, "."+base+".new-*"))
	for _, s := range stale {
		_ = os.RemoveAll(s)
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // the new tree, should anything fail
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	mode := opts.FileMode
	if mode == 0 {
		mode = 0o600
	}
	if err := writeFiles(tmp, t, mode); err != nil {
		return err
	}
	marker := []byte("This folder is written by swarmboot render; it is replaced whole on each run.\n")
	if err := os.WriteFile(filepath.Join(tmp, Marker), marker, 0o644); err != nil {
		return err
	}
	if err := swapInto(tmp, dir); err != nil {
		return err
	}
	// tmp now holds the old tree (if there was one).
	if err := removeAll(tmp); err != nil && opts.Warn != nil {
		opts.Warn(fmt.Sprintf("the new output is in %s, but the previous one, now at %s, could not be removed: %v; remove it by hand", dir, tmp, err))
	}
	return nil
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

func checkReplaceable(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, Marker)); err == nil {
		return nil
	}
	return fmt.Errorf("%w: %s holds %d entries; render into a new or empty folder, or one swarmboot wrote before", ErrForeignDir, dir, len(entries))
}

func writeFiles(root string, t Tree, mode os.FileMode) error {
	paths := make([]string, 0, len(t))
	for p := range t {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	made := map[string]bool{}
	for _, p := range paths {
		if !filepath.IsLocal(filepath.FromSlash(p)) || strings.Contains(p, "\\") {
			return fmt.Errorf("refusing to write outside the output folder: %q", p)
		}
		full := filepath.Join(root, filepath.FromSlash(p))
		if d := filepath.Dir(full); !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			made[d] = true
		}
		if err := os.WriteFile(full, t[p], mode); err != nil {
			return err
		}
		if err := os.Chmod(full, mode); err != nil { // past the umask
			return err
		}
	}
	return nil
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
