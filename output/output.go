// Package output writes rendered configs so that a failed run never leaves
// half-written output: a tree is built beside its destination and renamed
// into place; a single file is written to a temporary name and renamed.
package output

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Marker names the file that marks a folder as swarmboot's output. A
// folder without it is never replaced, so `-o ~` cannot wipe a home.
const Marker = ".swarmboot-output"

// ErrForeignDir is returned when the destination holds other files.
var ErrForeignDir = errors.New("destination exists and was not written by swarmboot")

// Tree is a set of files by slash-separated relative path.
type Tree map[string][]byte

// WriteTree replaces dir with exactly the files of t. The previous dir
// stays intact until the new one is complete.
func WriteTree(dir string, t Tree) error {
	dir = filepath.Clean(dir)
	if err := checkReplaceable(dir); err != nil {
		return err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp) // gone after the rename; cleans up on failure
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := writeFiles(tmp, t); err != nil {
		return err
	}
	marker := []byte("This folder is written by swarmboot render; it is replaced whole on each run.\n")
	if err := os.WriteFile(filepath.Join(tmp, Marker), marker, 0o644); err != nil {
		return err
	}
	return swapInto(tmp, dir)
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

func writeFiles(root string, t Tree) error {
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
		// 0600: user-data can hold keys and tokens; the operator widens it
		// if a web server must read it.
		if err := os.WriteFile(full, t[p], 0o600); err != nil {
			return err
		}
	}
	return nil
}

// swapInto moves the complete tmp tree to dir, keeping the old dir until
// the new one is in place.
func swapInto(tmp, dir string) error {
	old := ""
	if _, err := os.Lstat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			_ = os.Rename(old, dir) // put the old output back
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
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
