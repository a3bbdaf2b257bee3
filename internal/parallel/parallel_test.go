package parallel

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
)

// Every index runs once; the error is the lowest failing index's, however
// the goroutines are scheduled.
func TestDo(t *testing.T) {
	for range 50 {
		var runs [1000]atomic.Int32
		err := Do(len(runs), func(i int) error {
			runs[i].Add(1)
			if i == 700 || i == 300 || i == 999 {
				return fmt.Errorf("step %d", i)
			}
			return nil
		})
		if err == nil || err.Error() != "step 300" {
			t.Fatalf("error %v, want step 300's", err)
		}
		for i := range runs {
			if n := runs[i].Load(); n != 1 {
				t.Fatalf("index %d ran %d times", i, n)
			}
		}
	}
	if err := Do(0, func(int) error { return errors.New("called") }); err != nil {
		t.Errorf("no work: %v", err)
	}
}
