package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// State is what a stored certificate needs.
type State string

// The states, as `pki status` prints them. Only OK and KeyOffline need
// nothing; RenewSoon is reused until `pki renew`, the others are issued
// again by the next render.
const (
	OK          State = "ok"
	RenewSoon   State = "renew soon"
	Expired     State = "expired"
	NotYetValid State = "not yet valid"
	Missing     State = "missing"
	Unreadable  State = "unreadable"
	OtherCA     State = "other CA"
	KeyMismatch State = "key mismatch"
	SANsStale   State = "SANs stale"
	UsageStale  State = "usages stale"
	KeyOffline  State = "key offline" // the CA's key, kept out of the folder
	Refused     State = "refused"     // unsafe or malformed: a render stops
)

// NeedsAction reports whether s asks the operator to do something.
func (s State) NeedsAction() bool { return s != OK && s != KeyOffline }

// The client's folder, relative to the PKI.
const clientDir = "client"

// nodeDir is a node's folder, relative to the PKI.
func nodeDir(name string) string { return "nodes/" + name }

// pair is a stored certificate and key as read: nil when a file is
// missing, an error when it did not parse (it is issued again).
type pair struct {
	cert            *x509.Certificate
	key             crypto.Signer
	certErr, keyErr error
}

// readPair reads rel/cert.pem and rel/key.pem. An error is a refusal (a
// key readable by others, an extra PEM block, a FIFO): the operator
// decides, swarmboot overwrites nothing it cannot read safely.
func (s *Store) readPair(rel string) (pair, error) {
	var p pair
	dir := filepath.Join(s.dir, rel)
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	b, err := readFile(certPath, false)
	if err != nil {
		return p, err
	}
	if b != nil {
		if p.cert, err = parseCertFile(certPath, b); errors.Is(err, ErrRefused) {
			return p, err
		} else if err != nil {
			p.certErr, p.cert = err, nil
		}
	}
	if b, err = readFile(keyPath, true); err != nil {
		return p, err
	}
	if b != nil {
		if p.key, err = parseKeyFile(keyPath, b); errors.Is(err, ErrRefused) {
			return p, err
		} else if err != nil {
			p.keyErr, p.key = err, nil
		}
	}
	return p, nil
}

// material is swarmboot's encoding of a checked pair.
func (p pair) material(caPEM []byte) (Material, error) {
	key, err := encodeKey(p.key)
	return Material{CA: caPEM, Cert: encodeCerts(p.cert), Key: key}, err
}

// verdict is what check found: the first state that applies and every
// reason, "SANs changed: +10.0.0.9 -10.0.0.8; expired 2027-01-01".
type verdict struct {
	state State
	why   string
}

const date = "2006-01-02"

// check says whether the stored pair p can serve want at now; within
// renewBefore of expiry it is RenewSoon, still usable.
func (s *Store) check(p pair, want *x509.Certificate, now time.Time, renewBefore time.Duration) verdict {
	switch {
	case p.cert == nil && p.key == nil && p.certErr == nil && p.keyErr == nil:
		return verdict{Missing, "missing"}
	case p.certErr != nil:
		return verdict{Unreadable, "unreadable certificate: " + p.certErr.Error()}
	case p.cert == nil:
		return verdict{Missing, "certificate missing"}
	case !s.signedByUs(p.cert):
		return verdict{OtherCA, "signed by another CA"}
	case p.keyErr != nil:
		return verdict{Unreadable, "unreadable key: " + p.keyErr.Error()}
	case p.key == nil:
		return verdict{Missing, "key missing"}
	case !keyMatches(p.key, p.cert):
		return verdict{KeyMismatch, "key does not match certificate"}
	}
	c := p.cert
	var v verdict
	add := func(s State, why string) {
		if v.state == "" {
			v.state = s
		}
		v.why = strings.TrimPrefix(v.why+"; "+why, "; ")
	}
	if d := sanDiff(want, c); d != "" {
		add(SANsStale, "SANs changed: "+d)
	}
	if c.IsCA || c.KeyUsage != want.KeyUsage || len(c.UnknownExtKeyUsage) > 0 ||
		!slices.Equal(sortedEKU(c), sortedEKU(want)) || c.Subject.CommonName != want.Subject.CommonName {
		add(UsageStale, "subject or usages changed")
	}
	switch left := c.NotAfter.Sub(now); {
	case now.After(c.NotAfter):
		add(Expired, "expired "+c.NotAfter.Format(date))
	case now.Before(c.NotBefore):
		add(NotYetValid, "not valid before "+c.NotBefore.Format(time.RFC3339))
	case v.state == "" && left <= renewBefore:
		v = verdict{RenewSoon, fmt.Sprintf("expires %s (%s)", c.NotAfter.Format(date), until(left))}
	}
	if v.state == "" {
		v.state = OK
	}
	return v
}

// reissue: the state asks for a new pair at the next render.
func (v verdict) reissue() bool { return v.state != OK && v.state != RenewSoon }

func sortedEKU(c *x509.Certificate) []x509.ExtKeyUsage {
	e := slices.Clone(c.ExtKeyUsage)
	slices.Sort(e)
	return slices.Compact(e)
}

func until(d time.Duration) string {
	switch days := int(d.Hours() / 24); {
	case d <= 0:
		return "now"
	case days >= 2:
		return fmt.Sprintf("in %d days", days)
	default:
		return fmt.Sprintf("in %d hours", int(d.Hours()+0.5))
	}
}

// SameKey says whether two certificates are for the same public key.
func SameKey(a, b *x509.Certificate) bool {
	pub, ok := a.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(b.PublicKey)
}

// IssuedAfter says whether a replaces b as a node's certificate: it was
// issued later (a later start; the same start and a later end). The
// node's agent applies the same rule, so a renewal to a shorter validity
// still reaches the node and a certificate from an old copy of the PKI
// never does.
func IssuedAfter(a, b *x509.Certificate) bool {
	return a.NotBefore.After(b.NotBefore) || a.NotBefore.Equal(b.NotBefore) && a.NotAfter.After(b.NotAfter)
}
