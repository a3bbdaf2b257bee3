package encode

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	v31 "github.com/coreos/ignition/v2/config/v3_1"
	v35 "github.com/coreos/ignition/v2/config/v3_5"
)

// A config of the size a Docker host's Ignition reaches: 40 units.
var sampleIgnition = func() []byte {
	var b strings.Builder
	b.WriteString(`{"ignition":{"version":"3.3.0"},"systemd":{"units":[`)
	for i := 0; i < 40; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"name":"swarm-join-%d.service","enabled":true,"contents":"[Unit]\nAfter=docker.service\n[Service]\nExecStart=/usr/bin/docker run --rm swarm:1.2.9 join --addr=192.168.101.111:2375 etcd://192.168.101.101:2379/swarm\n"}`, i)
	}
	b.WriteString("]}}")
	return []byte(b.String())
}()

func TestWrapIgnitionGzip(t *testing.T) {
	if _, rep, err := v35.ParseCompatibleVersion(sampleIgnition); err != nil {
		t.Fatalf("sample is not valid Ignition: %v %s", err, rep)
	}
	w, err := WrapIgnitionGzip(sampleIgnition)
	if err != nil {
		t.Fatal(err)
	}
	// The wrapper must be valid at its own spec and for today's parser.
	cfg, rep, err := v31.Parse(w)
	if err != nil || rep.IsFatal() {
		t.Fatalf("wrapper rejected by the spec 3.1.0 parser: %v %s", err, rep)
	}
	if _, rep, err := v35.ParseCompatibleVersion(w); err != nil || rep.IsFatal() {
		t.Fatalf("wrapper rejected by the 3.5.0 parser: %v %s", err, rep)
	}
	r := cfg.Ignition.Config.Replace
	if r.Compression == nil || *r.Compression != "gzip" || r.Source == nil {
		t.Fatalf("replace = %+v, want a gzip source", r)
	}
	const prefix = "data:;base64,"
	if !strings.HasPrefix(*r.Source, prefix) {
		t.Fatalf("source %.40q is not a base64 data URL", *r.Source)
	}
	gz, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(*r.Source, prefix))
	if err != nil {
		t.Fatal(err)
	}
	inner, err := decode(gz, Gzip)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(inner, sampleIgnition) {
		t.Fatal("the data URL does not carry the original config")
	}
	if len(w) >= len(sampleIgnition)/2 {
		t.Errorf("wrapper is %d bytes for a %d-byte config; expected well under half", len(w), len(sampleIgnition))
	}
	again, _ := WrapIgnitionGzip(sampleIgnition)
	if !bytes.Equal(w, again) {
		t.Error("WrapIgnitionGzip is not deterministic")
	}
}

func TestWrapIgnitionGzipRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":  "#cloud-config\n",
		"truncated": `{"ignition":{"version":"3.3.0"}`,
	} {
		if _, err := WrapIgnitionGzip([]byte(in)); err == nil {
			t.Errorf("%s: WrapIgnitionGzip succeeded; want an error", name)
		}
	}
}
