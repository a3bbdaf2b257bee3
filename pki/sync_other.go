//go:build !(linux && (amd64 || arm64))

package pki

import (
	"os"
	"path/filepath"
)

// syncAll makes paths (files and folders under root) and root durable,
// one fsync each: there is no syncfs(2) here.
func syncAll(root string, paths []string) error {
	for _, p := range append(paths, ".") {
		f, err := os.Open(filepath.Join(root, p))
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
