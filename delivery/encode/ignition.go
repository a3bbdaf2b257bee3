package encode

import (
	"encoding/json"
	"errors"

	"github.com/swarmboot/swarmboot/gz"
)

// WrapperSpecVersion is the Ignition spec of the wrapper WrapIgnitionGzip
// writes: 3.1.0 is the first spec with `compression` on
// ignition.config.replace, so any Ignition 2.3.0+ (every Flatcar and FCOS
// release that reads spec 3) accepts it.
const WrapperSpecVersion = "3.1.0"

// WrapIgnitionGzip returns a small Ignition config whose only content is
// ignition.config.replace pointing at the given config, gzipped, in a
// base64 data URL. Ignition does not decompress user-data on most clouds
// (see the package doc) but does decompress a replace source, so this is
// how an Ignition config shrinks below a provider's limit.
//
// The wrapped config keeps its own spec version: Ignition parses a replace
// source with its newest parser, which reads every older 3.x spec.
func WrapIgnitionGzip(config []byte) ([]byte, error) {
	if !json.Valid(config) {
		return nil, errors.New("wrapping Ignition config: it is not JSON")
	}
	type resource struct {
		Source      string `json:"source"`
		Compression string `json:"compression"`
	}
	var w struct {
		Ignition struct {
			Version string `json:"version"`
			Config  struct {
				Replace resource `json:"replace"`
			} `json:"config"`
		} `json:"ignition"`
	}
	w.Ignition.Version = WrapperSpecVersion
	w.Ignition.Config.Replace = resource{
		Source:      "data:;base64," + string(b64(gz.Compress(config))),
		Compression: "gzip",
	}
	return json.Marshal(w)
}
