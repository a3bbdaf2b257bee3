package pki

import "errors"

// Sentinel errors, so the CLI can react (offer --force, run init first,
// fail validate) with errors.Is while users read the full message.
var (
	ErrExists     = errors.New("a CA already exists")
	ErrNoCA       = errors.New("no CA")
	ErrWouldIssue = errors.New("certificates would have to be issued")
)
