//go:build !(linux && (amd64 || arm64))

package output

import "syscall"

// exchange is not available: WriteTree falls back to two renames.
func exchange(a, b string) error { return syscall.ENOSYS }
