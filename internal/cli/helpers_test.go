package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyTree copies src to dst with the files' modes.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			if err := os.MkdirAll(to, 0o700); err != nil {
				return err
			}
			return os.Chmod(to, fi.Mode().Perm())
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(to, b, 0o600); err != nil {
			return err
		}
		return os.Chmod(to, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// snapshot is every file of dir by path, mode and bytes, but the lock and
// what an unfinished transaction left (the next writer removes it).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && strings.HasPrefix(d.Name(), ".staging-") {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() || d.Name() == ".lock" || strings.Contains(d.Name(), ".tmp") {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		fi, _ := d.Info()
		b, _ := os.ReadFile(p)
		out[rel] = fmt.Sprintf("%v %s", fi.Mode(), b)
		return nil
	})
	return out
}

// keyBody is a line from the middle of a PEM file's base64: what a copy
// of it shows wherever it lands as text.
func keyBody(t *testing.T, path string) string {
	t.Helper()
	lines := strings.Split(mustRead(t, path), "\n")
	if len(lines) < 3 {
		t.Fatalf("%s is not PEM", path)
	}
	return lines[1]
}

// noCAKey fails when the CA key is in any file of the output folder or of
// a temporary beside it.
func noCAKey(t *testing.T, out, key string) {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".new-*"))
	for _, d := range append(dirs, out) {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() && strings.Contains(mustRead(t, p), key) {
				t.Errorf("the CA key is in %s", p)
			}
			return nil
		})
	}
}

// leftovers fails on anything a transaction leaves in the PKI.
func noLeftovers(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if n := e.Name(); strings.HasPrefix(n, ".staging-") || strings.HasPrefix(n, ".commit") || strings.Contains(n, ".tmp") {
			t.Errorf("left in the PKI: %s", p)
		}
		return nil
	})
}
