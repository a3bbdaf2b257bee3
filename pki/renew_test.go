package pki

import (
	"bytes"
	"crypto"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// inode of a file, to tell a file left alone from one replaced.
func inode(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func samePublicKey(t *testing.T, a, b []byte) bool {
	t.Helper()
	pa, ok := mustCert(t, a).PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pa.Equal(mustCert(t, b).PublicKey)
}

// Renewal signs each node's existing key again: the key file is not
// touched (same bytes, same inode), the certificate is new, for the same
// public key and names, with a later not-after. That is what lets a
// running node take it: nothing secret has to reach the node.
func TestRenewKeepsKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   func(notAfter time.Time) time.Time
		o    PlanOptions
		why  string
	}{
		{"forced", func(time.Time) time.Time { return t0.Add(time.Hour) }, PlanOptions{CA: UseCA, Renew: true, RenewAll: true}, "forced"},
		{"within renew_before", func(na time.Time) time.Time { return na.Add(-24 * time.Hour) }, PlanOptions{CA: UseCA, Renew: true}, "expires "},
		{"expired, by a render", func(na time.Time) time.Time { return na.Add(time.Hour) }, PlanOptions{CA: MakeCA}, "expired "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := newStore(t)
			first, _, err := ensure(t, dir, seedReqs, at(t0))
			if err != nil {
				t.Fatal(err)
			}
			names := []string{"manager", "node-1", ClientName}
			path := func(n, f string) string {
				if n == ClientName {
					return filepath.Join(dir, "client", f)
				}
				return filepath.Join(dir, "nodes", n, f)
			}
			keys, inodes, certs := map[string][]byte{}, map[string]uint64{}, map[string][]byte{}
			for _, n := range names {
				keys[n], inodes[n], certs[n] = mustRead(t, path(n, "key.pem")), inode(t, path(n, "key.pem")), mustRead(t, path(n, "cert.pem"))
			}
			now := tc.at(mustCert(t, first["manager"].Cert).NotAfter)
			mat, changes, err := run(dir, seedReqs, at(now), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if len(changes) != 3 {
				t.Fatalf("changes %v", changes)
			}
			for _, ch := range changes {
				if ch.Kind != Renewed || !bytes.HasPrefix([]byte(ch.Why), []byte(tc.why)) {
					t.Errorf("%v, want renewed (%s...)", ch, tc.why)
				}
			}
			for _, n := range names {
				cert := mustRead(t, path(n, "cert.pem"))
				if !bytes.Equal(mustRead(t, path(n, "key.pem")), keys[n]) || inode(t, path(n, "key.pem")) != inodes[n] {
					t.Errorf("%s: renewal rewrote the key file", n)
				}
				if bytes.Equal(cert, certs[n]) || !samePublicKey(t, cert, certs[n]) {
					t.Errorf("%s: want a new certificate for the same key", n)
				}
				old, renewed := mustCert(t, certs[n]), mustCert(t, cert)
				if !renewed.NotAfter.Equal(now.Add(8760*time.Hour)) || !slices.Equal(sans(old), sans(renewed)) || old.SerialNumber.Cmp(renewed.SerialNumber) == 0 {
					t.Errorf("%s: renewed until %v, names %v (were %v), serial %v (was %v)", n, renewed.NotAfter, sans(renewed), sans(old), renewed.SerialNumber, old.SerialNumber)
				}
				if err := verify(renewed, mustRead(t, filepath.Join(dir, "ca.pem")), now, renewed.ExtKeyUsage[0]); err != nil {
					t.Errorf("%s: renewed certificate does not verify: %v", n, err)
				}
				if n != ClientName && (!bytes.Equal(mat[n].Cert, cert) || !bytes.Equal(mat[n].Key, first[n].Key)) {
					t.Errorf("%s: the material handed to the render is not the stored pair", n)
				}
			}
		})
	}
}

// A new key is made where the stored one cannot serve: the node's names
// changed (its certificate must be re-issued and re-delivered anyway),
// its usages or issuer are not ours, or its key is gone.
func TestReissueMakesNewKey(t *testing.T) {
	dir, _ := newStore(t)
	first, _, err := ensure(t, dir, seedReqs, at(t0))
	if err != nil {
		t.Fatal(err)
	}
	moved := slices.Clone(seedReqs)
	moved[1] = Request{Name: "node-1", IPs: ips("10.0.0.9")}
	if err := os.Remove(filepath.Join(dir, "nodes", "manager", "key.pem")); err != nil {
		t.Fatal(err)
	}
	mat, changes, err := ensure(t, dir, moved, at(t0))
	if err != nil || len(changes) != 2 {
		t.Fatalf("%v %v", changes, err)
	}
	for _, ch := range changes {
		if ch.Kind != Reissued {
			t.Errorf("%v, want re-issued", ch)
		}
	}
	for _, n := range []string{"manager", "node-1"} {
		if samePublicKey(t, mat[n].Cert, first[n].Cert) || bytes.Equal(mat[n].Key, first[n].Key) {
			t.Errorf("%s: re-issued with its old key", n)
		}
	}
}
