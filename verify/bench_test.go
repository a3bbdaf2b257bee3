package verify_test

import (
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/swarmboot/swarmboot/internal/verifytest"
)

// peakHeap samples the heap in use while fn runs and returns the most
// seen, in MiB. It counts the fakes' servers too, so it is an upper bound
// on verify's own.
func peakHeap(fn func()) float64 {
	runtime.GC()
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	return float64(peak) / (1 << 20)
}

// BenchmarkThousandNodes: one pass over 1,000 Docker hosts (two of them
// managers) and three etcd members, with TLS, served by loopback fakes;
// healthy, then with every answer endless. It reports the peak heap,
// which must stay under 200 MiB.
//
//	go test ./verify -run '^$' -bench ThousandNodes -benchtime 3x
func BenchmarkThousandNodes(b *testing.B) {
	for _, hostile := range []bool{false, true} {
		b.Run(map[bool]string{false: "healthy", true: "endless-answers"}[hostile], func(b *testing.B) {
			f := verifytest.New(b, verifytest.Load(b, hosts(b, 1000, true)))
			f.Register()
			if hostile {
				for _, n := range f.C.Nodes {
					for _, s := range []verifytest.Service{verifytest.Etcd, verifytest.Engine, verifytest.Manager} {
						if f.Has(n.Name, s) {
							f.Handle(n.Name, s, http.HandlerFunc(endless))
						}
					}
				}
			}
			o := f.Options()
			o.Timeout = 30 * time.Second // the machine is busy serving both ends
			peak := 0.0
			b.ResetTimer()
			for b.Loop() {
				peak = max(peak, peakHeap(func() {
					if r := run(f, o); r.Healthy == hostile {
						b.Fatalf("healthy %v: %+v", r.Healthy, r.Checks[:3])
					}
				}))
			}
			b.ReportMetric(peak, "peak-heap-MiB")
			if peak >= 200 {
				b.Errorf("peak heap %.0f MiB, want under 200", peak)
			}
		})
	}
}

// BenchmarkDeadMembers: one pass with five dead etcd members (black
// holes) and a 1 s timeout; asked one at a time they took 5 s.
//
//	go test ./verify -run '^$' -bench DeadMembers -benchtime 3x
func BenchmarkDeadMembers(b *testing.B) {
	f, o := deadMembers(b, time.Second)
	for b.Loop() {
		run(f, o)
	}
}
