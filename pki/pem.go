package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
)

// What reaches a node is derived, never copied: every certificate and key
// is parsed, and Material holds swarmboot's own PEM encoding of what was
// parsed. Text around the PEM blocks never leaves the PKI; a block that
// has no place in a file is refused, with the file named.

// pemBlocks decodes every PEM block of b. A "-----BEGIN" that does not
// decode is an error: pem.Decode would skip it silently.
func pemBlocks(path string, b []byte) ([]*pem.Block, error) {
	var out []*pem.Block
	for rest := b; ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		out = append(out, blk)
	}
	if n := bytes.Count(b, []byte("-----BEGIN ")); n != len(out) {
		return nil, refusef("%s holds %d PEM block beginnings but only %d whole blocks: the file is damaged; put back a good copy", path, n, len(out))
	}
	return out, nil
}

func isKeyBlock(t string) bool { return strings.Contains(t, "PRIVATE KEY") }

// parseCABundle reads ca.pem: one or more CA certificates (several while a
// CA is rotated) and nothing else. A private key there would reach every
// node's user-data, so it is refused before anything is rendered.
func parseCABundle(path string, b []byte) ([]*x509.Certificate, error) {
	blocks, err := pemBlocks(path, b)
	if err != nil {
		return nil, err
	}
	if len(blocks) == 0 {
		return nil, refusef("%s holds no PEM CERTIFICATE block: put the CA's certificate back from a backup", path)
	}
	var cas []*x509.Certificate
	for i, blk := range blocks {
		switch {
		case isKeyBlock(blk.Type):
			return nil, refusef("%s holds a private key (block %d, %s), which would reach every node with the CA certificate: keep the CA key only in ca-key.pem and remove the key block from %s", path, i+1, blk.Type, path)
		case blk.Type != "CERTIFICATE":
			return nil, refusef("%s holds a %s block (block %d); ca.pem holds CA certificates only: remove it", path, blk.Type, i+1)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, refusef("%s, certificate %d: %v; put the CA's certificate back from a backup", path, i+1, err)
		}
		if !c.IsCA || !c.BasicConstraintsValid || c.KeyUsage&x509.KeyUsageCertSign == 0 {
			return nil, refusef("%s, certificate %d (%s) is not a CA certificate (no CA basic constraint or cert-sign usage): ca.pem holds the CA's certificate, not a node's", path, i+1, c.Subject.CommonName)
		}
		cas = append(cas, c)
	}
	return cas, nil
}

// oneBlock returns the single PEM block of a node's cert.pem or key.pem;
// anything more is refused (an extra block would otherwise travel along).
func oneBlock(path string, b []byte, what string) (*pem.Block, error) {
	blocks, err := pemBlocks(path, b)
	if err != nil {
		return nil, err
	}
	if len(blocks) != 1 {
		var types []string
		for _, blk := range blocks {
			types = append(types, blk.Type)
		}
		return nil, refusef("%s holds %d PEM blocks (%s) where it should hold one %s: remove the others, or remove the file to have it issued again", path, len(blocks), strings.Join(types, ", "), what)
	}
	return blocks[0], nil
}

// parseCertFile reads a node's or the client's cert.pem.
func parseCertFile(path string, b []byte) (*x509.Certificate, error) {
	blk, err := oneBlock(path, b, "certificate")
	if err != nil {
		return nil, err
	}
	if blk.Type != "CERTIFICATE" {
		return nil, refusef("%s holds a %s block where it should hold a CERTIFICATE: put the certificate there, or remove the file to have it issued again", path, blk.Type)
	}
	return x509.ParseCertificate(blk.Bytes)
}

// parseKeyFile reads a private key: SEC1 (EC PRIVATE KEY), PKCS#1 (RSA
// PRIVATE KEY) or PKCS#8 (PRIVATE KEY) holding an ECDSA, RSA or Ed25519
// key, unencrypted.
func parseKeyFile(path string, b []byte) (crypto.Signer, error) {
	blk, err := oneBlock(path, b, "private key")
	if err != nil {
		return nil, err
	}
	if blk.Type == "ENCRYPTED PRIVATE KEY" || blk.Headers["Proc-Type"] != "" {
		return nil, refusef("%s is encrypted: swarmboot needs the key unencrypted (`openssl pkey -in %s -out %s`, then `chmod 600 %s`)", path, path, path, path)
	}
	var key any
	switch blk.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(blk.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	default:
		return nil, refusef("%s holds a %s block, not a private key (EC PRIVATE KEY, RSA PRIVATE KEY or PRIVATE KEY)", path, blk.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	switch k := key.(type) {
	case *ecdsa.PrivateKey, *rsa.PrivateKey, ed25519.PrivateKey:
		return k.(crypto.Signer), nil
	}
	return nil, refusef("%s holds a %T key; swarmboot signs with ECDSA, RSA or Ed25519 keys", path, key)
}

// encodeCerts is swarmboot's PEM of certificates, in order.
func encodeCerts(certs ...*x509.Certificate) []byte {
	var b []byte
	for _, c := range certs {
		b = append(b, encodePEM("CERTIFICATE", c.Raw)...)
	}
	return b
}

// encodePEM is one PEM block in a slice of its own size: a cluster keeps
// one certificate and key per node in memory through a render.
func encodePEM(typ string, der []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(der))
	b := bytes.NewBuffer(make([]byte, 0, 2*len(typ)+32+n+n/64+1))
	pem.Encode(b, &pem.Block{Type: typ, Bytes: der}) // a bytes.Buffer does not fail
	return b.Bytes()
}

// encodeKey is swarmboot's PEM of a private key: SEC1 for ECDSA (what
// every consumer reads), PKCS#1 for RSA, PKCS#8 for Ed25519.
func encodeKey(k crypto.Signer) ([]byte, error) {
	var typ string
	var der []byte
	var err error
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		typ = "EC PRIVATE KEY"
		der, err = x509.MarshalECPrivateKey(k)
	case *rsa.PrivateKey:
		typ, der = "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k)
	default:
		typ = "PRIVATE KEY"
		der, err = x509.MarshalPKCS8PrivateKey(k)
	}
	if err != nil {
		return nil, err
	}
	return encodePEM(typ, der), nil
}

// keyMatches reports whether k is the private half of c's public key.
func keyMatches(k crypto.Signer, c *x509.Certificate) bool {
	pub, ok := k.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(c.PublicKey)
}

// Fingerprint is a certificate's SHA-256 fingerprint, "sha256:<hex>":
// what an output folder records of the CA it was rendered with.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}
