package pki

import (
	"errors"
	"fmt"
)

// Sentinel errors, so the CLI can react (run init first, fall back to
// stand-ins, refuse a render) with errors.Is while users read the full
// message.
var (
	// ErrExists: pki init found a CA already.
	ErrExists = errors.New("a CA already exists")
	// ErrNoCA: the folder holds no CA (neither ca.pem nor ca-key.pem).
	ErrNoCA = errors.New("no CA")
	// ErrWouldIssue: a read-only look (validate) found certificates to issue.
	ErrWouldIssue = errors.New("certificates would have to be issued")
	// ErrKeyOffline: certificates must be issued but ca-key.pem is not
	// there (the CA key is kept offline).
	ErrKeyOffline = errors.New("the CA key is offline")
	// ErrCAValidity: the CA has expired or is not valid yet.
	ErrCAValidity = errors.New("the CA is not valid now")
	// ErrRefused: a file of the PKI is unsafe or malformed (a key readable
	// by others, a private key in ca.pem, a FIFO); nothing was changed.
	ErrRefused = errors.New("refused")
)

// refusal is an error that is ErrRefused and reads as its sentence alone.
type refusal struct{ msg string }

func (r refusal) Error() string        { return r.msg }
func (r refusal) Is(target error) bool { return target == ErrRefused }

func refusef(format string, args ...any) error { return refusal{fmt.Sprintf(format, args...)} }
