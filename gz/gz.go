// Package gz is swarmboot's one gzip: Ignition's compressed data URLs and
// gzip user-data both use it, so both are deterministic the same way.
package gz

import (
	"bytes"
	"compress/gzip"
	"sync"
)

// writers recycles compressors: a best-compression gzip.Writer holds about
// 1 MB of state, and every file of every Ignition node tries one.
var writers = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestCompression) // a valid level cannot fail
	return zw
}}

// Compress gzips data at BestCompression with an empty header (no name, no
// mtime, OS "unknown"), so the bytes depend on the input alone: user-data
// limits are tight and reproducible files diff cleanly.
func Compress(data []byte) []byte {
	var buf bytes.Buffer
	zw := writers.Get().(*gzip.Writer)
	defer writers.Put(zw)
	zw.Reset(&buf)
	// Writes to a bytes.Buffer cannot fail.
	_, _ = zw.Write(data)
	_ = zw.Close()
	return buf.Bytes()
}

// Is reports whether data starts with the gzip magic, as coreos-cloudinit
// and cloud-init test it.
func Is(data []byte) bool {
	return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
}
