package gz

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
)

func TestCompress(t *testing.T) {
	in := bytes.Repeat([]byte("#cloud-config\nhostname: etcd-01\n"), 200)
	out := Compress(in)
	if !Is(out) || Is(in) {
		t.Fatalf("Is(Compress(in)) = %v, Is(in) = %v", Is(out), Is(in))
	}
	if !bytes.Equal(out, Compress(in)) {
		t.Error("two compressions of the same input differ")
	}
	if len(out)*10 > len(in) {
		t.Errorf("%d bytes compressed to %d; want BestCompression", len(in), len(out))
	}
	zr, err := gzip.NewReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() || zr.OS != 255 {
		t.Errorf("header carries name %q, mtime %v, OS %d; want none, zero, unknown", zr.Name, zr.ModTime, zr.OS)
	}
	back, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(back, in) {
		t.Errorf("round trip failed: %v", err)
	}
}
