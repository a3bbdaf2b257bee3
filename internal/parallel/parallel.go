// Package parallel runs independent steps on every CPU with an outcome
// that does not depend on scheduling.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Do runs f(0), ..., f(n-1) on GOMAXPROCS goroutines and returns the
// error of the lowest index that failed. Each f writes only its own
// index's results, so the caller collects them in order.
func Do(n int, f func(i int) error) error {
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				errs[i] = f(i)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
