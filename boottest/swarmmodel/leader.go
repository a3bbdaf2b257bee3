// Leader election of replicated managers (--replication), as swarm 1.2.9
// did it with docker/leadership over libkv's etcd lock. Learned from
// vendor/github.com/docker/leadership/candidate.go and follower.go,
// vendor/github.com/docker/libkv/store/etcd/etcd.go (Lock, holdLock,
// waitLock) and cli/manage.go (setupReplication, run, follow):
//   - the key is <prefix>/docker/swarm/leader and its value the manager's
//     --advertise address;
//   - a candidate creates it with prevExist=false and TTL = --replication-ttl;
//     if it exists, it waits for a delete or expire event and tries again;
//   - the leader rewrites it every TTL/3 with prevIndex = its last index;
//     when that fails the leadership is lost and the campaign restarts;
//   - each manager also follows the key: its value is the primary that
//     replicas forward to ("New leader elected: ADDR");
//   - after a store error either loop waits 10 s and starts again.
// The model bounds each wait by one TTL (then reads the key again) so that
// a watch held by a dead etcd member cannot stall the election, and treats
// a missing key as "no leader yet" where upstream's follower gave up for
// 10 s.

package swarmmodel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/swarmboot/swarmboot/boottest/swarmmodel/etcdv2"
)

type election struct {
	client    *etcdv2.Client
	key, node string
	ttl       time.Duration
	recover   time.Duration
	log       *logger
	// onChange is called with true when leadership is acquired, false
	// when it is lost (and once at the start of each campaign).
	onChange func(leader bool)
	// onPrimary is called when the followed leader changes to a non-empty
	// address.
	onPrimary func(addr string)

	mu      sync.Mutex
	leader  bool
	primary string
}

func (e *election) isLeader() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.leader
}

func (e *election) currentPrimary() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.primary
}

func (e *election) setLeader(v bool) {
	e.mu.Lock()
	e.leader = v
	e.mu.Unlock()
	if v {
		e.log.Infof("Leader Election: Cluster leadership acquired")
	} else {
		e.log.Infof("Leader Election: Cluster leadership lost")
	}
	e.onChange(v)
}

// run campaigns and follows until ctx ends.
func (e *election) run(ctx context.Context) {
	go func() {
		for ctx.Err() == nil {
			if err := e.follow(ctx); err != nil && ctx.Err() == nil {
				e.log.with(errorFields(err)).Errorf("%v", err)
			}
			sleepCtx(ctx, e.recover)
		}
	}()
	for ctx.Err() == nil {
		if err := e.campaign(ctx); err != nil && ctx.Err() == nil {
			e.log.with(errorFields(err)).Errorf("%v", err)
		}
		sleepCtx(ctx, e.recover)
	}
}

// campaign is Candidate.campaign: returns on a store error.
func (e *election) campaign(ctx context.Context) error {
	for ctx.Err() == nil {
		e.setLeader(false)
		index, err := e.lock(ctx)
		if err != nil {
			return err
		}
		e.setLeader(true)
		e.hold(ctx, index)
	}
	return nil
}

// lock creates the key or waits for it to go away.
func (e *election) lock(ctx context.Context) (uint64, error) {
	for {
		resp, err := e.client.Set(ctx, e.key, e.node, etcdv2.SetOptions{TTL: e.ttl, PrevExist: etcdv2.PrevNoExist})
		if err == nil {
			return resp.Node.ModifiedIndex, nil
		}
		var eerr *etcdv2.Error
		if !errors.As(err, &eerr) || eerr.Code != etcdv2.ErrCodeNodeExist {
			return 0, err
		}
		if err := e.waitFree(ctx, eerr.Index+1); err != nil {
			return 0, err
		}
	}
}

// waitFree waits for a delete or expire of the key from index on, at most
// one TTL.
func (e *election) waitFree(ctx context.Context, index uint64) error {
	wctx, cancel := context.WithTimeout(ctx, e.ttl)
	defer cancel()
	for {
		resp, err := e.client.Watch(wctx, e.key, etcdv2.WatchOptions{WaitIndex: index})
		if err != nil {
			if wctx.Err() != nil && ctx.Err() == nil {
				return nil // bound reached: try to create again
			}
			if etcdv2.IsCode(err, etcdv2.ErrCodeEventIndexCleared) {
				return nil
			}
			return err
		}
		switch resp.Action {
		case "delete", "compareAndDelete", "expire":
			return nil
		}
		index = resp.Node.ModifiedIndex + 1
	}
}

// hold renews the key every TTL/3 until that fails or ctx ends.
func (e *election) hold(ctx context.Context, index uint64) {
	tick := time.NewTicker(max(e.ttl/3, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		resp, err := e.client.Set(ctx, e.key, e.node, etcdv2.SetOptions{TTL: e.ttl, PrevIndex: index})
		if err != nil {
			return
		}
		index = resp.Node.ModifiedIndex
	}
}

// follow is Follower.follow: report each new value of the key.
func (e *election) follow(ctx context.Context) error {
	for ctx.Err() == nil {
		value, index := "", uint64(0)
		resp, err := e.client.Get(ctx, e.key, etcdv2.GetOptions{Quorum: true})
		var eerr *etcdv2.Error
		switch {
		case err == nil:
			value, index = resp.Node.Value, resp.Index
		case errors.As(err, &eerr) && eerr.Code == etcdv2.ErrCodeKeyNotFound:
			index = eerr.Index
		default:
			return err
		}
		e.seen(value)
		if err := e.watchLeader(ctx, index); err != nil {
			return err
		}
	}
	return nil
}

// watchLeader reports the changes of the key for at most one TTL; then the
// caller reads it again. A store error ends the following, as upstream's
// "watch leader channel closed".
func (e *election) watchLeader(ctx context.Context, index uint64) error {
	wctx, cancel := context.WithTimeout(ctx, e.ttl)
	defer cancel()
	for {
		w, err := e.client.Watch(wctx, e.key, etcdv2.WatchOptions{WaitIndex: index + 1})
		switch {
		case err == nil:
			e.seen(w.Node.Value)
			index = w.Node.ModifiedIndex
		case wctx.Err() != nil || etcdv2.IsCode(err, etcdv2.ErrCodeEventIndexCleared):
			return nil
		default:
			return fmt.Errorf("Leader Election: watch leader channel closed, the store may be unavailable... (%w)", err)
		}
	}
}

func (e *election) seen(value string) {
	e.mu.Lock()
	changed := value != e.primary
	e.primary = value
	e.mu.Unlock()
	if changed && value != "" {
		e.log.Infof("New leader elected: %s", value)
		e.onPrimary(value)
	}
}
