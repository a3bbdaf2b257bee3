// Package encode turns rendered user-data into the byte form a provider
// carries: as is, gzip-compressed, base64 text, or base64 of gzip.
//
// Who reads gzip user-data (checked in the readers' sources and docs; the
// URLs are in delivery/README.md):
//
//   - cloud-init decompresses gzip user-data transparently, on every
//     datasource, since its early releases ("Gzip Compressed Content" in its
//     User-Data Formats doc). It does not decode base64 by itself, except on
//     GCE where the metadata key user-data-encoding=base64 asks for it.
//   - coreos-cloudinit (legacy CoreOS, Flatcar's cloud-config agent) checks
//     for the gzip magic and decompresses (decompressIfGzip in
//     coreos-cloudinit.go, v1.14.0).
//   - Ignition (spec 3, v2.x) does NOT decompress the user-data it fetches
//     on AWS, GCE, Azure, OpenStack, DigitalOcean or QEMU: it parses it as
//     JSON. The exceptions are Akamai (gzip since Ignition 2.20.0) and VMware
//     guestinfo (ignition.config.data.encoding=gzip+base64). Ignition does
//     decompress a config it fetches through ignition.config.replace/merge
//     with compression "gzip" (spec 3.1.0+, Ignition 2.3.0+), which is what
//     WrapIgnitionGzip builds.
package encode

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/swarmboot/swarmboot/gz"
)

// Encoding names one byte form of user-data.
type Encoding string

// The encodings, spelled as the CLI flag --encode takes them.
const (
	None       Encoding = "none"
	Gzip       Encoding = "gzip"
	Base64     Encoding = "base64"
	GzipBase64 Encoding = "gzip+base64"
)

// Encodings lists every encoding in the order help text shows them.
func Encodings() []Encoding { return []Encoding{None, Gzip, Base64, GzipBase64} }

// ParseEncoding reads an --encode value; "" means none.
func ParseEncoding(s string) (Encoding, error) {
	if s == "" {
		return None, nil
	}
	for _, e := range Encodings() {
		if Encoding(s) == e {
			return e, nil
		}
	}
	names := make([]string, 0, 4)
	for _, e := range Encodings() {
		names = append(names, string(e))
	}
	return "", fmt.Errorf("unknown encoding %q (want one of %s)", s, strings.Join(names, ", "))
}

// String returns the flag spelling.
func (e Encoding) String() string { return string(e) }

// Compressed reports whether the encoding gzips the data.
func (e Encoding) Compressed() bool { return e == Gzip || e == GzipBase64 }

// Base64Text reports whether the encoding ends in base64 text.
func (e Encoding) Base64Text() bool { return e == Base64 || e == GzipBase64 }

// Encode returns data in the given encoding, in new bytes. Output is
// deterministic: the same input always gives the same bytes (see gz).
func Encode(data []byte, enc Encoding) ([]byte, error) {
	switch enc {
	case None, "":
		return bytes.Clone(data), nil
	case Gzip:
		return gz.Compress(data), nil
	case Base64:
		return b64(data), nil
	case GzipBase64:
		return b64(gz.Compress(data)), nil
	}
	return nil, fmt.Errorf("unknown encoding %q", string(enc))
}

func b64(data []byte) []byte {
	out := make([]byte, base64.StdEncoding.EncodedLen(len(data)))
	base64.StdEncoding.Encode(out, data)
	return out
}
