package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// writeAtomic replaces path with data so that a reader (or a crash) sees the
// old file or the new one, never a torn key: temp file in the same
// directory, fsync, rename, fsync of the directory.
func writeAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	// Chmod explicitly: the umask must not widen or narrow key modes.
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // best effort: makes the rename durable on most filesystems
		d.Close()
	}
	return nil
}

// mkdirs creates path and any missing parents as 0700 (whatever the umask)
// and returns the directories it created, outermost first, for undoing.
func mkdirs(path string) (made []string, err error) {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if made, err = mkdirs(filepath.Dir(path)); err != nil {
		return made, err
	}
	if err = os.Mkdir(path, 0o700); err == nil {
		made = append(made, path)
		err = os.Chmod(path, 0o700)
	}
	return made, err
}

type file struct {
	name string // relative to the directory
	data []byte
	perm os.FileMode
}

// writeAll writes files under dir in order, creating directories as
// needed, and records in made what did not exist before.
func writeAll(dir string, made *[]string, files []file) (paths []string, err error) {
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		d, err := mkdirs(filepath.Dir(p))
		*made = append(*made, d...)
		if err != nil {
			return paths, err
		}
		if _, err := os.Lstat(p); err != nil {
			*made = append(*made, p)
		}
		if err := writeAtomic(p, f.data, f.perm); err != nil {
			return paths, fmt.Errorf("pki: writing %s: %w", p, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// readPair reads dir/cert.pem and dir/key.pem; a missing file reads as nil.
func readPair(dir string) (cert, key []byte, err error) {
	if cert, err = readOptional(filepath.Join(dir, "cert.pem")); err == nil {
		key, err = readOptional(filepath.Join(dir, "key.pem"))
	}
	return cert, key, err
}

// readOptional returns nil, nil for a missing file.
func readOptional(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}
