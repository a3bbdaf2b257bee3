// Package publish hands renewed node certificates to the running nodes:
// it writes each node's certificate into the cluster's own etcd (v2 keys
// API, which every profile's etcd serves), where the node's certificate
// agent fetches it over mutual TLS with the node's own certificate. Only
// public certificates move: renewal keeps each node's key (package pki).
package publish

import "encoding/base64"

// Key is where a node's certificate is published in etcd's v2 keyspace:
// beside the swarm's discovery path, never under it, and named after the
// cluster and the node (both bound by tight grammars, so the key needs no
// escaping in a URL or a shell).
func Key(cluster, node string) string {
	return "/swarmboot/" + cluster + "/certs/" + node
}

// Value is a certificate as published: its PEM, base64 on one line, so
// the agent decodes it with base64 alone (no JSON escapes to undo in sh).
func Value(certPEM []byte) string {
	return base64.StdEncoding.EncodeToString(certPEM)
}
