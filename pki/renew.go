package pki

import (
	"crypto"
	"crypto/x509"
	"fmt"
)

// Renewal keeps the node's key. A node holds its private key from its
// user-data; a certificate signed over that same public key is something
// the running node can take without anything secret moving, so renewal
// delivers only public certificates (`swarmboot pki publish`). A new key
// is made only where the stored one cannot serve: the node's names
// changed, the key is missing, unreadable or does not match, the issuer or
// the usages are not ours. Renewed therefore always means "same key",
// Reissued "new key".

// renewable: the stored pair is sound and asks for nothing but a new
// validity (it expired, is not valid yet, is within RenewBefore or the
// run forces it).
func (v verdict) renewable() bool { return v.state == Expired || v.state == NotYetValid }

// certify makes the slot's new certificate: over the stored key for a
// renewal, over a new key otherwise.
func (s *Store) certify(sl *slot, set Settings) (pair, error) {
	if sl.kind == Renewed {
		return s.renew(sl.want, sl.have.key, set)
	}
	return s.issue(sl.want, set)
}

// renew signs tmpl over key's public half: the same key, a new validity.
func (s *Store) renew(tmpl *x509.Certificate, key crypto.Signer, set Settings) (pair, error) {
	if key == nil {
		return pair{}, fmt.Errorf("pki: renewing %s without its key", tmpl.Subject.CommonName)
	}
	return s.certifyKey(tmpl, key, set)
}

// certifyKey signs tmpl for key with the CA's key, within the size TLS
// peers accept.
func (s *Store) certifyKey(tmpl *x509.Certificate, key crypto.Signer, set Settings) (pair, error) {
	c, err := sign(tmpl, s.issuer, key.Public(), s.key, set.Now, set.Validity)
	if err != nil {
		return pair{}, err
	}
	if len(c.Raw) > MaxCertSize {
		return pair{}, fmt.Errorf("the certificate of %s would be %d bytes, over the %d KiB TLS peers accept: give it fewer names (tls.sans, nodes[].sans)", c.Subject.CommonName, len(c.Raw), MaxCertSize>>10)
	}
	return pair{cert: c, key: key}, nil
}

// files are what a fresh slot stores: a renewal only its certificate (the
// key on disk is the node's and stays as it is), an issue both.
func (sl *slot) files(m Material) []file {
	cert := file{sl.dir + "/cert.pem", m.Cert, 0o644}
	if sl.kind == Renewed {
		return []file{cert}
	}
	return []file{{sl.dir + "/key.pem", m.Key, 0o600}, cert}
}
