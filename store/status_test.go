package store

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestStatusRoundTrip(t *testing.T) {
	clock := newFakeClock()
	s, _ := newTestStore(t, WithClock(clock.Now))
	ctx := context.Background()

	none, err := s.Statuses().Get(ctx, 10, "basic")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Status{UserID: 10, Level: "basic", State: StateNone}); !reflect.DeepEqual(none, want) {
		t.Fatalf("unknown status = %+v, want %+v", none, want)
	}

	created := clock.Now()
	if err := s.Statuses().Set(ctx, Status{UserID: 10, Level: "basic", State: StatePending, Ref: "crm-1"}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if err := s.Statuses().Set(ctx, Status{UserID: 10, Level: "basic", State: StateNeedsFixes, Ref: "crm-1", Codes: []string{"document_expired", "selfie_missing"}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Statuses().Get(ctx, 10, "basic")
	if err != nil {
		t.Fatal(err)
	}
	want := Status{
		UserID: 10, Level: "basic", State: StateNeedsFixes, Ref: "crm-1",
		Codes:     []string{"document_expired", "selfie_missing"},
		CreatedAt: created, UpdatedAt: clock.Now(),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Get = %+v, want %+v", got, want)
	}

	if err := s.Statuses().Set(ctx, Status{UserID: 10, Level: "full", State: StateVerified}); err != nil {
		t.Fatal(err)
	}
	list, err := s.Statuses().List(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Level != "basic" || list[1].Level != "full" || !reflect.DeepEqual(list[0], want) {
		t.Fatalf("List = %+v", list)
	}
	if list, _ := s.Statuses().List(ctx, 11); len(list) != 0 {
		t.Fatalf("another user's list = %+v, want empty", list)
	}

	if err := s.Statuses().Reset(ctx, 10, "basic"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Statuses().Get(ctx, 10, "basic"); got.State != StateNone {
		t.Fatalf("after reset: %+v", got)
	}
	if err := s.Statuses().Reset(ctx, 10, "basic"); err != nil {
		t.Fatalf("second reset: %v", err)
	}
	// A status set after a reset starts anew.
	clock.Advance(time.Hour)
	if err := s.Statuses().Set(ctx, Status{UserID: 10, Level: "basic", State: StatePending}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Statuses().Get(ctx, 10, "basic"); !got.CreatedAt.Equal(clock.Now()) {
		t.Fatalf("created %v after reset, want %v", got.CreatedAt, clock.Now())
	}
}

func TestSetStatusValidation(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	tests := []struct {
		name string
		st   Status
	}{
		{"no user", Status{Level: "basic", State: StatePending}},
		{"no level", Status{UserID: 1, State: StatePending}},
		{"state none", Status{UserID: 1, Level: "basic", State: StateNone}},
		{"unknown state", Status{UserID: 1, Level: "basic", State: "approved"}},
		{"bad ref", Status{UserID: 1, Level: "basic", State: StatePending, Ref: "a b"}},
		{"a name as a code", Status{UserID: 1, Level: "basic", State: StatePending, Codes: []string{"John Smith"}}},
		{"an email as a code", Status{UserID: 1, Level: "basic", State: StatePending, Codes: []string{"john@example.com"}}},
		{"level with a separator", Status{UserID: 1, Level: "a|b", State: StatePending}},
		{"level with a hash", Status{UserID: 1, Level: "a#created", State: StatePending}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Statuses().Set(ctx, tt.st); !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v, want ErrInvalid", err)
			}
		})
	}
}

func TestStats(t *testing.T) {
	clock := newFakeClock()
	s, _ := newTestStore(t, WithClock(clock.Now))
	ctx := context.Background()
	day1 := clock.Now()

	steps := []Status{
		{UserID: 1, Level: "basic", State: StatePending},
		{UserID: 1, Level: "basic", State: StateNeedsFixes},
		{UserID: 1, Level: "basic", State: StateNeedsFixes}, // no transition
		{UserID: 1, Level: "basic", State: StateVerified},
		{UserID: 2, Level: "basic", State: StatePending},
		{UserID: 3, Level: "full", State: StateRejected},
	}
	for _, st := range steps {
		if err := s.Statuses().Set(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(24 * time.Hour)
	if err := s.Statuses().Set(ctx, Status{UserID: 2, Level: "basic", State: StateVerified}); err != nil {
		t.Fatal(err)
	}
	if err := s.Statuses().Reset(ctx, 3, "full"); err != nil {
		t.Fatal(err)
	}

	st1, err := s.Statuses().Stats(ctx, day1)
	if err != nil {
		t.Fatal(err)
	}
	wantToday1 := map[string]map[string]int{
		"basic": {StatePending: 2, StateNeedsFixes: 1, StateVerified: 1},
		"full":  {StateRejected: 1},
	}
	wantTotal := map[string]map[string]int{"basic": {StateVerified: 2}}
	if st1.Day != "2026-03-14" || !reflect.DeepEqual(st1.Today, wantToday1) || !reflect.DeepEqual(st1.Total, wantTotal) {
		t.Fatalf("day 1 stats %+v, want today %v total %v", st1, wantToday1, wantTotal)
	}
	st2, err := s.Statuses().Stats(ctx, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if want := (map[string]map[string]int{"basic": {StateVerified: 1}}); st2.Day != "2026-03-15" || !reflect.DeepEqual(st2.Today, want) {
		t.Fatalf("day 2 stats %+v, want today %v", st2, want)
	}
}

// Instances racing to record the same outcome count it once.
func TestStatsConcurrent(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := New(c, WithPrefix(s.Prefix())).Statuses().Set(ctx, Status{UserID: 5, Level: "basic", State: StateVerified}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st, err := s.Statuses().Stats(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st.Total["basic"][StateVerified] != 1 || st.Today["basic"][StateVerified] != 1 {
		t.Fatalf("stats %+v, want one verified user", st)
	}
}

func TestStatusValidUntil(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	until := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		set   time.Time
		want  time.Time
		state string
	}{
		{"verified with a document expiry", until, until, StateVerified},
		{"a time of day is kept, to the millisecond", until.Add(15*time.Hour + 1500*time.Microsecond), until.Add(15*time.Hour + time.Millisecond), StateVerified},
		{"unknown", time.Time{}, time.Time{}, StateVerified},
		{"cleared by the next status", time.Time{}, time.Time{}, StateNeedsFixes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Statuses().Set(ctx, Status{UserID: 20, Level: "basic", State: tt.state, ValidUntil: tt.set}); err != nil {
				t.Fatal(err)
			}
			got, err := s.Statuses().Get(ctx, 20, "basic")
			if err != nil {
				t.Fatal(err)
			}
			if !got.ValidUntil.Equal(tt.want) {
				t.Fatalf("ValidUntil = %v, want %v", got.ValidUntil, tt.want)
			}
		})
	}
}
