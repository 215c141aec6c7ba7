package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestValidities: a verified status keeps its end; the ends come back
// earliest first up to a time; a claim is won once among concurrent
// claimers, again after Unclaim; DeleteUser erases the user's ends and
// claims.
func TestValidities(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	end := time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.Statuses().Set(ctx, Status{UserID: 10, Level: "basic", State: StateVerified, ValidUntil: end}); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Statuses().Get(ctx, 10, "basic"); err != nil || !st.ValidUntil.Equal(end) {
		t.Fatalf("ValidUntil %v (%v), want %v", st.ValidUntil, err, end)
	}
	v := s.Validities()
	for _, e := range []struct {
		uid   int64
		until time.Time
	}{{10, end}, {11, end.Add(-time.Hour)}, {12, end.Add(time.Hour)}} {
		if err := v.Schedule(ctx, e.uid, "basic", e.until); err != nil {
			t.Fatal(err)
		}
	}
	got, err := v.Ending(ctx, end, 10)
	if err != nil || len(got) != 2 || got[0].UserID != 11 || got[1].UserID != 10 || !got[1].Until.Equal(end) {
		t.Fatalf("Ending = %+v, %v; want users 11 then 10", got, err)
	}
	if err := v.Schedule(ctx, 11, "basic", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := v.Ending(ctx, end, 10); len(got) != 1 {
		t.Fatalf("after unscheduling: %+v", got)
	}
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ok, err := v.Claim(ctx, 10, "basic", end, "remind:7")
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d claimers won, want 1", won.Load())
	}
	if err := v.Unclaim(ctx, 10, "basic", end, "remind:7"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := v.Claim(ctx, 10, "basic", end, "remind:7"); !ok {
		t.Fatal("no claim after Unclaim")
	}
	if _, err := s.DeleteUser(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if got, _ := v.Ending(ctx, end.Add(2*time.Hour), 10); len(got) != 1 || got[0].UserID != 12 {
		t.Fatalf("after DeleteUser: %+v, want user 12 only", got)
	}
	if ok, _ := v.Claim(ctx, 10, "basic", end, "remind:7"); !ok {
		t.Fatal("DeleteUser left the user's claims")
	}
}

// A claim needs a time: the user's claims live until the last end claimed,
// so a zero time would erase the claims made before it.
func TestValidityClaimNeedsTime(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	v := s.Validities()
	end := time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)
	if ok, err := v.Claim(ctx, 20, "basic", end, "remind:30"); err != nil || !ok {
		t.Fatalf("first claim: %v, %v", ok, err)
	}
	if _, err := v.Claim(ctx, 20, "full", time.Time{}, "expired"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("claim at the zero time: %v, want ErrInvalid", err)
	}
	if ok, err := v.Claim(ctx, 20, "basic", end, "remind:30"); err != nil || ok {
		t.Errorf("the first claim is gone after the refused one: %v, %v", ok, err)
	}
}
