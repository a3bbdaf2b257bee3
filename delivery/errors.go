package delivery

import "fmt"

// OptionError is a delivery choice that cannot work (an encoding its
// consumer cannot read, a format a node's system does not read, ...): a
// mistake on the command line, not in the description.
type OptionError struct{ msg string }

func (e *OptionError) Error() string { return e.msg }

// OptionErrorf makes an OptionError.
func OptionErrorf(format string, args ...any) error {
	return &OptionError{fmt.Sprintf(format, args...)}
}
