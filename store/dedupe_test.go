package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestMarkUpdate(t *testing.T) {
	clock := newFakeClock()
	s, _ := newTestStore(t, WithClock(clock.Now))
	ctx := context.Background()
	type step struct {
		op      string // "mark" or "forget"
		user    int64
		msg     int
		advance time.Duration
		first   bool
	}
	steps := []step{
		{op: "mark", user: 1, msg: 10, first: true},
		{op: "mark", user: 1, msg: 10, first: false},
		{op: "mark", user: 1, msg: 11, first: true},
		{op: "mark", user: 2, msg: 10, first: true},
		{op: "forget", user: 1, msg: 10},
		{op: "mark", user: 1, msg: 10, first: true},
		{op: "mark", user: 1, msg: 10, advance: 59 * time.Second, first: false},
		{op: "mark", user: 1, msg: 10, advance: time.Second, first: true},
		{op: "forget", user: 3, msg: 99}, // unknown: not an error
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		switch st.op {
		case "mark":
			first, err := s.MarkUpdate(ctx, st.user, st.msg, time.Minute)
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if first != st.first {
				t.Fatalf("step %d: MarkUpdate(%d, %d) = %v, want %v", i, st.user, st.msg, first, st.first)
			}
		case "forget":
			if err := s.ForgetUpdate(ctx, st.user, st.msg); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
	}
	if _, err := s.MarkUpdate(ctx, 1, 1, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero TTL: error %v, want ErrInvalid", err)
	}
}

// TestMarkUpdateOwner: a mark made MarkedBy an owner answers first to the
// owner again (a retry whose earlier mark was not forgotten), and to no
// one else; forgetting it takes its owner.
func TestMarkUpdateOwner(t *testing.T) {
	clock := newFakeClock()
	s, _ := newTestStore(t, WithClock(clock.Now))
	ctx := context.Background()
	type step struct {
		op      string // "mark" or "forget"
		msg     int
		owner   string // "" for none
		advance time.Duration
		first   bool
	}
	steps := []step{
		{op: "mark", msg: 10, owner: "a1", first: true},
		{op: "mark", msg: 10, owner: "a1", first: true}, // the owner again
		{op: "mark", msg: 10, owner: "b2", first: false},
		{op: "mark", msg: 10, first: false},
		{op: "forget", msg: 10, owner: "b2"}, // not b2's: stays
		{op: "mark", msg: 10, owner: "b2", first: false},
		{op: "forget", msg: 10, owner: "a1"},
		{op: "mark", msg: 10, owner: "b2", first: true},
		{op: "mark", msg: 10, owner: "a1", first: false}, // a1's ownership went with its mark
		{op: "mark", msg: 11, first: true},
		{op: "mark", msg: 11, owner: "a1", first: false}, // a mark without owner is nobody's
		{op: "forget", msg: 11, owner: "a1"},
		{op: "mark", msg: 11, owner: "b2", first: false},
		{op: "mark", msg: 10, owner: "b2", advance: time.Minute, first: true}, // expired: b2's again, as new
		{op: "mark", msg: 10, owner: "a1", first: false},
		{op: "forget", msg: 99, owner: "a1"}, // unknown: not an error
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		var opts []MarkOption
		if st.owner != "" {
			opts = append(opts, MarkedBy(st.owner))
		}
		switch st.op {
		case "mark":
			first, err := s.MarkUpdate(ctx, 1, st.msg, time.Minute, opts...)
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if first != st.first {
				t.Fatalf("step %d: MarkUpdate(%d) by %q = %v, want %v", i, st.msg, st.owner, first, st.first)
			}
		case "forget":
			if err := s.ForgetUpdate(ctx, 1, st.msg, opts...); err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
	}
	for _, owner := range []string{"a b", "x@y", strings.Repeat("a", 129)} {
		if _, err := s.MarkUpdate(ctx, 1, 12, time.Minute, MarkedBy(owner)); !errors.Is(err, ErrInvalid) {
			t.Errorf("MarkUpdate by %q: error %v, want ErrInvalid", owner, err)
		}
		if err := s.ForgetUpdate(ctx, 1, 12, MarkedBy(owner)); !errors.Is(err, ErrInvalid) {
			t.Errorf("ForgetUpdate by %q: error %v, want ErrInvalid", owner, err)
		}
	}
}

func TestMarkUpdateConcurrent(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := New(c, WithPrefix(s.Prefix())).MarkUpdate(ctx, 7, 42, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if first {
				firsts.Add(1)
			}
		}()
	}
	wg.Wait()
	if firsts.Load() != 1 {
		t.Fatalf("%d callers were first, want 1", firsts.Load())
	}
}
