//go:build linux && (amd64 || arm64)

package output

import (
	"syscall"
	"unsafe"
)

// exchange swaps two paths atomically (renameat2 with RENAME_EXCHANGE,
// Linux 3.15+).
func exchange(a, b string) error {
	const atFDCWD, renameExchange = -100, 2
	pa, err := syscall.BytePtrFromString(a)
	if err != nil {
		return err
	}
	pb, err := syscall.BytePtrFromString(b)
	if err != nil {
		return err
	}
	fd := atFDCWD
	_, _, errno := syscall.Syscall6(sysRenameat2, uintptr(fd), uintptr(unsafe.Pointer(pa)),
		uintptr(fd), uintptr(unsafe.Pointer(pb)), renameExchange, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
