package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kycbot/kycbot/tests/testkit"
)

func TestLiveAndCancelRequest(t *testing.T) {
	const user, other int64 = 4101, 4102
	issue := func(t *testing.T, s *Store, u int64) Request {
		t.Helper()
		r, err := s.Requests().Issue(context.Background(), RequestParams{UserID: u, ChatID: u, Level: "basic", Lang: "ru", Ref: "crm-1"}, 30*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name string
		// setup prepares the user's requests and returns the one whose
		// nonce is tried after the cancel ("" nonce: nothing to try).
		setup      func(t *testing.T, s *Store, clock *testkit.Clock) Request
		liveBefore bool
		cancelled  bool
		consumeErr error
	}{
		{
			name:       "live request",
			setup:      func(t *testing.T, s *Store, _ *testkit.Clock) Request { return issue(t, s, user) },
			liveBefore: true, cancelled: true, consumeErr: ErrNonceCancelled,
		},
		{
			name: "superseded then cancelled",
			setup: func(t *testing.T, s *Store, _ *testkit.Clock) Request {
				old := issue(t, s, user)
				issue(t, s, user)
				return old
			},
			liveBefore: true, cancelled: true, consumeErr: ErrNonceSuperseded,
		},
		{
			name:  "nothing issued",
			setup: func(*testing.T, *Store, *testkit.Clock) Request { return Request{} },
		},
		{
			name: "already used",
			setup: func(t *testing.T, s *Store, _ *testkit.Clock) Request {
				r := issue(t, s, user)
				if _, err := s.Requests().Consume(context.Background(), r.Nonce, user); err != nil {
					t.Fatal(err)
				}
				return r
			},
			consumeErr: ErrNonceUsed,
		},
		{
			name: "expired",
			setup: func(t *testing.T, s *Store, clock *testkit.Clock) Request {
				r := issue(t, s, user)
				clock.Advance(31 * time.Minute)
				return r
			},
			consumeErr: ErrNonceExpired,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			s, _ := newTestStore(t, WithClock(clock.Now))
			ctx := context.Background()
			tried := tt.setup(t, s, clock)
			otherReq := issue(t, s, other)

			live, ok, err := s.Requests().Live(ctx, user)
			if err != nil || ok != tt.liveBefore {
				t.Fatalf("Live before = %v, %v; want live %v", ok, err, tt.liveBefore)
			}
			if ok && (live.UserID != user || live.Level != "basic" || live.Lang != "ru" || live.Ref != "crm-1" || live.Nonce == "") {
				t.Errorf("live request = %+v", live)
			}
			cancelled, err := s.Requests().Cancel(ctx, user)
			if err != nil || cancelled != tt.cancelled {
				t.Fatalf("Cancel = %v, %v; want %v", cancelled, err, tt.cancelled)
			}
			if _, ok, err := s.Requests().Live(ctx, user); err != nil || ok {
				t.Errorf("Live after = %v, %v; want none", ok, err)
			}
			if again, err := s.Requests().Cancel(ctx, user); err != nil || again {
				t.Errorf("second Cancel = %v, %v; want false", again, err)
			}
			if tt.cancelled {
				if _, err := s.Requests().Get(ctx, live.ID); !errors.Is(err, ErrNotFound) {
					t.Errorf("the cancelled request's page: %v, want ErrNotFound", err)
				}
				if _, err := s.Requests().Consume(ctx, live.Nonce, user); !errors.Is(err, ErrNonceCancelled) {
					t.Errorf("consuming the cancelled nonce: %v, want ErrNonceCancelled", err)
				}
			}
			if tried.Nonce != "" {
				if _, err := s.Requests().Consume(ctx, tried.Nonce, user); !errors.Is(err, tt.consumeErr) {
					t.Errorf("consuming the tried nonce: %v, want %v", err, tt.consumeErr)
				}
			}

			// Another user's request is untouched.
			if r, ok, err := s.Requests().Live(ctx, other); err != nil || !ok || r != otherReq {
				t.Errorf("other user's live request = %+v %v %v", r, ok, err)
			}
			if _, err := s.Requests().Get(ctx, otherReq.ID); err != nil {
				t.Errorf("other user's page: %v", err)
			}
			if _, err := s.Requests().Consume(ctx, otherReq.Nonce, other); err != nil {
				t.Errorf("other user's nonce: %v", err)
			}

			// A new request after the cancel works.
			next := issue(t, s, user)
			if r, ok, err := s.Requests().Live(ctx, user); err != nil || !ok || r != next {
				t.Errorf("live request after a new issue = %+v %v %v", r, ok, err)
			}
			if _, err := s.Requests().Consume(ctx, next.Nonce, user); err != nil {
				t.Errorf("the new request's nonce: %v", err)
			}
		})
	}
}

func TestCancelRequestRacesConsume(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	for i := range 20 {
		u := int64(4200 + i)
		r, err := s.Requests().Issue(ctx, RequestParams{UserID: u, ChatID: u, Level: "basic"}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		var (
			wg         sync.WaitGroup
			cancelled  bool
			cErr, kErr error
		)
		wg.Go(func() { cancelled, cErr = s.Requests().Cancel(ctx, u) })
		wg.Go(func() { _, kErr = s.Requests().Consume(ctx, r.Nonce, u) })
		wg.Wait()
		if cErr != nil {
			t.Fatal(cErr)
		}
		// Exactly one of them wins.
		switch {
		case cancelled && errors.Is(kErr, ErrNonceCancelled):
		case !cancelled && kErr == nil:
		default:
			t.Fatalf("user %d: cancelled %v, consume %v", u, cancelled, kErr)
		}
	}
}

func TestCancelRequestValidation(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	if _, err := s.Requests().Cancel(ctx, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("Cancel(0) = %v", err)
	}
	if _, _, err := s.Requests().Live(ctx, -5); !errors.Is(err, ErrInvalid) {
		t.Errorf("Live(-5) = %v", err)
	}
}
