package store

import (
	"context"
	"errors"
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
