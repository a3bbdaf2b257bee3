package encode

import (
	"bytes"
	"math/rand"
	"strings"
	"testing"
)

func inputs() map[string][]byte {
	rnd := rand.New(rand.NewSource(1))
	bin := make([]byte, 5000)
	rnd.Read(bin)
	return map[string][]byte{
		"empty":  {},
		"text":   []byte("#cloud-config\nhostname: etcd-01\n"),
		"binary": bin,
		"large":  bytes.Repeat([]byte("write_files:\n- path: /etc/default/etcd\n"), 2000),
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	for name, in := range inputs() {
		for _, enc := range Encodings() {
			t.Run(name+"/"+string(enc), func(t *testing.T) {
				out, err := Encode(in, enc)
				if err != nil {
					t.Fatal(err)
				}
				again, err := Encode(in, enc)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(out, again) {
					t.Fatal("Encode is not deterministic")
				}
				back, err := Decode(out, enc)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(back, in) {
					t.Fatalf("round trip changed %d bytes into %d bytes", len(in), len(back))
				}
				if enc.Compressed() != IsGzip(mustDecodeB64(t, out, enc)) {
					t.Errorf("Compressed()=%v but gzip magic present=%v", enc.Compressed(), !enc.Compressed())
				}
				if enc.Base64Text() && len(out) != Base64Len(len(mustDecodeB64(t, out, enc))) {
					t.Errorf("base64 length %d, Base64Len says %d", len(out), Base64Len(len(mustDecodeB64(t, out, enc))))
				}
			})
		}
	}
}

// mustDecodeB64 strips the base64 layer, if any, leaving the bytes a node reads.
func mustDecodeB64(t *testing.T, out []byte, enc Encoding) []byte {
	t.Helper()
	if !enc.Base64Text() {
		return out
	}
	b, err := unb64(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGzipHeaderIsFixed(t *testing.T) {
	gz := GzipBytes([]byte("#cloud-config\n"))
	// RFC 1952: ID1 ID2 CM FLG MTIME(4) XFL OS.
	want := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255}
	if !bytes.Equal(gz[:10], want) {
		t.Fatalf("gzip header = % x, want % x (no name, no mtime, best compression, OS unknown)", gz[:10], want)
	}
}

func TestGzipShrinksUserData(t *testing.T) {
	in := inputs()["large"]
	if gz := GzipBytes(in); len(gz)*10 > len(in) {
		t.Fatalf("repetitive %d bytes gzip to %d; expected at least 10x smaller", len(in), len(gz))
	}
}

func TestParseEncoding(t *testing.T) {
	tests := []struct {
		in      string
		want    Encoding
		wantErr string
	}{
		{"", None, ""},
		{"none", None, ""},
		{"gzip", Gzip, ""},
		{"base64", Base64, ""},
		{"gzip+base64", GzipBase64, ""},
		{"gz", "", `unknown encoding "gz" (want one of none, gzip, base64, gzip+base64)`},
		{"GZIP", "", `unknown encoding "GZIP"`},
		{"base64+gzip", "", `unknown encoding "base64+gzip"`},
	}
	for _, tt := range tests {
		got, err := ParseEncoding(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseEncoding(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseEncoding(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestExt(t *testing.T) {
	want := map[Encoding]string{None: "", Gzip: ".gz", Base64: ".b64", GzipBase64: ".gz.b64"}
	for enc, ext := range want {
		if got := enc.Ext(); got != ext {
			t.Errorf("%s.Ext() = %q, want %q", enc, got, ext)
		}
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	tests := []struct {
		enc Encoding
		in  string
	}{
		{Gzip, "not gzip"},
		{Base64, "!!!"},
		{GzipBase64, "bm90IGd6aXA="}, // base64 of "not gzip"
		{"zstd", "x"},
	}
	for _, tt := range tests {
		if _, err := Decode([]byte(tt.in), tt.enc); err == nil {
			t.Errorf("Decode(%q, %s) succeeded; want an error", tt.in, tt.enc)
		}
	}
	if _, err := Encode([]byte("x"), "zstd"); err == nil {
		t.Error("Encode with an unknown encoding succeeded")
	}
}

func TestBase64Len(t *testing.T) {
	// AWS documents the limit check as ceil(n/3)*4; 16384 raw bytes are 21848
	// base64 characters.
	for n, want := range map[int]int{0: 0, 1: 4, 3: 4, 4: 8, 16384: 21848} {
		if got := Base64Len(n); got != want {
			t.Errorf("Base64Len(%d) = %d, want %d", n, got, want)
		}
	}
}
