package store

import (
	"context"
	"errors"
	"testing"

	"github.com/gotd/td/telegram/updates"
)

// RewindPts moves the saved pts back, never forward, and leaves the rest
// of the state (and the other bots' states) alone.
func TestRewindPts(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	const self, other = 71, 72
	if _, err := s.RewindPts(ctx, self, 10); !errors.Is(err, ErrStateNotFound) {
		t.Fatalf("without a state: %v, want ErrStateNotFound", err)
	}
	saved := updates.State{Pts: 100, Qts: 7, Date: 1700000000, Seq: 3}
	for _, id := range []int64{self, other} {
		if err := s.Sessions().StateStorage().SetState(ctx, id, saved); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		to         int
		wantBefore int
		wantPts    int
	}{
		{"back", 40, 100, 40},
		{"further back", 39, 40, 39},
		{"not forward", 60, 39, 39},
		{"same", 39, 39, 39},
		{"to zero", 0, 39, 0},
	}
	for _, tt := range tests {
		before, err := s.RewindPts(ctx, self, tt.to)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, ok, err := s.Sessions().StateStorage().GetState(ctx, self)
		if err != nil || !ok {
			t.Fatalf("%s: state %v, %v", tt.name, ok, err)
		}
		want := saved
		want.Pts = tt.wantPts
		if before != tt.wantBefore || got != want {
			t.Errorf("%s: RewindPts(%d) = %d, state %+v; want %d, %+v", tt.name, tt.to, before, got, tt.wantBefore, want)
		}
	}
	if got, _, _ := s.Sessions().StateStorage().GetState(ctx, other); got != saved {
		t.Errorf("another bot's state changed: %+v", got)
	}
	if _, err := s.RewindPts(ctx, self, -1); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative pts: %v, want ErrInvalid", err)
	}
}
