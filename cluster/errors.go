package cluster

import "errors"

// Sentinel errors. Report entries wrap one of these, so callers and tests
// can tell the kind of problem apart with errors.Is while users read the
// positioned message.
var (
	// Input as a whole.
	ErrEmpty         = errors.New("the description is empty")
	ErrTooLarge      = errors.New("the description is too large")
	ErrSyntax        = errors.New("YAML syntax error")
	ErrMultiDoc      = errors.New("more than one YAML document")
	ErrTooComplex    = errors.New("the description expands to too many YAML nodes")
	ErrTooMany       = errors.New("too many problems")
	ErrUnknownKey    = errors.New("unknown key")
	ErrDuplicateKey  = errors.New("duplicate key")
	ErrType          = errors.New("wrong type")
	ErrRequired      = errors.New("required value missing")
	ErrVersion       = errors.New("unsupported description version")
	ErrInvalidValue  = errors.New("invalid value")
	ErrOutOfRange    = errors.New("value out of range")
	ErrUnknownValue  = errors.New("unknown value")
	ErrDuplicate     = errors.New("duplicate value")
	ErrTopology      = errors.New("the cluster cannot work as described")
	ErrPortConflict  = errors.New("port conflict")
	ErrNotApplicable = errors.New("setting does not apply")
	ErrSnippet       = errors.New("snippet cannot be used")
	ErrConflict      = errors.New("snippet conflicts with generated config")

	// Warnings.
	WarnEvenEtcd     = errors.New("even number of etcd members")
	WarnNoManager    = errors.New("no swarm manager")
	WarnInsecureBind = errors.New("engine reachable on every address without TLS")
	WarnGateway      = errors.New("gateway outside the node's subnet")
	WarnManyEtcd     = errors.New("more etcd members than etcd advises")
	WarnPlain        = errors.New("plain, unauthenticated API")
	WarnNoLogin      = errors.New("no SSH key")
)
