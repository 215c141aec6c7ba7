package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

var testReviewKey = []byte("the review key of the tests, 32b")

func TestReviews(t *testing.T) {
	clk := newFakeClock()
	s, c := newTestStore(t, WithReviewKey(testReviewKey), WithClock(clk.Now))
	ctx := context.Background()
	const user, id = int64(6201), "rev-0123456789"
	secret := "Ada Lovelace 10.12.1815 DL-4711"
	if err := s.Reviews().Put(ctx, user, id, []byte(secret), time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err := s.Reviews().Get(ctx, user, id)
	if err != nil || string(got) != secret {
		t.Fatalf("Get = %q, %v", got, err)
	}
	for _, k := range allKeys(t, c, s.Prefix()) {
		if v := dumpKey(t, c, k); strings.Contains(v, "Lovelace") || strings.Contains(v, "4711") {
			t.Errorf("key %s holds the submission in clear", k)
		}
	}
	// Another user's ID, another key, or past its time: not found.
	if _, err := s.Reviews().Get(ctx, user+1, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("another user's: %v, want ErrNotFound", err)
	}
	other := New(c, WithPrefix(s.Prefix()), WithReviewKey([]byte("another review key, 32 bytes....")))
	if _, err := other.Reviews().Get(ctx, user, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("under another key: %v, want ErrNotFound", err)
	}
	rotated := New(c, WithPrefix(s.Prefix()), WithClock(clk.Now), WithReviewKey([]byte("another review key, 32 bytes...."), testReviewKey))
	if got, err := rotated.Reviews().Get(ctx, user, id); err != nil || string(got) != secret {
		t.Errorf("after a rotation: %q, %v", got, err)
	}
	clk.Advance(time.Hour)
	if _, err := s.Reviews().Get(ctx, user, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired: %v, want ErrNotFound", err)
	}
	// Delete, and DeleteUser, erase them.
	if err := s.Reviews().Put(ctx, user, id, []byte(secret), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Reviews().Delete(ctx, user, id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reviews().Get(ctx, user, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("after Delete: %v, want ErrNotFound", err)
	}
	// Decided: the same submission handled again cannot keep it again.
	if err := s.Reviews().Put(ctx, user, id, []byte(secret), time.Hour); !errors.Is(err, ErrReviewDecided) {
		t.Errorf("Put after the decision: %v, want ErrReviewDecided", err)
	}
	for _, k := range allKeys(t, c, s.Prefix()) {
		if v := dumpKey(t, c, k); strings.Contains(v, "Lovelace") {
			t.Errorf("key %s still holds the submission", k)
		}
	}
	// Put twice keeps the first; another review of the user is kept.
	if err := s.Reviews().Put(ctx, user, id+"2", []byte(secret), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Reviews().Put(ctx, user, id+"2", []byte("other"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Reviews().Get(ctx, user, id+"2"); err != nil || string(got) != secret {
		t.Errorf("after a second Put: %q, %v; want the first", got, err)
	}
	if _, err := s.DeleteUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reviews().Get(ctx, user, id+"2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after DeleteUser: %v, want ErrNotFound", err)
	}
	if n := c.Exists(ctx, s.userKey(user, "reviews")).Val(); n != 0 {
		t.Error("the reviews hash outlived DeleteUser")
	}
	// Deleting in a hash that is gone leaves no key.
	if err := s.Reviews().Delete(ctx, user, id); err != nil {
		t.Fatal(err)
	}
	if n := c.Exists(ctx, s.userKey(user, "reviews")).Val(); n != 0 {
		t.Error("Delete created a key")
	}
	// Without a key, nothing is kept.
	bare := New(c, WithPrefix(s.Prefix()))
	if err := bare.Reviews().Put(ctx, user, id, []byte(secret), time.Hour); !errors.Is(err, ErrReviewKey) {
		t.Errorf("without a key: %v, want ErrReviewKey", err)
	}
	if err := s.Reviews().Put(ctx, user, "bad id!", nil, time.Hour); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad ID: %v, want ErrInvalid", err)
	}
}

func TestReviewLinkOnce(t *testing.T) {
	clk := newFakeClock()
	s, _ := newTestStore(t, WithClock(clk.Now))
	ctx := context.Background()
	token := "a-signed-review-link-token-0123456789"
	until := clk.Now().Add(time.Hour)
	for i, want := range []bool{true, false, false} {
		if first, err := s.Reviews().UseLink(ctx, token, until); err != nil || first != want {
			t.Fatalf("use %d: %t, %v; want %t", i+1, first, err, want)
		}
	}
	if first, err := s.Reviews().UseLink(ctx, token+"x", clk.Now()); err != nil || first {
		t.Errorf("an expired link: %t, %v; want false", first, err)
	}
}

// TestWaitingReviews: a review kept waits until decided; its reminder is
// claimed by one caller of many at a time, and only once it is due again;
// Forget takes a gone review off.
func TestWaitingReviews(t *testing.T) {
	clk := newFakeClock()
	s, c := newTestStore(t, WithReviewKey(testReviewKey), WithClock(clk.Now))
	ctx := context.Background()
	const user = int64(6301)
	for _, id := range []string{"rev-wait-0001", "rev-wait-0002"} {
		if err := s.Reviews().Put(ctx, user, id, []byte("x"), 48*time.Hour); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
	}
	// Kept again (the submission processed again): it keeps its time.
	if err := s.Reviews().Put(ctx, user, "rev-wait-0001", []byte("x"), 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	if w, err := s.Reviews().Waiting(ctx, clk.Now().Add(-time.Hour), 10); err != nil || len(w) != 0 {
		t.Fatalf("waiting an hour: %v, %v; want none yet", w, err)
	}
	clk.Advance(24 * time.Hour)
	due := clk.Now().Add(-24 * time.Hour)
	w, err := s.Reviews().Waiting(ctx, due, 10)
	if err != nil || len(w) != 2 || w[0].ID != "rev-wait-0001" || w[0].UserID != user || w[1].ID != "rev-wait-0002" {
		t.Fatalf("waiting a day: %+v, %v; want both, the oldest first", w, err)
	}
	// Instances remind at once: one of them does.
	other := New(c, WithPrefix(s.Prefix()), WithReviewKey(testReviewKey), WithClock(clk.Now))
	var firsts int
	for _, st := range []*Store{s, other, s} {
		first, err := st.Reviews().Remind(ctx, w[0], due)
		if err != nil {
			t.Fatal(err)
		}
		if first {
			firsts++
		}
	}
	if firsts != 1 {
		t.Errorf("%d reminders claimed, want 1", firsts)
	}
	if got, _ := s.Reviews().Waiting(ctx, due, 10); len(got) != 1 || got[0].ID != "rev-wait-0002" {
		t.Errorf("after the reminder, due: %+v; want the other only", got)
	}
	// Decided: no longer waiting, nor claimable.
	if err := s.Reviews().Delete(ctx, user, "rev-wait-0002"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(25 * time.Hour)
	got, err := s.Reviews().Waiting(ctx, clk.Now().Add(-24*time.Hour), 10)
	if err != nil || len(got) != 1 || got[0].ID != "rev-wait-0001" {
		t.Errorf("a day after the reminder: %+v, %v; want the undecided one again", got, err)
	}
	if first, _ := s.Reviews().Remind(ctx, Waiting{UserID: user, ID: "rev-wait-0002"}, clk.Now()); first {
		t.Error("a decided review was claimed for a reminder")
	}
	if err := s.Reviews().Forget(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Reviews().Waiting(ctx, clk.Now(), 10); len(got) != 0 {
		t.Errorf("after Forget: %+v", got)
	}
}
