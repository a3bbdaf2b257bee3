// Package nocloud writes the documents cloud-init's NoCloud datasource
// reads beside a cloud-config: meta-data (instance-id, hostname) and a
// network config (version 2).
package nocloud

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"

	"gopkg.in/yaml.v3"
)

// File names cloud-init reads beside user-data.
const (
	MetaDataFile      = "meta-data"
	NetworkConfigFile = "network-config"
)

// MetaData returns a NoCloud meta-data document with instance-id and
// local-hostname, YAML-quoted as needed so any string is safe.
func MetaData(instanceID, hostname string) []byte {
	doc := struct {
		InstanceID    string `yaml:"instance-id"`
		LocalHostname string `yaml:"local-hostname,omitempty"`
	}{instanceID, hostname}
	out, err := yaml.Marshal(doc)
	if err != nil { // cannot happen for two strings
		panic(err)
	}
	return out
}

// InstanceID returns the recommended instance-id for a node:
// "<cluster>-<node>-<12 hex digits of SHA-256 over its user-data and
// network-config>".
//
// Why content-derived: cloud-init runs its per-instance modules
// (write_files, runcmd, users, bootcmd's once-per-instance parts, network
// config) only when the instance-id differs from the one it recorded in
// /var/lib/cloud. A fixed id therefore means a changed description never
// reaches an existing node; an id that changes with the node's own content
// makes the next boot with a new seed re-apply it, and leaves nodes whose
// content did not change alone. The cost of a re-run is that of a first
// boot: host SSH keys are regenerated unless the cloud-config sets
// ssh_deletekeys: false, and runcmd runs again, so its commands must be
// idempotent. Cluster state that only bootstraps once (an etcd member's
// initial cluster) is not changed by a re-run; see delivery/README.md.
func InstanceID(cluster, node string, userData, networkConfig []byte) string {
	h := sha256.New()
	// Length prefixes keep ("ab","c") and ("a","bc") apart.
	for _, part := range [][]byte{userData, networkConfig} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	return cluster + "-" + node + "-" + hex.EncodeToString(h.Sum(nil))[:12]
}
