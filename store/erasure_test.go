package store

import (
	"context"
	"testing"
	"time"
)

// TestErasures: an erasure begun and not finished is found again with its
// first time (Resumed), by Begin and by Stale once old enough; Done of
// another time leaves it, Done of its own time closes it; a bad user ID is
// refused.
func TestErasures(t *testing.T) {
	clk := newFakeClock()
	s, _ := newTestStore(t, WithClock(clk.Now))
	ctx := context.Background()
	e := s.Erasures()

	first, err := e.Begin(ctx, 21)
	if err != nil || first.Resumed || first.UserID != 21 || !first.Began.Equal(clk.Now()) {
		t.Fatalf("Begin = %+v, %v; want a new erasure now", first, err)
	}
	clk.Advance(time.Minute)
	if _, err := e.Begin(ctx, 22); err != nil {
		t.Fatal(err)
	}
	again, err := e.Begin(ctx, 21)
	if err != nil || !again.Resumed || !again.Began.Equal(first.Began) {
		t.Fatalf("Begin again = %+v, %v; want the first erasure, resumed", again, err)
	}

	// Stale: begun strictly before the time given, the oldest first.
	for _, c := range []struct {
		before time.Time
		want   []int64
	}{
		{first.Began, nil},
		{first.Began.Add(time.Millisecond), []int64{21}},
		{clk.Now().Add(time.Second), []int64{21, 22}},
	} {
		got, err := e.Stale(ctx, c.before, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, g := range got {
			ids = append(ids, g.UserID)
			if !g.Resumed {
				t.Errorf("Stale returned %+v, not marked resumed", g)
			}
		}
		if len(ids) != len(c.want) || (len(ids) > 0 && (ids[0] != c.want[0] || ids[len(ids)-1] != c.want[len(c.want)-1])) {
			t.Errorf("Stale(%v) = %v, want %v", c.before, ids, c.want)
		}
	}
	if got, _ := e.Stale(ctx, clk.Now().Add(time.Second), 1); len(got) != 1 || got[0].UserID != 21 {
		t.Errorf("Stale with limit 1 = %+v, want the oldest only", got)
	}

	// Done of another time (a later erasure's) leaves it open.
	if err := e.Done(ctx, Erasure{UserID: 21, Began: first.Began.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if again, _ := e.Begin(ctx, 21); !again.Resumed {
		t.Errorf("Done of another time closed the erasure")
	}
	if err := e.Done(ctx, first); err != nil {
		t.Fatal(err)
	}
	if next, _ := e.Begin(ctx, 21); next.Resumed || !next.Began.Equal(clk.Now()) {
		t.Errorf("after Done, Begin = %+v; want a new erasure", next)
	}
	if _, err := e.Begin(ctx, 0); err == nil {
		t.Error("Begin accepted user 0")
	}
}
