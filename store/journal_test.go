package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/tg"
)

// testJournalEntry is a Passport submission of user as message msg.
func testJournalEntry(user int64, msg int, owner string) JournalEntry {
	return JournalEntry{
		UserID: user, MsgID: msg, Owner: owner,
		Update: &tg.UpdateNewMessage{Pts: 40 + msg, PtsCount: 1, Message: &tg.MessageService{
			ID: msg, PeerID: &tg.PeerUser{UserID: user}, Date: 1700000000,
			Action: &tg.MessageActionSecureValuesSentMe{
				Values: []tg.SecureValue{{
					Type:      &tg.SecureValueTypePassport{},
					FrontSide: &tg.SecureFile{ID: 5550001111, AccessHash: 42, Size: 1000, DCID: 2, FileHash: []byte("fh"), Secret: []byte("fs")},
				}},
				Credentials: tg.SecureCredentialsEncrypted{Data: []byte("encrypted credentials"), Hash: []byte("hash"), Secret: []byte("secret")},
			},
		}},
		User: &tg.User{ID: user, AccessHash: 987654321, LangCode: "de", FirstName: "Erika"},
	}
}

func TestJournal(t *testing.T) {
	ctx := context.Background()
	const user, lease, keep = int64(7712345678), time.Minute, time.Hour
	tests := []struct {
		name string
		// run does things with the store after HoldSubmission of msg 3
		// (lease l) and returns how far the clock goes before a claim.
		run        func(t *testing.T, s *Store, l JournalLease) time.Duration
		wantClaim  bool
		afterClaim func(t *testing.T, s *Store, old JournalLease, c ClaimedSubmission)
	}{
		{"live lease not claimed", func(*testing.T, *Store, JournalLease) time.Duration { return lease - time.Second }, false, nil},
		{"expired lease claimed", func(*testing.T, *Store, JournalLease) time.Duration { return lease }, true,
			func(t *testing.T, s *Store, old JournalLease, c ClaimedSubmission) {
				// The first holder lost it: no renewal, and its release
				// leaves the entry to the claimer.
				if err := s.RenewSubmission(ctx, old, lease); !errors.Is(err, ErrNotFound) {
					t.Errorf("old holder's renewal: %v, want ErrNotFound", err)
				}
				if err := s.ReleaseSubmission(ctx, old); err != nil {
					t.Errorf("old holder's release: %v", err)
				}
				if err := s.RenewSubmission(ctx, c.Lease, lease); err != nil {
					t.Errorf("claimer's renewal: %v", err)
				}
			}},
		{"renewed lease not claimed", func(t *testing.T, s *Store, l JournalLease) time.Duration {
			for range 3 {
				s.now = advance(s.now, 50*time.Second)
				if err := s.RenewSubmission(ctx, l, lease); err != nil {
					t.Fatal(err)
				}
			}
			return 50 * time.Second
		}, false, nil},
		{"left entry claimed at once", func(t *testing.T, s *Store, l JournalLease) time.Duration {
			if err := s.LeaveSubmission(ctx, l); err != nil {
				t.Fatal(err)
			}
			return 0
		}, true, nil},
		{"released entry gone", func(t *testing.T, s *Store, l JournalLease) time.Duration {
			if err := s.ReleaseSubmission(ctx, l); err != nil {
				t.Fatal(err)
			}
			if err := s.LeaveSubmission(ctx, l); !errors.Is(err, ErrNotFound) {
				t.Errorf("leaving a released entry: %v, want ErrNotFound", err)
			}
			return lease
		}, false, nil},
		{"held again by another delivery", func(t *testing.T, s *Store, l JournalLease) time.Duration {
			if _, err := s.HoldSubmission(ctx, testJournalEntry(user, 3, "other-delivery"), lease, keep); err != nil {
				t.Fatal(err)
			}
			if err := s.LeaveSubmission(ctx, l); !errors.Is(err, ErrNotFound) {
				t.Errorf("leaving an entry held again: %v, want ErrNotFound", err)
			}
			return lease - time.Second
		}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			s, _ := newTestStore(t, WithClock(clk.Now))
			want := testJournalEntry(user, 3, "a1b2c3d4e5f6")
			l, err := s.HoldSubmission(ctx, want, lease, keep)
			if err != nil {
				t.Fatal(err)
			}
			s.now = clk.Now
			d := tt.run(t, s, l)
			s.now = advance(s.now, d)
			got, err := s.ClaimSubmissions(ctx, lease, 10)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.wantClaim {
				if len(got) != 0 {
					t.Fatalf("claimed %d entries, want none", len(got))
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("claimed %d entries, want 1", len(got))
			}
			c := got[0]
			if c.UserID != user || c.MsgID != 3 || c.Owner != want.Owner || c.User == nil ||
				c.User.AccessHash != want.User.AccessHash || c.User.LangCode != "de" {
				t.Errorf("claimed %+v, user %+v", c.JournalEntry, c.User)
			}
			msg, ok := c.Update.Message.(*tg.MessageService)
			action, _ := msg.Action.(*tg.MessageActionSecureValuesSentMe)
			if !ok || action == nil || c.Update.Pts != 43 || msg.ID != 3 ||
				string(action.Credentials.Data) != "encrypted credentials" || len(action.Values) != 1 {
				t.Errorf("claimed update %+v", c.Update)
			}
			// Claimed: not again until the new lease ends.
			if again, err := s.ClaimSubmissions(ctx, lease, 10); err != nil || len(again) != 0 {
				t.Errorf("claimed again: %d %v", len(again), err)
			}
			if tt.afterClaim != nil {
				tt.afterClaim(t, s, l, c)
			}
			if err := s.ReleaseSubmission(ctx, c.Lease); err != nil {
				t.Fatal(err)
			}
			s.now = advance(s.now, 2*lease)
			if again, err := s.ClaimSubmissions(ctx, lease, 10); err != nil || len(again) != 0 {
				t.Errorf("released, then claimed: %d %v", len(again), err)
			}
		})
	}
}

// advance returns a clock d after now.
func advance(now func() time.Time, d time.Duration) func() time.Time {
	at := now().Add(d)
	return func() time.Time { return at }
}

// TestJournalAtRest: what Redis holds is sealed (no user or file ID, no
// credentials), in the {journal} slot, and expires on its own.
func TestJournalAtRest(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	e := testJournalEntry(7712345678, 9, "a1b2c3d4e5f6")
	if _, err := s.HoldSubmission(ctx, e, time.Minute, time.Hour); err != nil {
		t.Fatal(err)
	}
	keys := allKeys(t, c, s.Prefix())
	if len(keys) != 3 {
		t.Errorf("keys %v, want an entry, the lease index and the user's set", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, s.Prefix()+"{journal}:") {
			t.Errorf("key %s is outside the {journal} slot", k)
		}
		if ttl, err := c.PTTL(ctx, k).Result(); err != nil || ttl <= 0 || ttl > time.Hour {
			t.Errorf("key %s: TTL %v (%v), want up to an hour", k, ttl, err)
		}
		if k == s.journalUserKey(e.UserID) {
			continue // DeleteUser's index: entry IDs only
		}
		v := dumpKey(t, c, k)
		for _, secret := range []string{"7712345678", "5550001111", "987654321", "encrypted credentials", "Erika", "a1b2c3d4e5f6"} {
			if strings.Contains(k, secret) || strings.Contains(v, secret) {
				t.Errorf("key %s holds %q in clear", k, secret)
			}
		}
	}
}

func TestJournalKeys(t *testing.T) {
	ctx := context.Background()
	s, c := newTestStore(t)
	if _, err := s.HoldSubmission(ctx, testJournalEntry(77, 1, "o1"), time.Millisecond, time.Hour); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	tests := []struct {
		name string
		opts []Option
		want error
	}{
		{"no key", nil, ErrJournalKey},
		{"short key", []Option{WithJournalKey(testJournalKey[:16])}, ErrJournalKey},
		{"another key", []Option{WithJournalKey([]byte("another journal key, 32 bytes..."))}, ErrJournalDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			other := New(c, append([]Option{WithPrefix(s.Prefix())}, tt.opts...)...)
			got, err := other.ClaimSubmissions(ctx, time.Millisecond, 10)
			if !errors.Is(err, tt.want) || len(got) != 0 {
				t.Errorf("claim: %d entries, %v; want none and %v", len(got), err, tt.want)
			}
		})
	}
	// The right key still opens it (the failed claims took new leases).
	time.Sleep(5 * time.Millisecond)
	if got, err := s.ClaimSubmissions(ctx, time.Minute, 10); err != nil || len(got) != 1 {
		t.Errorf("claim with the right key: %d %v", len(got), err)
	}
}

func TestJournalInvalid(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	ok := testJournalEntry(77, 1, "o1")
	noUpdate := ok
	noUpdate.Update = nil
	badOwner := ok
	badOwner.Owner = "has space"
	badUser := ok
	badUser.UserID = 0
	tests := []struct {
		name        string
		e           JournalEntry
		lease, keep time.Duration
	}{
		{"no update", noUpdate, time.Minute, time.Hour},
		{"bad owner", badOwner, time.Minute, time.Hour},
		{"bad user", badUser, time.Minute, time.Hour},
		{"no lease", ok, 0, time.Hour},
		{"keep shorter than lease", ok, time.Hour, time.Minute},
	}
	for _, tt := range tests {
		if _, err := s.HoldSubmission(ctx, tt.e, tt.lease, tt.keep); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
		}
	}
	for name, err := range map[string]error{
		"renew the zero lease":   s.RenewSubmission(ctx, JournalLease{}, time.Minute),
		"leave the zero lease":   s.LeaveSubmission(ctx, JournalLease{}),
		"release the zero lease": s.ReleaseSubmission(ctx, JournalLease{}),
		"claim none": func() error {
			_, err := s.ClaimSubmissions(ctx, time.Minute, 0)
			return err
		}(),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// TestJournalClaimOnce: instances claiming at once take each expired
// entry once.
func TestJournalClaimOnce(t *testing.T) {
	s, c := newTestStore(t)
	ctx := context.Background()
	const n = 20
	for i := range n {
		l, err := s.HoldSubmission(ctx, testJournalEntry(int64(100+i), i, "o"+strconv.Itoa(i)), time.Minute, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.LeaveSubmission(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			st := New(c, WithPrefix(s.Prefix()), WithJournalKey(testJournalKey))
			for range 3 {
				got, err := st.ClaimSubmissions(ctx, time.Minute, 7)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, g := range got {
					seen[g.UserID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("%d entries claimed, want %d", len(seen), n)
	}
	for u, k := range seen {
		if k != 1 {
			t.Errorf("entry of user %d claimed %d times", u, k)
		}
	}
}
