package render

import (
	"fmt"
	"strings"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/pki"
	"github.com/swarmboot/swarmboot/profiles"
)

// tlsDir is where every node keeps its TLS files: Docker and the swarm
// containers (which mount it) read them there.
const tlsDir = "/etc/swarmboot/tls"

// The file names in a TLS directory, as docker-machine and the docker CLI
// name them.
const (
	caFile   = "ca.pem"
	certFile = "cert.pem"
	keyFile  = "key.pem"
)

// addTLSFiles writes the node's certificate, key and the CA certificate.
func (x *clusterContext) addTLSFiles(p *Plan, n *cluster.Node) error {
	files, ok := x.tls[n.Name]
	if !ok || len(files.Cert) == 0 || len(files.Key) == 0 || len(files.CA) == 0 {
		return fmt.Errorf("TLS is on but no certificate was issued for this node; render with `swarmboot render`, which issues it into the cluster's PKI")
	}
	p.Secret = true
	p.Files = append(p.Files, tlsDirFiles(tlsDir, "", files)...)
	return nil
}

// tlsDirFiles are the three files in dir: the key 0600, owned by owner
// ("" is root) like the rest.
func tlsDirFiles(dir, owner string, f pki.Material) []File {
	return []File{
		{Path: dir + "/" + caFile, Mode: 0o644, Contents: string(f.CA), Owner: owner},
		{Path: dir + "/" + certFile, Mode: 0o644, Contents: string(f.Cert), Owner: owner},
		{Path: dir + "/" + keyFile, Mode: 0o600, Contents: string(f.Key), Owner: owner},
	}
}

// credential is a file systemd hands a unit (LoadCredential=NAME:FROM).
type credential struct{ Name, From string }

// etcdTLS gives etcd the node's TLS files the way its system lets it read
// them, and returns the directory etcd reads them from, etcd's TLS
// settings and the credentials its unit must load.
func (x *clusterContext) etcdTLS(p *Plan, n *cluster.Node) (string, []KV, []credential, error) {
	t := p.Profile.Etcd.TLS
	switch t.Files {
	case profiles.EtcdTLSCredentials:
		// Only the key: a credential is a copy made when the unit starts,
		// and the certificate must be read where the agent renews it.
		dir := "/run/credentials/" + p.Profile.Etcd.Unit
		env := etcdTLSEnv(tlsDir+"/"+caFile, tlsDir+"/"+certFile, dir+"/"+keyFile)
		return dir, env, []credential{{keyFile, tlsDir + "/" + keyFile}}, nil
	case profiles.EtcdTLSCopy:
		p.Files = append(p.Files, tlsDirFiles(t.Dir, t.User, x.tls[n.Name])...)
		env := etcdTLSEnv(t.SeenAs+"/"+caFile, t.SeenAs+"/"+certFile, t.SeenAs+"/"+keyFile)
		if t.DirVar != "" {
			// The wrapper mounts the directory this names at SeenAs.
			env = append(env, KV{t.DirVar, t.Dir})
		}
		return t.SeenAs, env, nil, nil
	case profiles.EtcdTLSMount:
		return tlsDir, etcdTLSEnv(tlsDir+"/"+caFile, tlsDir+"/"+certFile, tlsDir+"/"+keyFile), nil, nil
	}
	return "", nil, nil, fmt.Errorf("profile %s: etcd has no way to read TLS files (%q)", p.Profile.Name, t.Files)
}

// etcdTLSEnv is etcd's TLS settings for these files: the same certificate
// serves clients and peers, and both must present one from the CA.
func etcdTLSEnv(ca, cert, key string) []KV {
	return []KV{
		{"ETCD_CERT_FILE", cert},
		{"ETCD_KEY_FILE", key},
		{"ETCD_TRUSTED_CA_FILE", ca},
		{"ETCD_CLIENT_CERT_AUTH", "true"},
		{"ETCD_PEER_CERT_FILE", cert},
		{"ETCD_PEER_KEY_FILE", key},
		{"ETCD_PEER_TRUSTED_CA_FILE", ca},
		{"ETCD_PEER_CLIENT_CERT_AUTH", "true"},
	}
}

// dockerTLSArgs are dockerd's and swarm manage's flags for mutual TLS with
// the node's files.
func dockerTLSArgs() []string {
	return []string{
		"--tlsverify",
		"--tlscacert=" + tlsDir + "/" + caFile,
		"--tlscert=" + tlsDir + "/" + certFile,
		"--tlskey=" + tlsDir + "/" + keyFile,
	}
}

// discoveryTLSArgs make swarm's libkv speak https to etcd with the node's
// certificate.
func discoveryTLSArgs() []string {
	return []string{
		"--discovery-opt=kv.cacertfile=" + tlsDir + "/" + caFile,
		"--discovery-opt=kv.certfile=" + tlsDir + "/" + certFile,
		"--discovery-opt=kv.keyfile=" + tlsDir + "/" + keyFile,
	}
}

// bindMount is the -v/--volume value that shows dir at the same path in a
// container. Where SELinux enforces, a container (container_t) may not
// read a host directory (etc_t, var_lib_t) until it is relabelled for
// containers: z does, with a label every container shares, so the etcd
// and swarm containers can mount the same TLS directory.
func bindMount(prof *profiles.Profile, dir string, readOnly bool) string {
	var opts []string
	if readOnly {
		opts = append(opts, "ro")
	}
	if prof.SELinux == profiles.SELinuxEnforcing {
		opts = append(opts, "z")
	}
	if len(opts) == 0 {
		return dir + ":" + dir
	}
	return dir + ":" + dir + ":" + strings.Join(opts, ",")
}
