package render

import "errors"

// The render errors callers can test for with errors.Is.
var (
	// ErrSnippetConflict wraps every merge failure; the message holds the
	// positioned report.
	ErrSnippetConflict = errors.New("snippets conflict with the generated config")
	// ErrSnippetUnreached: a node's snippets would be dropped because no
	// format rendered for it carries them.
	ErrSnippetUnreached = errors.New("snippets would be left out")
)
