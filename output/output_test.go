package output

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func tree(n int) Tree {
	t := Tree{}
	for i := range n {
		t[fmt.Sprintf("node-%d/user-data", i)] = []byte(fmt.Sprintf("#cloud-config %d\n", i))
	}
	return t
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// -o LINK replaces the tree the link points to; the link stays a link.
func TestSymlinkIsFollowed(t *testing.T) {
	root := t.TempDir()
	target := filepath.Join(root, "real")
	link := filepath.Join(root, "link")
	if err := WriteTree(target, tree(1), Options{}); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	next := Tree{"node-0/user-data": []byte("new\n")}
	if err := WriteTree(link, next, Options{}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced by a folder: %v", err)
	}
	if got := read(t, filepath.Join(target, "node-0/user-data")); got != "new\n" {
		t.Errorf("the link's target still holds %q", got)
	}
}

// What an interrupted run left beside the output is removed by the next.
func TestStaleTemporariesAreRemoved(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "out")
	stale := filepath.Join(root, ".out.new-123")
	if err := os.MkdirAll(filepath.Join(stale, "node-0"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteTree(dir, tree(2), Options{}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		t.Errorf("left beside the output: %v", entries)
	}
}

// Concurrent runs into one folder take turns: all succeed, and the result
// is one of their trees, whole.
func TestConcurrentRuns(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "out")
	var wg sync.WaitGroup
	errs := make([]error, 30)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = WriteTree(dir, tree(1+i%5), Options{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i, err)
		}
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		t.Errorf("left beside the output: %v", entries)
	}
	nodes, _ := filepath.Glob(filepath.Join(dir, "node-*"))
	for i := range len(nodes) {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("node-%d/user-data", i))); err != nil {
			t.Errorf("the tree is not whole: %v", err)
		}
	}
}

// An old tree that cannot be removed is a warning after the new one is in
// place, not a failure that contradicts what was written.
func TestUnremovableOldTreeWarns(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "out")
	if err := WriteTree(dir, tree(1), Options{}); err != nil {
		t.Fatal(err)
	}
	removeAll = func(string) error { return os.ErrPermission } // a read-only old tree
	defer func() { removeAll = os.RemoveAll }()
	var warned []string
	err := WriteTree(dir, Tree{"node-0/user-data": []byte("new\n")}, Options{Warn: func(s string) { warned = append(warned, s) }})
	if err != nil || read(t, filepath.Join(dir, "node-0/user-data")) != "new\n" || len(warned) != 1 ||
		!strings.Contains(warned[0], "could not be removed") {
		t.Errorf("err %v, warnings %v", err, warned)
	}
}

// Files are 0600 unless the delivery says otherwise (matchbox: 0644).
func TestFileModes(t *testing.T) {
	root := t.TempDir()
	for _, mode := range []os.FileMode{0, 0o644} {
		dir := filepath.Join(root, fmt.Sprintf("m%o", mode))
		if err := WriteTree(dir, tree(1), Options{FileMode: mode}); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dir, "node-0/user-data"))
		want := mode
		if want == 0 {
			want = 0o600
		}
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("mode %v, want %v (%v)", fi.Mode().Perm(), want, err)
		}
	}
}

// The destination is never missing while it is replaced: a reader that
// looks at it all along always finds a complete tree.
func TestNeverMissing(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "out")
	if err := WriteTree(dir, tree(3), Options{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var missing int
	go func() {
		defer close(done)
		for i := 0; i < 20000; i++ {
			if _, err := os.Stat(filepath.Join(dir, Marker)); err != nil {
				missing++
			}
		}
	}()
	for range 50 {
		if err := WriteTree(dir, tree(3), Options{}); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	if missing > 0 {
		t.Errorf("the output was missing %d times while it was replaced", missing)
	}
}

// A folder swarmboot did not write is never replaced.
func TestForeignFolderIsKept(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "precious"), []byte("x"), 0o644)
	if err := WriteTree(dir, tree(1), Options{}); err == nil || !strings.Contains(err.Error(), "not written by swarmboot") {
		t.Errorf("err = %v", err)
	}
}
