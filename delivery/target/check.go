package target

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/swarmboot/swarmboot/delivery/encode"
	"github.com/swarmboot/swarmboot/gz"
	"github.com/swarmboot/swarmboot/profiles"
)

// TooLargeError says a node's user-data does not fit a target, and what
// would make it fit.
type TooLargeError struct {
	Node    string
	Format  profiles.Format
	Target  Target
	Size    int // payload bytes the node would receive
	Counted int // what the provider compares with Target.Limit
	// GzipCounted is the counted size after gzip (0 if gzip is no option
	// for this target and format); GzipFits says whether that fits.
	GzipCounted int
	GzipFits    bool
	// WrapCounted is the counted size of the Ignition gzip wrapper
	// (encode.WrapIgnitionGzip), for Ignition payloads; 0 otherwise.
	WrapCounted int
	WrapFits    bool
}

func (e *TooLargeError) Error() string {
	t := e.Target
	var b strings.Builder
	fmt.Fprintf(&b, "node %q: %s user-data is %d bytes", e.Node, e.Format, e.Size)
	if t.Counts == Base64Text {
		fmt.Fprintf(&b, " (%d as base64), over %s's limit of %d base64 characters (%d bytes of user-data)",
			e.Counted, t.Name, t.Limit, t.MaxPayload())
	} else {
		fmt.Fprintf(&b, ", over %s's limit of %d bytes", t.Name, t.Limit)
	}
	fmt.Fprintf(&b, " (%s)", t.Source)
	switch {
	case e.GzipFits:
		fmt.Fprintf(&b, "; with %s it is %d bytes and fits: %s", flag(t.GzipEncoding), e.GzipCounted, t.GzipHow)
	case e.GzipCounted > 0:
		fmt.Fprintf(&b, "; even with %s it is %d bytes: move large files out of user-data", flag(t.GzipEncoding), e.GzipCounted)
	case e.WrapFits:
		fmt.Fprintf(&b, "; Ignition does not inflate gzip user-data on %s, but a wrapper config carrying it gzipped in a data URL is %d bytes and fits: --encode gzip writes that wrapper", t.Name, e.WrapCounted)
	case e.WrapCounted > 0:
		fmt.Fprintf(&b, "; even as a gzip wrapper config it is %d bytes: move large files out of user-data", e.WrapCounted)
	}
	return b.String()
}

func flag(e encode.Encoding) string { return "--encode " + string(e) }

// Check returns a *TooLargeError when payload, the user-data bytes node
// will receive in the given format (cloud-config, coreos-cloudconfig,
// ignition, ...), exceeds the target's limit, and nil when it fits or the
// target has no limit. For gzip advice it compresses the payload itself.
func Check(t Target, node string, format profiles.Format, payload []byte) error {
	counted := t.Counted(len(payload))
	if t.Limit == 0 || counted <= t.Limit {
		return nil
	}
	e := &TooLargeError{Node: node, Format: format, Target: t, Size: len(payload), Counted: counted}
	switch {
	case gz.Is(payload):
		// Already compressed: nothing more to suggest.
	case format.ReadsGzip() && t.Gzip && (!t.GzipCloudInitOnly || format == profiles.CloudConfig):
		e.GzipCounted = t.Counted(t.storedLen(payload, t.GzipEncoding))
		e.GzipFits = e.GzipCounted <= t.Limit
	case format == profiles.Ignition:
		if w, err := encode.WrapIgnitionGzip(payload); err == nil {
			e.WrapCounted = t.Counted(t.storedLen(w, encode.None))
			e.WrapFits = e.WrapCounted <= t.Limit
		}
	}
	return e
}

// storedLen is how many bytes the provider stores for payload sent with
// enc: base64 is only transport unless the provider stores text.
func (t Target) storedLen(payload []byte, enc encode.Encoding) int {
	n := len(payload)
	if enc.Compressed() {
		n = len(gz.Compress(payload))
	}
	if enc.Base64Text() && t.StoresText {
		n = base64.StdEncoding.EncodedLen(n)
	}
	return n
}

// EncodingAdvice returns a warning when enc, for a payload in format sent
// to t with its provider's CLI, would not reach the node in a form its
// agent reads; "" when the combination is fine. An Ignition payload is
// never gzip here: delivery sends it as a wrapper config that Ignition
// reads (encode.WrapIgnitionGzip).
func EncodingAdvice(t Target, format profiles.Format, enc encode.Encoding) string {
	switch {
	case enc.Compressed() && !t.Gzip:
		return fmt.Sprintf("%s does not carry gzip user-data to the node; use --encode none", t.Name)
	case enc.Compressed() && t.GzipCloudInitOnly && format != profiles.CloudConfig:
		return fmt.Sprintf("on %s only cloud-init decodes the base64 that gzip needs there; use --encode none for %s", t.Name, format)
	case enc.Base64Text() && t.CLIEncodes:
		return fmt.Sprintf("the %s CLI base64-encodes user-data itself; a %s file would reach the node as base64 text: give the CLI --encode none or gzip, keep base64 for raw API or Terraform values",
			t.Name, enc)
	}
	return ""
}
