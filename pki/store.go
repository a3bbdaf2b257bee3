// Package pki keeps the cluster's trust root: a CA that swarmboot makes
// beside the description, one certificate per node and the operator's
// client certificate. Layout of the folder (0700, keys 0600):
//
//	ca.pem                      the CA certificate (several during a rotation)
//	ca-key.pem                  the CA key; it may be kept offline
//	client/ca.pem, cert.pem, key.pem, env   the operator's (DOCKER_CERT_PATH)
//	nodes/<node>/cert.pem, key.pem          what each node's user-data carries
//	backup/<time>/              what `pki init --force` moved aside
//	.lock, .commit, .staging-*  the transaction (tx.go, commit.go)
//
// One job per file: store.go loads (strict and bounded: files.go,
// pem.go), issue.go issues, plan.go decides what to issue for a render,
// tx.go and commit.go change the folder as one transaction, status.go
// reports. Issued certificates are stored and reused, so renders stay
// byte-identical; a certificate is re-issued only when its names, usages
// or issuer change or it has expired.
package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// Store is a PKI folder with its CA loaded.
type Store struct {
	dir   string
	cas   []*x509.Certificate // ca.pem, in its order
	caPEM []byte              // swarmboot's encoding of cas: what nodes get
	// issuer is the certificate of cas that key belongs to; both are nil
	// while the CA key is kept offline.
	issuer *x509.Certificate
	key    crypto.Signer
}

// Material is what a node's user-data (or the operator's env) carries, PEM.
type Material struct{ CA, Cert, Key []byte }

// Open loads the CA of dir for reading: ca.pem is enough, ca-key.pem is
// needed only to issue. It waits while a render changes the folder, and
// refuses a CA that is not valid now.
func Open(dir string) (*Store, error) {
	s, unlock, err := readStore(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s, s.usable(time.Now())
}

// readStore loads dir for a reader, under the shared lock that keeps a
// run from changing the folder meanwhile; unlock lets go of it.
func readStore(dir string) (s *Store, unlock func(), err error) {
	if unlock, err = readLock(dir); err != nil {
		return nil, nil, err
	}
	if s, err = load(dir); err != nil {
		unlock()
		return nil, nil, err
	}
	return s, unlock, nil
}

// load reads and checks ca.pem and, when present, ca-key.pem.
func load(dir string) (*Store, error) {
	if ok, err := checkDir(dir); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("%w in %s: it does not exist; `swarmboot pki init FILE` or the first render makes one", ErrNoCA, dir)
	}
	caPath, keyPath := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	caPEM, err := readFile(caPath, false)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readFile(keyPath, true)
	if err != nil {
		return nil, err
	}
	switch {
	case caPEM == nil && keyPEM == nil:
		return nil, fmt.Errorf("%w in %s; `swarmboot pki init FILE` or the first render makes one", ErrNoCA, dir)
	case caPEM == nil:
		return nil, fmt.Errorf("%s is missing but %s is there: put the CA certificate back from a backup (`swarmboot pki status FILE` then shows the CA)", caPath, keyPath)
	}
	cas, err := parseCABundle(caPath, caPEM)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, cas: cas, caPEM: encodeCerts(cas...)}
	if keyPEM == nil {
		return s, nil // kept offline: enough for everything but issuing
	}
	if s.key, err = parseKeyFile(keyPath, keyPEM); errors.Is(err, ErrRefused) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("%v: the CA key cannot be made again; put back a good copy from a backup", err)
	}
	for _, c := range cas {
		if keyMatches(s.key, c) {
			s.issuer = c
			break
		}
	}
	if s.issuer == nil {
		return nil, refusef("%s does not belong to %s (their public keys differ): put back the key of that CA, from the same backup as ca.pem", keyPath, caPath)
	}
	return s, nil
}

// usable refuses a CA that has expired or is not valid yet, saying what it
// means for the nodes that trust it.
func (s *Store) usable(now time.Time) error {
	for _, c := range s.cas {
		if now.After(c.NotAfter) {
			return fmt.Errorf("%w: the CA in %s (%s) expired on %s: the nodes that trust it refuse every certificate it signed, so their TLS connections fail since then. If this machine's clock is right, the cluster needs a new trust root on every node (see the README's TLS section)",
				ErrCAValidity, filepath.Join(s.dir, "ca.pem"), c.Subject.CommonName, c.NotAfter.Format(time.RFC3339))
		}
		if now.Before(c.NotBefore) {
			return fmt.Errorf("%w: the CA in %s (%s) is valid only from %s, and this machine's clock says %s: check the clock; nodes with a right clock would refuse what it signs until then",
				ErrCAValidity, filepath.Join(s.dir, "ca.pem"), c.Subject.CommonName, c.NotBefore.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// Dir is the folder the store was opened from.
func (s *Store) Dir() string { return s.dir }

// CA is the CA certificates as nodes get them: swarmboot's PEM encoding.
func (s *Store) CA() []byte { return s.caPEM }

// Fingerprints are the SHA-256 fingerprints of the CA certificates.
func (s *Store) Fingerprints() []string {
	out := make([]string, len(s.cas))
	for i, c := range s.cas {
		out[i] = Fingerprint(c)
	}
	return out
}

// Offline reports whether the CA key is kept out of the folder.
func (s *Store) Offline() bool { return s.key == nil }

// Client returns the operator's client material, checked against the CA
// with the real clock: the operator is about to use it.
func (s *Store) Client() (Material, error) {
	p, err := s.readPair(clientDir)
	if err != nil {
		return Material{}, err
	}
	v := s.check(p, clientTemplate(), time.Now(), 0)
	if v.state != OK && v.state != RenewSoon {
		return Material{}, fmt.Errorf("%s: %s; `swarmboot pki renew FILE` issues it again", filepath.Join(s.dir, clientDir, "cert.pem"), v.why)
	}
	return p.material(s.caPEM)
}

// signedByUs: with the key at hand only its CA's signature counts (a
// rotation re-issues what an older CA signed); offline, any of ca.pem.
func (s *Store) signedByUs(c *x509.Certificate) bool {
	cas := s.cas
	if s.issuer != nil {
		cas = []*x509.Certificate{s.issuer}
	}
	for _, ca := range cas {
		if string(c.RawIssuer) == string(ca.RawSubject) && c.CheckSignatureFrom(ca) == nil {
			return true
		}
	}
	return false
}
