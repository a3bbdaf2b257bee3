package swarmmodel

import (
	"context"
	"io"
	"testing"
	"time"
)

// TestRefreshKeepsNewContainers: a full refresh whose list was made before
// a container was created does not drop it from the cache (swarm removed
// only the containers known before the list and missing from it), so a
// `docker run` racing the periodic refresh finds its container.
func TestRefreshKeepsNewContainers(t *testing.T) {
	f := newFakeEngine(t, "node-01")
	e := newEngine(f.addr, engineOpts{refreshMin: time.Hour, refreshMax: time.Hour, failureRetry: 3}, fastTiming(), nil, newLogger(io.Discard, levelInfo))
	ctx := context.Background()
	if err := e.connect(ctx); err != nil {
		t.Fatal(err)
	}
	f.holdLists()
	refreshed := make(chan error)
	go func() { refreshed <- e.refreshContainers(ctx, false) }()
	// The list is made (empty) and held.
	for f.countCalls("GET /v1.31/containers/json?all=1") < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	ct, err := e.createContainer(ctx, map[string]any{"Image": "busybox"}, "new", 0)
	if err != nil {
		t.Fatal(err)
	}
	f.releaseLists()
	if err := <-refreshed; err != nil {
		t.Fatal(err)
	}
	e.mu.RLock()
	_, kept := e.containers[ct.id()]
	e.mu.RUnlock()
	if !kept {
		t.Errorf("the refresh listed before the creation dropped the new container")
	}
	// The next refresh still drops what the engine no longer has.
	f.mu.Lock()
	f.drop(f.lookup(ct.id()))
	f.mu.Unlock()
	if err := e.refreshContainers(ctx, false); err != nil {
		t.Fatal(err)
	}
	e.mu.RLock()
	_, kept = e.containers[ct.id()]
	e.mu.RUnlock()
	if kept {
		t.Errorf("a refresh kept a container the engine no longer lists")
	}
}
