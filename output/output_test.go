package output

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/swarmboot/swarmboot/internal/failpoint"
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

// The new tree takes the old one's place in one step: a reader holding
// the old folder open still sees the whole old tree, and the name then
// leads to a new folder (a write in place would change the old one).
func TestSwapNotInPlace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := WriteTree(dir, tree(3), Options{}); err != nil {
		t.Fatal(err)
	}
	old, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	before, _ := old.Stat()
	if err := WriteTree(dir, Tree{"node-0/user-data": []byte("new\n")}, Options{}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(dir)
	if os.SameFile(before, after) {
		t.Error("the tree was written in place, not swapped")
	}
	if read(t, filepath.Join(dir, "node-0/user-data")) != "new\n" {
		t.Error("the new tree is not in place")
	}
}

// A smaller tree leaves none of the old files behind.
func TestSmallerTreeRemovesOldFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := WriteTree(dir, tree(5), Options{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteTree(dir, tree(2), Options{}); err != nil {
		t.Fatal(err)
	}
	var got []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		got = append(got, rel)
		return nil
	})
	want := []string{".", Marker, "node-0", "node-0/user-data", "node-1", "node-1/user-data"}
	if !slices.Equal(got, want) {
		t.Errorf("after a smaller tree: %q, want %q", got, want)
	}
}

// A write that fails halfway (a bad path among good ones, a failing step
// before the swap) leaves the old tree whole and nothing beside it.
func TestOldTreeSurvivesAFailedWrite(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "out")
	if err := WriteTree(dir, tree(3), Options{}); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(listing(t, dir))
	bad := tree(50)
	bad["node-9/../../escape"] = []byte("x")
	if err := WriteTree(dir, bad, Options{}); err == nil {
		t.Fatal("a path outside the folder was written")
	}
	refuse := errors.New("refused")
	if err := WriteTree(dir, tree(50), Options{BeforeSwap: func() error { return refuse }}); !errors.Is(err, refuse) {
		t.Fatalf("BeforeSwap's error: %v", err)
	}
	failpoint.Hook = func(s string) error {
		if s == "output: tree written" {
			return refuse
		}
		return nil
	}
	err := WriteTree(dir, tree(50), Options{})
	failpoint.Hook = nil
	if !errors.Is(err, refuse) {
		t.Fatalf("a failing step: %v", err)
	}
	if got := fmt.Sprint(listing(t, dir)); got != want {
		t.Errorf("the old tree changed:\n%s\nwant\n%s", got, want)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		t.Errorf("left beside the output: %v", entries)
	}
}

// listing is every file of dir with its bytes.
func listing(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out[rel] = read(t, p)
		}
		return nil
	})
	return out
}

// withUmask runs f under umask m.
func withUmask(m int, f func()) {
	old := syscall.Umask(m)
	defer syscall.Umask(old)
	f()
}

// Modes are set, not left to the umask: the same files and folders under
// umask 000 (which would open keys to everyone) and 077 (which would
// hide matchbox's files from its service).
func TestModesPastTheUmask(t *testing.T) {
	for _, umask := range []int{0, 0o077} {
		for _, mode := range []os.FileMode{0, 0o644} {
			dir := filepath.Join(t.TempDir(), "out")
			var err error
			withUmask(umask, func() { err = WriteTree(dir, Tree{"a/b/user-data": []byte("x")}, Options{FileMode: mode}) })
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]os.FileMode{".": 0o755, "a": 0o755, "a/b": 0o755, "a/b/user-data": mode, Marker: 0o644}
			if mode == 0 {
				want["a/b/user-data"] = 0o600
			}
			for p, m := range want {
				fi, err := os.Stat(filepath.Join(dir, p))
				if err != nil || fi.Mode().Perm() != m {
					t.Errorf("umask %03o, FileMode %04o: %s is %v, want %04o (%v)", umask, mode, p, fi.Mode().Perm(), m, err)
				}
			}
		}
	}
}

// TestModesPerFile: a tree with parts of different permissions (a mixed
// render: matchbox's files 0644, the others' user-data 0600) gets each
// file its own mode past the umask; a mode for a file the tree does not
// hold is refused before anything is written.
func TestModesPerFile(t *testing.T) {
	files := Tree{"ignition/n1.ign": []byte("{}"), "profiles/n1.json": []byte("{}"), "etcd-01/seed.iso": []byte("iso"), "etcd-01/user-data": []byte("x")}
	for _, umask := range []int{0, 0o077} {
		for _, fallback := range []os.FileMode{0, 0o640} {
			dir := filepath.Join(t.TempDir(), "out")
			var err error
			opts := Options{FileMode: fallback, Modes: map[string]os.FileMode{"ignition/n1.ign": 0o644, "profiles/n1.json": 0o644, "etcd-01/user-data": 0o600}}
			withUmask(umask, func() { err = WriteTree(dir, files, opts) })
			if err != nil {
				t.Fatal(err)
			}
			rest := fallback
			if rest == 0 {
				rest = 0o600
			}
			want := map[string]os.FileMode{"ignition": 0o755, "ignition/n1.ign": 0o644, "profiles/n1.json": 0o644, "etcd-01/seed.iso": rest, "etcd-01/user-data": 0o600, Marker: 0o644}
			for p, m := range want {
				fi, err := os.Stat(filepath.Join(dir, p))
				if err != nil || fi.Mode().Perm() != m {
					t.Errorf("umask %03o, FileMode %04o: %s is %v, want %04o (%v)", umask, fallback, p, fi.Mode().Perm(), m, err)
				}
			}
		}
	}
	dir := filepath.Join(t.TempDir(), "out")
	err := WriteTree(dir, files, Options{Modes: map[string]os.FileMode{"ignition/n2.ign": 0o644}})
	if err == nil || !strings.Contains(err.Error(), "ignition/n2.ign, which the tree does not hold") {
		t.Errorf("a mode for no file: %v", err)
	}
	if _, serr := os.Stat(dir); serr == nil {
		t.Error("a refused tree was written")
	}
}

// WriteFile writes atomically with the mode it is given, whatever the
// umask, over an existing file, and leaves no temporary.
func TestWriteFile(t *testing.T) {
	for _, umask := range []int{0, 0o077} {
		for _, mode := range []os.FileMode{0o600, 0o644, 0o755} {
			dir := t.TempDir()
			name := filepath.Join(dir, "cluster.yaml")
			os.WriteFile(name, []byte("old"), 0o600)
			var err error
			withUmask(umask, func() { err = WriteFile(name, []byte("new"), mode) })
			fi, serr := os.Stat(name)
			if err != nil || serr != nil || fi.Mode().Perm() != mode || read(t, name) != "new" {
				t.Errorf("umask %03o, mode %04o: got %v %q (%v %v)", umask, mode, fi.Mode().Perm(), read(t, name), err, serr)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("a temporary is left: %v", entries)
			}
		}
	}
	if err := WriteFile(filepath.Join(t.TempDir(), "no", "such"), []byte("x"), 0o600); err == nil {
		t.Error("wrote into a folder that does not exist")
	}
}

// Check refuses an output that is a file, and one that holds a folder to
// keep or lies in it, however it is spelled or linked; it returns the CA
// the output records.
func TestCheck(t *testing.T) {
	root := t.TempDir()
	out, keep := filepath.Join(root, "out"), filepath.Join(root, "out", "pki")
	if err := WriteTree(out, tree(1), Options{CA: []string{"sha256:aa", "sha256:bb"}}); err != nil {
		t.Fatal(err)
	}
	d, err := Check(out)
	if err != nil || !slices.Equal(d.CA, []string{"sha256:aa", "sha256:bb"}) || d.Dir != out {
		t.Errorf("Check: %+v, %v", d, err)
	}
	os.Mkdir(keep, 0o700)
	os.Symlink(out, filepath.Join(root, "link"))
	os.Symlink(keep, filepath.Join(root, "keeplink"))
	for _, tc := range [][2]string{
		{out, keep}, {out + "/", keep}, {filepath.Join(root, "link"), keep}, {out, filepath.Join(root, "keeplink")},
		{filepath.Join(root, "x", "..", "out"), keep}, {out, out}, {keep + "/inner", keep}, {out, filepath.Join(root, "link", "pki", "deeper")},
	} {
		if _, err := Check(tc[0], tc[1]); !errors.Is(err, ErrKeepInside) {
			t.Errorf("Check(%s, keep %s): %v", tc[0], tc[1], err)
		}
	}
	if _, err := Check(filepath.Join(root, "out2"), keep); err != nil {
		t.Errorf("a sibling: %v", err)
	}
	os.WriteFile(filepath.Join(root, "file"), []byte("x"), 0o644)
	if _, err := Check(filepath.Join(root, "file")); err == nil || !strings.Contains(err.Error(), "is a file, not a folder") {
		t.Errorf("a file: %v", err)
	}
	if err := WriteTree(out, tree(1), Options{}); err != nil {
		t.Fatal(err)
	}
	if d, _ := Check(out); len(d.CA) != 0 {
		t.Errorf("an output without TLS records %v", d.CA)
	}
}
