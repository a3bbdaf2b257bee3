package render

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/clarketm/json" // omits empty structs, as Ignition and Butane do
	butane "github.com/coreos/butane/config"
	"github.com/coreos/butane/config/common"
	"github.com/coreos/ignition/v2/config/v3_3/types"
	"github.com/vincent-petithory/dataurl"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/gz"
)

// emitIgnition builds the Ignition config from Ignition's own types
// (spec 3.3.0, which every profile here targets; Debian's ignition 2.14
// reads up to 3.3.0). It must equal what Butane makes of emitButane's
// output; the golden tests check that.
func emitIgnition(p *Plan) ([]byte, error) {
	if p.Profile.Ignition.Spec != types.MaxVersion.String() {
		return nil, fmt.Errorf("profile %s: Ignition spec %s is not supported (swarmboot writes %s)", p.Profile.Name, p.Profile.Ignition.Spec, types.MaxVersion)
	}
	if len(p.Snippets.Butane) > 0 {
		return ignitionViaButane(p)
	}
	v := newIgnitionView(p)
	cfg := types.Config{Ignition: types.Ignition{Version: p.Profile.Ignition.Spec}}
	if len(v.SSHKeys) > 0 {
		u := types.PasswdUser{Name: v.User}
		for _, k := range v.SSHKeys {
			u.SSHAuthorizedKeys = append(u.SSHAuthorizedKeys, types.SSHAuthorizedKey(k))
		}
		cfg.Passwd.Users = []types.PasswdUser{u}
	}
	for _, f := range v.Files {
		src, compression := dataURL([]byte(f.Contents))
		mode := f.Mode
		node := types.Node{Path: f.Path}
		if f.Owner != "" {
			node.User, node.Group = types.NodeUser{Name: strPtr(f.Owner)}, types.NodeGroup{Name: strPtr(f.Owner)}
		}
		cfg.Storage.Files = append(cfg.Storage.Files, types.File{
			Node: node,
			FileEmbedded1: types.FileEmbedded1{
				Mode:     &mode,
				Contents: types.Resource{Source: &src, Compression: &compression},
			},
		})
	}
	for _, u := range v.Units {
		iu := types.Unit{Name: u.Name}
		if u.Contents != "" {
			iu.Contents = strPtr(u.Contents)
		}
		if u.Enable {
			iu.Enabled = boolPtr(true)
		}
		for _, d := range u.Dropins {
			iu.Dropins = append(iu.Dropins, types.Dropin{Name: d.Name, Contents: strPtr(d.Contents)})
		}
		cfg.Systemd.Units = append(cfg.Systemd.Units, iu)
	}
	out, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// checkButaneSnippets translates each Butane snippet on its own (with the
// node's variant and version added at its end when it names none, so its
// own lines keep their numbers), so that Butane's findings point into the
// snippet file rather than into the merged config. Strict: warnings count.
func checkButaneSnippets(p *Plan) error {
	var findings []string
	for _, s := range p.Snippets.Butane {
		data := append([]byte(nil), s.Data...)
		for _, kv := range [][2]string{{"variant", p.Profile.Ignition.Variant}, {"version", p.Profile.Ignition.Version}} {
			if lookup(s.Root, kv[0]) == nil {
				data = append(data, fmt.Sprintf("\n%s: %s\n", kv[0], kv[1])...)
			}
		}
		_, rep, _ := butane.TranslateBytes(data, common.TranslateBytesOptions{})
		for _, e := range rep.Entries {
			findings = append(findings, fmt.Sprintf("%s:%d:%d: error at %s: %s (Butane, strict)",
				s.File, max(e.Marker.StartP.Line, 1), max(e.Marker.StartP.Column, 1), butanePath(e.Context.String()), e.Message))
		}
	}
	if len(findings) > 0 {
		return fmt.Errorf("node %s: Butane rejects its snippets:\n%s", p.Node, strings.Join(findings, "\n"))
	}
	return nil
}

// butanePath writes Butane's $.a.0.b as $.a[0].b, as swarmboot's reports do.
func butanePath(ctx string) string {
	parts := strings.Split(ctx, ".")
	var b strings.Builder
	for i, part := range parts {
		switch {
		case i == 0:
			b.WriteString(part)
		case part != "" && strings.Trim(part, "0123456789") == "":
			b.WriteString("[" + part + "]")
		default:
			b.WriteString("." + part)
		}
	}
	return b.String()
}

// ignitionViaButane: with the operator's Butane snippets merged in, the
// Ignition config is what Butane makes of the merged Butane config, so the
// snippets get Butane's own translation and checks.
func ignitionViaButane(p *Plan) ([]byte, error) {
	bu, err := emitButane(p)
	if err != nil {
		return nil, err
	}
	out, rep, err := butane.TranslateBytes(bu, common.TranslateBytesOptions{})
	if err == nil && len(rep.Entries) > 0 {
		err = errors.New("warnings are fatal here, as with butane --strict")
	}
	if err != nil {
		return nil, fmt.Errorf("node %s: Butane rejects the config merged from its snippets (%s): %v\n%s",
			p.Node, snippetFiles(p.Snippets.Butane), err, rep)
	}
	return append(out, '\n'), nil
}

func snippetFiles(s []*cluster.Snippet) string {
	names := make([]string, len(s))
	for i, x := range s {
		names[i] = x.File
	}
	return strings.Join(names, ", ")
}

// dataURL encodes file contents the way Butane does, so both paths give
// the same config: the shortest of a URL-escaped, a base64 and a gzipped
// base64 data URL; compression is "gzip" for the last, else "".
func dataURL(contents []byte) (src, compression string) {
	key := sha256.Sum256(contents)
	if u, ok := dataURLs.get(key); ok {
		return u.src, u.compression
	}
	src, compression = encodeDataURL(contents)
	dataURLs.put(key, encodedURL{src, compression})
	return src, compression
}

// encodeDataURL is dataURL without the memo.
func encodeDataURL(contents []byte) (src, compression string) {
	src = "data:," + dataurl.Escape(contents)
	if b64 := "data:;base64," + base64.StdEncoding.EncodeToString(contents); len(b64) < len(src) {
		src = b64
	}
	// The compressed form also pays for the "gzip" it puts in the config.
	if zipped := "data:;base64," + base64.StdEncoding.EncodeToString(gz.Compress(contents)); len(zipped)+len("gzip") < len(src) {
		return zipped, "gzip"
	}
	return src, ""
}

// dataURLs remembers the data URLs of recent contents: most files of a
// cluster's nodes are the same bytes (the CA, the agent, the units), and
// compressing each again at BestCompression was most of an Ignition
// render. A data URL depends on its contents alone, so a hit gives the
// bytes a miss would. Bounded: once full it only answers.
var dataURLs = &urlMemo{m: map[[32]byte]encodedURL{}, max: 4096}

type encodedURL struct{ src, compression string }

type urlMemo struct {
	mu  sync.RWMutex
	m   map[[32]byte]encodedURL
	max int
}

func (c *urlMemo) get(k [32]byte) (encodedURL, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	u, ok := c.m[k]
	return u, ok
}

func (c *urlMemo) put(k [32]byte, u encodedURL) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) < c.max {
		c.m[k] = u
	}
}

func strPtr(s string) *string { return &s }
func boolPtr(b bool) *bool    { return &b }
