package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// lockName is the lock file of a PKI folder. Runs that change the folder
// hold an exclusive flock on it from Begin to Close (a render holds it
// across its output swap); readers hold a shared one. The holder writes
// its pid and command line into it, for whoever waits.
const lockName = ".lock"

// Tx is a PKI folder held for one run that may change it: a render, or
// `pki init` and `pki renew`. Nothing in the folder changes before
// Commit; a run killed at any point leaves it as it was or fully
// committed, and the next Begin (or Open) finishes or removes what the
// killed run left.
type Tx struct {
	dir      string
	lock     *os.File
	made     []string // folders Begin created: removed by Close if nothing was committed
	readOnly bool     // the folder cannot be written: a run that issues nothing still works
	done     bool     // committed
	store    *Store
	storeErr error
}

// Begin takes dir's lock, creating dir (0700) when it does not exist yet.
// A run holding the lock is waited for; waiting hears once who it is. On
// a folder this user cannot write, Begin still reads it, and only a
// Commit that must store something fails.
func Begin(dir string, waiting func(holder string)) (*Tx, error) {
	t := &Tx{dir: dir}
	if _, err := checkDir(dir); err != nil {
		return nil, err
	}
	for {
		made, err := mkdirs(dir)
		t.made = append(t.made, made...)
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
		if err == nil && syscall.Access(dir, 2 /* W_OK */) != nil {
			f.Close()
			err = fs.ErrPermission // the lock file is writable, the folder is not
		}
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
			t.readOnly = true
			return t, t.readOnlyLock()
		}
		if err != nil {
			return nil, explain(filepath.Join(dir, lockName), "open", err)
		}
		if err := flock(f, syscall.LOCK_EX, waiting); err != nil {
			f.Close()
			return nil, err
		}
		// A run that made dir and failed removes the lock file before it
		// lets go: the lock taken on it guards nothing, take it again.
		if same(f, filepath.Join(dir, lockName)) {
			t.lock = f
			break
		}
		f.Close()
	}
	holder := fmt.Sprintf("pid %d (%s)\n", os.Getpid(), strings.Join(os.Args, " "))
	if t.lock.Truncate(0) == nil {
		t.lock.WriteAt([]byte(holder), 0)
	}
	if err := t.recover(); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// readOnlyLock shares the lock of a folder this user cannot write, when
// there is a lock file to share.
func (t *Tx) readOnlyLock() error {
	f, err := os.Open(filepath.Join(t.dir, lockName))
	if err != nil {
		return nil // no run has ever changed the folder with a lock
	}
	if err := flock(f, syscall.LOCK_SH, nil); err != nil {
		f.Close()
		return err
	}
	t.lock = f
	if _, err := os.Lstat(filepath.Join(t.dir, manifestName)); err == nil {
		return fmt.Errorf("%s holds an unfinished commit of a run that was stopped, and this user cannot write there to finish it: run swarmboot once as the PKI's owner%s", t.dir, owner(t.dir))
	}
	return nil
}

// flock takes the lock, telling waiting who holds it when it must wait.
func flock(f *os.File, how int, waiting func(string)) error {
	err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		if waiting != nil {
			b := make([]byte, 512)
			n, _ := f.ReadAt(b, 0)
			holder := strings.TrimSpace(string(b[:n]))
			if holder == "" {
				holder = "a run that reads it"
			}
			waiting(holder)
		}
		err = syscall.Flock(int(f.Fd()), how)
	}
	if err != nil {
		return fmt.Errorf("locking %s: %w", f.Name(), err)
	}
	return nil
}

// same reports whether f is still the file at path.
func same(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// Close lets go of the lock. A folder Begin created for a run that then
// failed is removed again: a failed first render leaves no PKI.
func (t *Tx) Close() error {
	if t.lock == nil {
		return nil
	}
	if !t.done && !t.readOnly && len(t.made) > 0 {
		os.Remove(filepath.Join(t.dir, lockName))
		for i := len(t.made) - 1; i >= 0; i-- {
			if os.Remove(t.made[i]) != nil {
				break // not empty: someone put something there
			}
		}
	}
	if !t.readOnly {
		t.lock.Truncate(0) // whoever waits next is kept by readers, if anyone
	}
	err := t.lock.Close()
	t.lock = nil
	return err
}

// Dir is the PKI folder.
func (t *Tx) Dir() string { return t.dir }

// Store loads the folder's CA once per transaction; an error wraps
// ErrNoCA when there is none.
func (t *Tx) Store() (*Store, error) {
	if t.store == nil && t.storeErr == nil {
		t.store, t.storeErr = load(t.dir)
	}
	return t.store, t.storeErr
}

// readLock takes a shared lock on dir for a reader, finishing first what a
// stopped run left (which needs the exclusive lock). The lock file is not
// created: a reader may not be allowed to write.
func readLock(dir string) (unlock func(), err error) {
	nothing := func() {}
	if ok, err := checkDir(dir); err != nil || !ok {
		return nothing, err
	}
	if _, err := os.Lstat(filepath.Join(dir, manifestName)); err == nil {
		t, err := Begin(dir, nil)
		if err != nil {
			return nothing, err
		}
		t.Close()
	}
	f, err := os.Open(filepath.Join(dir, lockName))
	if err != nil {
		return nothing, nil // never locked, or not ours to read: read as is
	}
	if err := flock(f, syscall.LOCK_SH, nil); err != nil {
		f.Close()
		return nothing, err
	}
	return func() { f.Close() }, nil
}
