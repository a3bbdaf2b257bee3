package encode

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"

	"github.com/swarmboot/swarmboot/gz"
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
				back, err := decode(out, enc)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(back, in) {
					t.Fatalf("round trip changed %d bytes into %d bytes", len(in), len(back))
				}
				if enc.Compressed() != gz.Is(mustDecodeB64(t, out, enc)) {
					t.Errorf("Compressed()=%v but gzip magic present=%v", enc.Compressed(), !enc.Compressed())
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
	b, err := base64.StdEncoding.DecodeString(string(out))
	if err != nil {
		t.Fatal(err)
	}
	return b
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
		if _, err := decode([]byte(tt.in), tt.enc); err == nil {
			t.Errorf("decode(%q, %s) succeeded; want an error", tt.in, tt.enc)
		}
	}
	if _, err := Encode([]byte("x"), "zstd"); err == nil {
		t.Error("Encode with an unknown encoding succeeded")
	}
}

// decode reverses Encode, as the node's agent does.
func decode(data []byte, enc Encoding) ([]byte, error) {
	if enc.Base64Text() {
		var err error
		if data, err = base64.StdEncoding.DecodeString(string(data)); err != nil {
			return nil, err
		}
	}
	switch enc {
	case None, Base64:
		return data, nil
	case Gzip, GzipBase64:
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	}
	return nil, fmt.Errorf("unknown encoding %q", enc)
}
