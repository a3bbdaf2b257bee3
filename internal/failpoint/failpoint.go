// Package failpoint names the steps of swarmboot's transactions (the PKI
// commit, the output swap) so that tests can fail or kill a run at each
// one and check what is left. Without a hook every step passes.
package failpoint

// Hook, when set, is called at every step; an error it returns fails the
// step. Tests set it; nothing else does.
var Hook func(step string) error

// Check reports step to the hook.
func Check(step string) error {
	if Hook == nil {
		return nil
	}
	return Hook(step)
}
