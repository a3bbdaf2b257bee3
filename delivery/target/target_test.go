package target

import (
	"errors"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/swarmboot/swarmboot/delivery/encode"
	"github.com/swarmboot/swarmboot/gz"
	"github.com/swarmboot/swarmboot/profiles"
)

func mustLookup(t *testing.T, name string) Target {
	t.Helper()
	tg, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// text returns n bytes of cloud-config-like, compressible text.
func text(n int) []byte {
	line := "  - path: /etc/systemd/system/docker.service.d/10-tcp.conf\n"
	return []byte(strings.Repeat(line, n/len(line)+1)[:n])
}

// noise returns n incompressible bytes.
func noise(n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(7)).Read(b)
	return b
}

func TestTable(t *testing.T) {
	want := map[string]struct{ limit, maxPayload int }{
		"aws":          {16384, 16384},
		"openstack":    {65535, 49149},
		"azure":        {65535, 65535},
		"gce":          {262144, 262144},
		"digitalocean": {65536, 65536},
		"vagrant":      {0, 0},
		"nocloud":      {0, 0},
	}
	if got := strings.Join(Names(), ","); got != "aws,azure,digitalocean,gce,nocloud,openstack,vagrant" {
		t.Errorf("Names() = %s", got)
	}
	for name, w := range want {
		tg := mustLookup(t, name)
		if tg.Limit != w.limit || tg.MaxPayload() != w.maxPayload {
			t.Errorf("%s: limit %d, max payload %d; want %d, %d", name, tg.Limit, tg.MaxPayload(), w.limit, w.maxPayload)
		}
		if !strings.HasPrefix(tg.Source, "https://") {
			t.Errorf("%s: needs a cited source, have %q", name, tg.Source)
		}
		if tg.Gzip != (tg.GzipEncoding != "") || tg.Gzip != (tg.GzipHow != "") {
			t.Errorf("%s: Gzip=%v but GzipEncoding=%q GzipHow=%q", name, tg.Gzip, tg.GzipEncoding, tg.GzipHow)
		}
		// The largest payload fits; one byte more does not.
		if m := tg.MaxPayload(); m > 0 {
			if tg.Counted(m) > tg.Limit || tg.Counted(m+3) <= tg.Limit {
				t.Errorf("%s: MaxPayload %d does not sit at the limit", name, m)
			}
		}
	}
	if len(Names()) != len(want) {
		t.Errorf("Names() has %d targets, want %d", len(Names()), len(want))
	}
	if _, err := Lookup("ec2"); err == nil || !strings.Contains(err.Error(), "aws, azure") {
		t.Errorf("Lookup(ec2) error = %v; want one listing the targets", err)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name, target        string
		format              profiles.Format
		payload             []byte
		wantErr             bool
		gzipFits, gzipTried bool
		wrapFits            bool
		msg                 []string // substrings of the message
	}{
		{name: "aws at the limit", target: "aws", format: "cloud-config", payload: text(16384)},
		{name: "aws one over, gzip fits", target: "aws", format: "cloud-config", payload: text(16385),
			wantErr: true, gzipTried: true, gzipFits: true,
			msg: []string{`node "n1"`, "16385 bytes", "aws's limit of 16384 bytes", "with --encode gzip it is", "fileb://"}},
		{name: "aws incompressible", target: "aws", format: "coreos-cloudconfig", payload: noise(20000),
			wantErr: true, gzipTried: true, msg: []string{"even with --encode gzip"}},
		{name: "aws already gzip", target: "aws", format: "cloud-config", payload: gz.Compress(noise(20000)),
			wantErr: true},
		{name: "aws ignition wraps", target: "aws", format: "ignition", wantErr: true, wrapFits: true,
			payload: append(append([]byte(`{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/x","contents":{"source":"data:,`),
				[]byte(strings.Repeat("a", 20000))...), []byte(`"}}]}}`)...),
			msg: []string{"Ignition does not inflate", "fits"}},
		{name: "openstack base64 fits", target: "openstack", format: "cloud-config", payload: text(49149)},
		{name: "openstack base64 over", target: "openstack", format: "cloud-config", payload: text(49150),
			wantErr: true, gzipTried: true, gzipFits: true,
			msg: []string{"(65536 as base64)", "65535 base64 characters (49149 bytes"}},
		{name: "digitalocean no gzip", target: "digitalocean", format: "cloud-config", payload: text(70000),
			wantErr: true, msg: []string{"digitalocean's limit of 65536"}},
		{name: "gce gzip for cloud-init", target: "gce", format: "cloud-config", payload: text(300000),
			wantErr: true, gzipTried: true, gzipFits: true, msg: []string{"--encode gzip+base64", "user-data-encoding=base64"}},
		{name: "gce no gzip for coreos-cloudinit", target: "gce", format: "coreos-cloudconfig", payload: text(300000),
			wantErr: true},
		{name: "vagrant has no limit", target: "vagrant", format: "cloud-config", payload: text(1 << 20)},
		{name: "nocloud has no limit", target: "nocloud", format: "cloud-config", payload: noise(1 << 20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(mustLookup(t, tt.target), "n1", tt.format, tt.payload)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var e *TooLargeError
			if !errors.As(err, &e) {
				t.Fatalf("error = %v, want *TooLargeError", err)
			}
			if (e.GzipCounted > 0) != tt.gzipTried || e.GzipFits != tt.gzipFits || e.WrapFits != tt.wrapFits {
				t.Errorf("gzip tried=%v fits=%v, wrap fits=%v; want %v %v %v",
					e.GzipCounted > 0, e.GzipFits, e.WrapFits, tt.gzipTried, tt.gzipFits, tt.wrapFits)
			}
			if e.GzipFits && e.GzipCounted > e.Target.Limit {
				t.Errorf("GzipFits with %d > %d", e.GzipCounted, e.Target.Limit)
			}
			for _, s := range tt.msg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message lacks %q:\n%s", s, err)
				}
			}
			if !tt.gzipTried && !tt.wrapFits && strings.Contains(err.Error(), "--encode") {
				t.Errorf("message suggests an encoding that cannot help:\n%s", err)
			}
		})
	}
}

// The whole message for the commonest case, as a user reads it.
func TestCheckMessage(t *testing.T) {
	payload := text(20000)
	gz := len(gz.Compress(payload))
	err := Check(mustLookup(t, "aws"), "docker-01", "cloud-config", payload)
	want := `node "docker-01": cloud-config user-data is 20000 bytes, over aws's limit of 16384 bytes ` +
		`(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html); ` +
		`with --encode gzip it is ` + strconv.Itoa(gz) + ` bytes and fits: --encode gzip, passed as fileb://FILE so the CLI reads it as binary`
	if err == nil || err.Error() != want {
		t.Fatalf("message:\n%v\nwant:\n%s", err, want)
	}
}

func TestEncodingAdvice(t *testing.T) {
	tests := []struct {
		target string
		format profiles.Format
		enc    encode.Encoding
		want   string // "" or a substring
	}{
		{"aws", "cloud-config", encode.None, ""},
		{"aws", "cloud-config", encode.Gzip, ""},
		{"aws", "cloud-config", encode.Base64, "base64-encodes user-data itself"},
		{"digitalocean", "cloud-config", encode.Gzip, "does not carry gzip"},
		{"vagrant", "cloud-config", encode.GzipBase64, "does not carry gzip"},
		{"gce", "cloud-config", encode.GzipBase64, ""},
		{"gce", "coreos-cloudconfig", encode.GzipBase64, "only cloud-init decodes"},
		{"nocloud", "cloud-config", encode.Gzip, ""},
		{"openstack", "coreos-cloudconfig", encode.Gzip, ""},
	}
	for _, tt := range tests {
		got := EncodingAdvice(mustLookup(t, tt.target), tt.format, tt.enc)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("EncodingAdvice(%s, %s, %s) = %q, want %q", tt.target, tt.format, tt.enc, got, tt.want)
		}
	}
}
