package boottest

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// PollInterval is how often conditions are asked again.
var PollInterval = 3 * time.Second

// progressEvery is how often a long wait logs what it still waits for.
const progressEvery = time.Minute

// Eventually asks cond until it returns nil, the timeout passes or ctx
// ends; the error then names what was awaited and cond's last answer.
// While it waits, logf (if not nil) hears cond's answer once a minute.
func Eventually(ctx context.Context, timeout time.Duration, what string, logf func(string, ...any),
	cond func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	lastLog := start
	for {
		last := cond(ctx)
		if last == nil {
			return nil
		}
		if logf != nil && time.Since(lastLog) >= progressEvery {
			logf("still waiting (%s) for %s: %v", time.Since(start).Round(time.Second), what, last)
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			why := "not so after " + time.Since(start).Round(time.Second).String()
			if errors.Is(context.Cause(ctx), context.Canceled) {
				why = "interrupted after " + time.Since(start).Round(time.Second).String()
			}
			return fmt.Errorf("%s: %s: %v", what, why, last)
		case <-time.After(PollInterval):
		}
	}
}
