package profiles

import "strings"

// Format names one config format a boot agent reads.
type Format string

// The config formats. A profile lists the ones its boot agent reads.
const (
	CloudConfig       Format = "cloud-config"       // cloud-init #cloud-config
	CoreOSCloudConfig Format = "coreos-cloudconfig" // legacy coreos-cloudinit
	Butane            Format = "butane"             // Butane YAML (human-readable Ignition)
	Ignition          Format = "ignition"           // Ignition JSON
)

// formatInfo is what swarmboot knows about a format besides its emitter
// (render registers that).
type formatInfo struct {
	format Format
	file   string // the config's file in a node's folder
	// readsGzip: the agent inflates gzip user-data by itself (cloud-init's
	// "Gzip Compressed Content"; coreos-cloudinit's decompressIfGzip).
	// Ignition does not: it parses the bytes as JSON.
	readsGzip bool
	// source: text for people to keep and edit (Butane), never shipped to
	// a machine, so never encoded or size-checked.
	source bool
	// snippets is the kind of snippet the format's output merges.
	snippets Format
}

// formats is the registry, in the order help and errors list formats.
var formats = []formatInfo{
	{format: CloudConfig, file: "user-data", readsGzip: true, snippets: CloudConfig},
	{format: CoreOSCloudConfig, file: "user-data", readsGzip: true, snippets: CoreOSCloudConfig},
	{format: Butane, file: "config.bu", source: true, snippets: Butane},
	// Ignition is translated from Butane, so Butane snippets reach it.
	{format: Ignition, file: "config.ign", snippets: Butane},
}

func (f Format) info() formatInfo {
	for _, i := range formats {
		if i.format == f {
			return i
		}
	}
	return formatInfo{format: f}
}

// File is where the format's config goes in a node's folder; both
// cloud-config dialects are read as user-data.
func (f Format) File() string { return f.info().file }

// ReadsGzip reports whether the format's agent inflates gzip user-data.
func (f Format) ReadsGzip() bool { return f.info().readsGzip }

// Source reports whether the format is source text for people (Butane):
// it is written beside the shipped config, never encoded or shipped.
func (f Format) Source() bool { return f.info().source }

// Snippets is the kind of snippet (named by its format) that the format's
// output carries.
func (f Format) Snippets() Format { return f.info().snippets }

// AllFormats lists every format in a stable order.
func AllFormats() []Format {
	out := make([]Format, len(formats))
	for i, info := range formats {
		out[i] = info.format
	}
	return out
}

// ParseFormat returns the format of that name.
func ParseFormat(s string) (Format, bool) {
	for _, i := range formats {
		if string(i.format) == s {
			return i.format, true
		}
	}
	return "", false
}

// JoinFormats lists formats for messages: "ignition, butane".
func JoinFormats(fs []Format) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}
