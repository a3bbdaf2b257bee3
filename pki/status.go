package pki

import (
	"math"
	"path/filepath"
	"time"

	"github.com/swarmboot/swarmboot/cluster"
	"github.com/swarmboot/swarmboot/internal/parallel"
)

// Entry is one certificate as `pki status` shows it.
type Entry struct {
	Name     string    `json:"name"` // "CA", "client" or a node's name
	Path     string    `json:"path"` // the certificate's file
	Subject  string    `json:"subject,omitempty"`
	SANs     []string  `json:"sans,omitempty"`
	NotAfter time.Time `json:"not_after,omitzero"`
	DaysLeft int       `json:"days_left"`
	State    State     `json:"state"`
	Detail   string    `json:"detail,omitempty"`
}

// Report is the state of a cluster's PKI at one instant.
type Report struct {
	Dir         string  `json:"pki"`
	At          string  `json:"at"`
	Entries     []Entry `json:"certificates"` // the CA's first, then the client's, then each node's
	NeedsAction bool    `json:"needs_action"`
}

// Status reports the CA, the operator's client certificate and every
// node's certificate of c in dir as they stand at now, against what the
// description asks for. It reads only; an error means the CA itself
// cannot be read.
func Status(c *cluster.Cluster, dir string, now time.Time) (*Report, error) {
	s, unlock, err := readStore(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	set, err := SettingsOf(c, now).norm()
	if err != nil {
		return nil, err
	}
	r := &Report{Dir: dir, At: now.UTC().Format(time.RFC3339)}
	for _, ca := range s.cas {
		e := Entry{Name: "CA", Path: filepath.Join(dir, "ca.pem"), Subject: ca.Subject.CommonName, NotAfter: ca.NotAfter, DaysLeft: days(ca.NotAfter.Sub(now)), State: OK}
		switch {
		case now.After(ca.NotAfter):
			e.State, e.Detail = Expired, "every certificate it signed is refused by the nodes"
		case now.Before(ca.NotBefore):
			e.State, e.Detail = NotYetValid, "valid from "+ca.NotBefore.Format(time.RFC3339)+": check this machine's clock"
		case ca.NotAfter.Sub(now) < set.Validity:
			e.State, e.Detail = RenewSoon, "certificates issued now end with it, before tls.validity"
		case s.key == nil:
			e.State, e.Detail = KeyOffline, "ca-key.pem is kept elsewhere: renders that issue nothing need only ca.pem"
		case s.issuer == ca && len(s.cas) > 1:
			e.Detail = "signs new certificates"
		}
		r.Entries = append(r.Entries, e)
	}
	slots, err := newSlots(Requests(c))
	if err != nil {
		return nil, err
	}
	// The client first, as in the folder's listing; then the nodes.
	slots = append(slots[len(slots)-1:], slots[:len(slots)-1]...)
	entries := make([]Entry, len(slots))
	parallel.Do(len(slots), func(i int) error {
		entries[i] = s.entry(slots[i], now, set.RenewBefore)
		return nil
	})
	r.Entries = append(r.Entries, entries...)
	for _, e := range r.Entries {
		r.NeedsAction = r.NeedsAction || e.State.NeedsAction()
	}
	return r, nil
}

// entry reads and checks one slot's stored pair.
func (s *Store) entry(sl slot, now time.Time, renewBefore time.Duration) Entry {
	name := sl.name
	if name == ClientName {
		name = "client"
	}
	e := Entry{Name: name, Path: filepath.Join(s.dir, filepath.FromSlash(sl.dir), "cert.pem")}
	p, err := s.readPair(sl.dir)
	if err != nil {
		e.State, e.Detail = Refused, err.Error()
		return e
	}
	if c := p.cert; c != nil {
		e.Subject, e.SANs, e.NotAfter, e.DaysLeft = c.Subject.CommonName, sans(c), c.NotAfter, days(c.NotAfter.Sub(now))
	}
	v := s.check(p, sl.want, now, renewBefore)
	e.State = v.state
	if v.state != OK {
		e.Detail = v.why
	}
	return e
}

// days counts whole days left, negative once past.
func days(d time.Duration) int { return int(math.Floor(d.Hours() / 24)) }
