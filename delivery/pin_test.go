package delivery_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/swarmboot/swarmboot/delivery"
	"github.com/swarmboot/swarmboot/delivery/encode"
	"github.com/swarmboot/swarmboot/delivery/target"
	"github.com/swarmboot/swarmboot/gz"
)

// TestSizeLimitCountsPayload: a provider that counts the bytes the node
// receives is checked against those, not against the base64 text written
// for transport, which is a third longer.
func TestSizeLimitCountsPayload(t *testing.T) {
	c := load(t, "../examples/combined.yaml")
	tls := material(t, c) // one PKI: the sizes stay put
	build := func(o delivery.Options) (*delivery.Result, error) { return deliver(c, nil, o, tls) }
	plain, err := build(delivery.Options{})
	if err != nil {
		t.Fatal(err)
	}
	largest := 0
	for name, data := range plain.Files {
		if strings.HasSuffix(name, "/user-data") || strings.HasSuffix(name, "/config.ign") {
			largest = max(largest, len(data))
		}
	}
	// Fits the payload, not its base64 text.
	limit := largest + (base64.StdEncoding.EncodedLen(largest)-largest)/2
	fits := target.Target{Name: "payload", Limit: limit, Counts: target.Payload, Source: "test"}
	if _, err := build(delivery.Options{Encoding: encode.Base64, Target: &fits}); err != nil {
		t.Errorf("every payload (largest %d bytes) fits %d bytes, yet: %v", largest, limit, err)
	}
	tight := target.Target{Name: "payload", Limit: largest - 1, Counts: target.Payload, Source: "test"}
	if _, err := build(delivery.Options{Encoding: encode.Base64, Target: &tight}); err == nil {
		t.Errorf("a %d-byte payload passed a %d-byte limit", largest, largest-1)
	}
	// A provider that counts the base64 text: the same payload does not fit.
	text := target.Target{Name: "text", Limit: limit, Counts: target.Base64Text, Source: "test"}
	if _, err := build(delivery.Options{Encoding: encode.Base64, Target: &text}); err == nil {
		t.Errorf("base64 text of %d bytes passed a %d-character limit", base64.StdEncoding.EncodedLen(largest), limit)
	}
}

// TestIgnitionGzipBase64IsOneWrapper: gzip+base64 of an Ignition config is
// the base64 text of the wrapper config, which Ignition reads as JSON; the
// wrapper itself is not compressed again.
func TestIgnitionGzipBase64IsOneWrapper(t *testing.T) {
	c := load(t, "../golden/discovery-url/cluster.yaml")
	res, err := build(t, c, nil, delivery.Options{Encoding: encode.GzipBase64})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for name, data := range res.Files {
		if !strings.HasSuffix(name, "/config.ign") {
			continue
		}
		seen++
		raw, err := base64.StdEncoding.DecodeString(string(data))
		if err != nil {
			t.Fatalf("%s is not base64: %v", name, err)
		}
		if gz.Is(raw) || !json.Valid(raw) {
			t.Fatalf("%s decodes to %.40q, not a wrapper config", name, raw)
		}
		var w struct {
			Ignition struct {
				Config struct {
					Replace struct {
						Source      string `json:"source"`
						Compression string `json:"compression"`
					} `json:"replace"`
				} `json:"config"`
			} `json:"ignition"`
		}
		if err := json.Unmarshal(raw, &w); err != nil {
			t.Fatal(err)
		}
		r := w.Ignition.Config.Replace
		_, b64, ok := strings.Cut(r.Source, ";base64,")
		if r.Compression != "gzip" || !ok {
			t.Fatalf("%s: wrapper replaces with %.60q (compression %q)", name, r.Source, r.Compression)
		}
		inner, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || !gz.Is(inner) {
			t.Fatalf("%s: the wrapped config is not gzip once (%v)", name, err)
		}
		unzipped, err := inflate(inner)
		if err != nil || gz.Is(unzipped) || !json.Valid(unzipped) {
			t.Fatalf("%s: the wrapped config, inflated once, is not the Ignition config (%v): %.40q", name, err, unzipped)
		}
	}
	if seen == 0 {
		t.Fatal("no Ignition config in the golden case")
	}
}

func inflate(data []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// TestMatchboxTreeIsReadable: matchbox runs as its own user and reads the
// tree, so every file is 0644 on disk whatever the umask; the other
// packagings keep user-data 0600.
func TestMatchboxTreeIsReadable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pxe.yaml")
	desc := "version: 1\ncluster: pxe\nprofile: flatcar\nnodes:\n" +
		"  - {name: n1, ip: 10.0.0.1, roles: [etcd, docker, manager], mac: \"52:54:00:00:00:01\"}\n" +
		"  - {name: n2, ip: 10.0.0.2, roles: [etcd, docker], mac: \"52:54:00:00:00:02\"}\n"
	if err := os.WriteFile(file, []byte(desc), 0o644); err != nil {
		t.Fatal(err)
	}
	c := load(t, file)
	mb := delivery.Options{Packaging: delivery.Matchbox}
	mb.Matchbox.URL, mb.Matchbox.FlatcarVersion = "http://matchbox.lan:8080", "4081.2.0"
	for _, umask := range []int{0o000, 0o077} {
		old := syscall.Umask(umask)
		t.Cleanup(func() { syscall.Umask(old) })
		for _, tc := range []struct {
			o    delivery.Options
			want os.FileMode
		}{
			{mb, 0o644},
			{delivery.Options{}, 0o600},
		} {
			res, err := build(t, c, nil, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			checkModes(t, res, func(string) os.FileMode { return tc.want })
		}
		syscall.Umask(old)
	}
}
