package pki

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// maxFile bounds every file the PKI reads: a PEM certificate or key of
// swarmboot's is a few KiB, and a bound keeps /dev/zero behind a symlink
// from being read without end.
const maxFile = 1 << 20

// readFile reads the regular file path, at most maxFile bytes; a missing
// file reads as nil, nil. O_NONBLOCK keeps a FIFO from hanging the open;
// the fstat then refuses anything but a regular file. A secret file
// readable by group or others is refused, as ssh refuses such keys.
func readFile(path string, secret bool) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, explain(path, "read", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, explain(path, "read", err)
	}
	switch {
	case fi.IsDir():
		return nil, refusef("%s is a folder, where swarmboot keeps a PEM file: move it away", path)
	case !fi.Mode().IsRegular():
		return nil, refusef("%s is not a regular file (%s): swarmboot reads only regular files in the PKI; put the PEM file itself there", path, kind(fi.Mode()))
	case fi.Size() > maxFile:
		return nil, refusef("%s is %d bytes, more than the 1 MiB a certificate or key file can be: it is not one; put the right file there", path, fi.Size())
	case secret && fi.Mode().Perm()&0o077 != 0:
		return nil, refusef("%s holds a private key but is readable by group or others (mode %04o): run `chmod 600 %s`", path, fi.Mode().Perm(), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err == nil && len(b) > maxFile {
		err = refusef("%s grew past 1 MiB while it was read", path)
	}
	if err != nil {
		return nil, explain(path, "read", err)
	}
	return b, nil
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}

// explain turns an OS error on path into a sentence that says what to do.
func explain(path, doing string, err error) error {
	var why string
	switch {
	case errors.Is(err, fs.ErrPermission):
		why = fmt.Sprintf("permission denied%s: run swarmboot as the PKI's owner, or give this user access (chmod, chown)", owner(path))
	case errors.Is(err, syscall.EROFS):
		why = "the file system is read-only: swarmboot stores the certificates it issues in the PKI folder; render from a writable copy, or issue nothing new"
	case errors.Is(err, syscall.ENOTDIR):
		why = "a part of this path is a file where a folder belongs: move that file away"
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		why = "no space left: free some and run again (nothing was changed)"
	case errors.Is(err, syscall.ELOOP):
		why = "too many levels of symbolic links: point the link at the file itself"
	default:
		return fmt.Errorf("cannot %s %s: %w", doing, path, err)
	}
	return fmt.Errorf("cannot %s %s: %s (%w)", doing, path, why, err)
}

// owner names the owner and mode of path's nearest existing folder,
// " (pki is owned by uid 1000, mode 0700)", for a permission error.
func owner(path string) string {
	for p := path; ; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				return fmt.Sprintf(" (%s is owned by uid %d, mode %04o; this is uid %d)", p, st.Uid, fi.Mode().Perm(), os.Geteuid())
			}
			return ""
		}
		if p == filepath.Dir(p) {
			return ""
		}
	}
}

// checkDir says whether dir exists, and refuses a dir that is not a folder.
func checkDir(dir string) (bool, error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, explain(dir, "open the PKI folder", err)
	case !fi.IsDir():
		return false, refusef("the PKI folder %s is a file: tls.dir (or --pki) names the folder that holds the CA; move the file away or name another folder", dir)
	}
	return true, nil
}

// mkdirs creates path and any missing parents as 0700 (whatever the umask)
// and returns the folders it created, outermost first, for undoing.
func mkdirs(path string) (made []string, err error) {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return nil, nil
	case err == nil:
		return nil, refusef("%s is a file, where swarmboot keeps a folder: move it away", path)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, explain(path, "create", err)
	}
	if made, err = mkdirs(filepath.Dir(path)); err != nil {
		return made, err
	}
	if err = os.Mkdir(path, 0o700); err != nil {
		return made, explain(path, "create", err)
	}
	made = append(made, path)
	return made, os.Chmod(path, 0o700)
}
