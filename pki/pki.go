// Package pki manages the cluster's TLS material: a CA that swarmboot
// generates beside the description, one certificate per node and an
// operator client certificate. Layout of the directory (0700, keys 0600):
//
//	ca.pem, ca-key.pem          the CA; its key never leaves this directory
//	client/ca.pem, cert.pem, key.pem   DOCKER_CERT_PATH for the operator
//	nodes/<node>/cert.pem, key.pem     what each node's user-data carries
//
// Issued certificates are stored and reused byte for byte, so renders stay
// byte-identical; a certificate is re-issued only when its SANs, usages or
// issuer change or it has expired.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// Settings are the explicit validity and rotation rules.
type Settings struct {
	Validity    time.Duration // node and client certificates; 0 -> 8760h (1 year)
	CAValidity  time.Duration // 0 -> 87600h (10 years)
	RenewBefore time.Duration // window before expiry; 0 -> 720h (30 days)
	Now         time.Time     // zero -> time.Now(); tests pin it
}

// skew backdates NotBefore: machines booting with a slightly wrong clock
// must still accept a certificate issued a moment ago.
const skew = time.Hour

// ClientName is the Change.Node of the operator client certificate; the
// space keeps it apart from every valid node name.
const ClientName = "operator client"

func (s Settings) norm() (Settings, error) {
	if s.Validity == 0 {
		s.Validity = 8760 * time.Hour
	}
	if s.CAValidity == 0 {
		s.CAValidity = 87600 * time.Hour
	}
	if s.RenewBefore == 0 {
		s.RenewBefore = 720 * time.Hour
	}
	if s.Now.IsZero() {
		s.Now = time.Now()
	}
	switch {
	case s.Validity < 0 || s.CAValidity < 0 || s.RenewBefore < 0:
		return s, errors.New("pki: validity and renew-before must not be negative")
	case s.RenewBefore >= s.Validity:
		// Otherwise every fresh certificate would already be due for renewal.
		return s, fmt.Errorf("pki: renew-before (%s) must be shorter than validity (%s)", s.RenewBefore, s.Validity)
	}
	return s, nil
}

// Store is an opened PKI directory with its CA loaded.
type Store struct {
	dir   string
	caPEM []byte
	ca    *x509.Certificate
	key   *ecdsa.PrivateKey
	// pendingCA writes a CA made by Create that is not on disk yet; the
	// first Issue's Commit runs it.
	pendingCA []func() error
}

// Material is what a node's user-data (or the operator's env) carries, PEM.
type Material struct{ CA, Cert, Key []byte }

// Init creates the CA and the operator client certificate in dir and returns
// the paths it wrote, in order. An existing CA is an error wrapping
// ErrExists unless force is set; force replaces CA and client and removes
// nodes/, whose certificates the old CA signed.
func Init(dir, cluster string, set Settings, force bool) (paths []string, err error) {
	set, err = set.norm()
	if err != nil {
		return nil, err
	}
	for _, p := range []string{filepath.Join(dir, "ca-key.pem"), filepath.Join(dir, "ca.pem")} {
		if _, serr := os.Lstat(p); serr == nil && !force {
			return nil, fmt.Errorf("%s: %w; --force replaces it (every node certificate must then be re-issued)", p, ErrExists)
		}
	}
	s, files, err := newCA(dir, cluster, set)
	if err != nil {
		return nil, err
	}
	var made []string // undone if a later step fails
	defer func() {
		for i := len(made) - 1; err != nil && i >= 0; i-- {
			os.Remove(made[i])
		}
	}()
	if paths, err = writeAll(s.dir, &made, files); err != nil {
		return nil, err
	}
	if force {
		if err := os.RemoveAll(filepath.Join(dir, "nodes")); err != nil {
			return paths, fmt.Errorf("pki: removing node certificates of the old CA: %w", err)
		}
	}
	return paths, nil
}

// Create makes a new CA and the operator's certificate for dir in memory:
// nothing is written until the first Issue from the store is committed,
// so a render that fails leaves no PKI behind. dir must hold no CA.
func Create(dir, cluster string, set Settings) (*Store, error) {
	set, err := set.norm()
	if err != nil {
		return nil, err
	}
	for _, p := range []string{filepath.Join(dir, "ca-key.pem"), filepath.Join(dir, "ca.pem")} {
		if _, serr := os.Lstat(p); serr == nil {
			return nil, fmt.Errorf("%s: %w", p, ErrExists)
		}
	}
	s, files, err := newCA(dir, cluster, set)
	if err != nil {
		return nil, err
	}
	s.pendingCA = []func() error{func() error {
		var made []string
		_, err := writeAll(dir, &made, files)
		if err != nil {
			for i := len(made) - 1; i >= 0; i-- {
				os.Remove(made[i])
			}
		}
		return err
	}}
	return s, nil
}

// newCA makes a CA and the operator's certificate in memory and returns
// the store and the files to write, CA key first.
func newCA(dir, cluster string, set Settings) (*Store, []file, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	skid := sha256.Sum256(pub) // RFC 7093 method 1: truncated SHA-256
	name := "swarmboot CA"
	if cluster != "" {
		name = cluster + " " + name
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: name, Organization: []string{"swarmboot"}},
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true, // signs leaves only
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SubjectKeyId:          skid[:20],
	}
	caPEM, err := sign(tmpl, tmpl, &key.PublicKey, key, set.Now, set.CAValidity)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	s := &Store{dir: dir, caPEM: caPEM, key: key}
	if s.ca, err = parseCert(caPEM); err != nil {
		return nil, nil, err
	}
	cliCert, cliKey, err := s.issue(clientTemplate(), set)
	if err != nil {
		return nil, nil, err
	}
	return s, []file{
		{"ca-key.pem", keyPEM, 0o600}, {"ca.pem", caPEM, 0o644},
		{"client/ca.pem", caPEM, 0o644}, {"client/key.pem", cliKey, 0o600}, {"client/cert.pem", cliCert, 0o644},
	}, nil
}

// Open loads the CA of dir and checks that it is usable and private.
func Open(dir string) (*Store, error) {
	caPath, keyPath := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	caPEM, err := readOptional(caPath)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readOptional(keyPath)
	if err != nil {
		return nil, err
	}
	const fix = "restore it from a backup or run `swarmboot pki init --force FILE` (every node certificate is then re-issued)"
	switch {
	case caPEM == nil && keyPEM == nil:
		return nil, fmt.Errorf("%w in %s; run `swarmboot pki init FILE` to create one", ErrNoCA, dir)
	case caPEM == nil:
		return nil, fmt.Errorf("%s is missing but %s exists; %s", caPath, keyPath, fix)
	case keyPEM == nil:
		return nil, fmt.Errorf("%s is missing but %s exists; %s", keyPath, caPath, fix)
	}
	if fi, err := os.Stat(keyPath); err != nil {
		return nil, err
	} else if m := fi.Mode().Perm(); m&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by group or others (mode %04o); the CA key signs every node: run chmod 600 %s", keyPath, m, keyPath)
	}
	ca, err := parseCert(caPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %v; %s", caPath, err, fix)
	}
	if !ca.IsCA || !ca.BasicConstraintsValid || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("%s is not a CA certificate (no CA basic constraint or cert-sign usage); %s", caPath, fix)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %v; %s", keyPath, err, fix)
	}
	if !keyMatches(key, ca) {
		return nil, fmt.Errorf("%s does not belong to %s (public keys differ); put the matching pair back or run `swarmboot pki init --force FILE` (every node certificate is then re-issued)", keyPath, caPath)
	}
	return &Store{dir: dir, caPEM: caPEM, ca: ca, key: key}, nil
}

// Dir is the directory the store was opened from.
func (s *Store) Dir() string { return s.dir }

// CA returns the CA certificate, PEM encoded, as stored.
func (s *Store) CA() []byte { return s.caPEM }

// Client returns the operator's client material, checked against the CA.
func (s *Store) Client() (Material, error) {
	dir := filepath.Join(s.dir, "client")
	cert, key, err := readPair(dir)
	if err != nil {
		return Material{}, err
	}
	// The real clock: the operator is about to use it.
	if why := s.problem(cert, key, clientTemplate(), time.Now()); why != "" {
		return Material{}, fmt.Errorf("%s: %s; run `swarmboot pki renew --force FILE`", filepath.Join(dir, "cert.pem"), why)
	}
	return Material{CA: s.caPEM, Cert: cert, Key: key}, nil
}

// sign creates a certificate valid from now-skew to now+validity (capped at
// the issuer's expiry: a leaf cannot outlive its CA).
func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer, now time.Time, validity time.Duration) ([]byte, error) {
	t := *tmpl
	for t.SerialNumber == nil || t.SerialNumber.Sign() == 0 { // positive, 128 random bits
		var err error
		if t.SerialNumber, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128)); err != nil {
			return nil, err
		}
	}
	t.NotBefore = now.Add(-skew).UTC().Truncate(time.Second)
	t.NotAfter = now.Add(validity).UTC().Truncate(time.Second)
	if parent != tmpl && !parent.NotAfter.IsZero() && t.NotAfter.After(parent.NotAfter) {
		t.NotAfter = parent.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, &t, parent, pub, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func encodeKey(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(k) // SEC1: what every consumer reads
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

func parseCert(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(blk.Bytes)
}

func parseKey(b []byte) (*ecdsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "EC PRIVATE KEY" {
		return nil, errors.New("no PEM EC PRIVATE KEY block")
	}
	return x509.ParseECPrivateKey(blk.Bytes)
}

func keyMatches(k *ecdsa.PrivateKey, c *x509.Certificate) bool { return k.PublicKey.Equal(c.PublicKey) }
