package lifecycle

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// memStore keeps statuses, ends and claims in memory, shared by the
// sweeps of several "instances".
type memStore struct {
	mu       sync.Mutex
	statuses map[string]store.Status
	ends     map[string]store.Validity
	claims   map[string]bool
}

func newMemStore() *memStore {
	return &memStore{statuses: map[string]store.Status{}, ends: map[string]store.Validity{}, claims: map[string]bool{}}
}

func k(uid int64, level string) string { return string(rune(uid)) + "|" + level }

func (m *memStore) GetStatus(_ context.Context, uid int64, level string) (store.Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st, ok := m.statuses[k(uid, level)]; ok {
		return st, nil
	}
	return store.Status{UserID: uid, Level: level, State: store.StateNone}, nil
}

func (m *memStore) SetStatus(_ context.Context, st store.Status) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.statuses[k(st.UserID, st.Level)] = st
	return nil
}

func (m *memStore) Preferences(context.Context, int64) (store.Prefs, error) {
	return store.Prefs{Lang: "de"}, nil
}

func (m *memStore) Ending(_ context.Context, before time.Time, _ int) ([]store.Validity, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Validity
	for _, v := range m.ends {
		if v.Until.Before(before) {
			out = append(out, v)
		}
	}
	return out, nil
}

func (m *memStore) Schedule(_ context.Context, uid int64, level string, until time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if until.IsZero() {
		delete(m.ends, k(uid, level))
	} else {
		m.ends[k(uid, level)] = store.Validity{UserID: uid, Level: level, Until: until}
	}
	return nil
}

func (m *memStore) Claim(_ context.Context, uid int64, level string, until time.Time, what string) (bool, error) {
	if until.IsZero() {
		// As in Redis: the claims' record would expire at once.
		return false, fmt.Errorf("claim %s at the zero time: %w", what, store.ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := k(uid, level) + until.String() + what
	if m.claims[c] {
		return false, nil
	}
	m.claims[c] = true
	return true, nil
}

func (m *memStore) Unclaim(_ context.Context, uid int64, level string, until time.Time, what string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.claims, k(uid, level)+until.String()+what)
	return nil
}

func (m *memStore) AuditOnce(context.Context, store.Event, string) error { return nil }

type recTelegram struct {
	mu   sync.Mutex
	msgs []handlers.Message
}

func (r *recTelegram) Send(_ context.Context, _ handlers.User, msg handlers.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, msg)
	return nil
}

func (r *recTelegram) Resolve(_ context.Context, u handlers.User) (handlers.User, error) {
	return u, nil
}

// TestSweep: two instances sweeping the same verifications at each time
// send each due reminder once (the nearest one only when several are due
// at once) and expire it once, with the event first; a verification given
// a new end is not reminded of the old one.
func TestSweep(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)
	st := newMemStore()
	for _, uid := range []int64{1, 2} {
		_ = st.SetStatus(context.Background(), store.Status{UserID: uid, Level: "basic", State: store.StateVerified, ValidUntil: end})
		_ = st.Schedule(context.Background(), uid, "basic", end)
	}
	var now time.Time
	var mu sync.Mutex
	var expired []Expired
	tel := &recTelegram{}
	var lcs []*Lifecycle
	for range 2 {
		l, err := New(Config{Store: st, Telegram: tel, Catalog: cat, RemindDays: []int{1, 30, 7},
			ReverifyData: func(level string) string { return "kyc:reverify:" + level },
			OnExpired: func(_ context.Context, e Expired) error {
				mu.Lock()
				defer mu.Unlock()
				expired = append(expired, e)
				return nil
			},
			Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		lcs = append(lcs, l)
	}
	de := cat.Language("de")
	reminder := de.Text(i18n.MsgReverifyReminder, map[string]any{"Level": "basic", "Until": de.Date(end)})
	count := func(text string) int {
		tel.mu.Lock()
		defer tel.mu.Unlock()
		n := 0
		for _, m := range tel.msgs {
			if m.Text == text && len(m.Buttons) == 1 && m.Buttons[0][0].Data == "kyc:reverify:basic" {
				n++
			}
		}
		return n
	}
	steps := []struct {
		at        time.Time
		reminders int // per user, in all
		expired   int
	}{
		{end.Add(-40 * 24 * time.Hour), 0, 0},
		{end.Add(-20 * 24 * time.Hour), 1, 0},
		{end.Add(-19 * 24 * time.Hour), 1, 0},
		// 7 and 1 days both due: the 1-day one only.
		{end.Add(-12 * time.Hour), 2, 0},
		{end.Add(time.Hour), 2, 1},
		{end.Add(2 * time.Hour), 2, 1},
	}
	for _, s := range steps {
		now = s.at
		for range 3 {
			var wg sync.WaitGroup
			for _, l := range lcs {
				wg.Go(func() {
					if _, err := l.Sweep(context.Background()); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}
		if got := count(reminder); got != 2*s.reminders {
			t.Errorf("at %v: %d reminders, want %d", s.at, got, 2*s.reminders)
		}
		if got := count(de.Text(i18n.MsgExpiredNotice, map[string]any{"Level": "basic"})); got != 2*s.expired {
			t.Errorf("at %v: %d expiry notices, want %d", s.at, got, 2*s.expired)
		}
	}
	for _, uid := range []int64{1, 2} {
		if got, _ := st.GetStatus(context.Background(), uid, "basic"); got.State != store.StateExpired {
			t.Errorf("user %d: %s, want expired", uid, got.State)
		}
	}
	if len(expired) < 2 || !strings.HasPrefix(expired[0].ID, "expired:") {
		t.Errorf("expired events %+v", expired)
	}
}

// TestExpireUndecided: a case left undecided in review expires with the
// reason review_expired (the event first), the status becomes expired and
// the user is told once with the re-verification button, however often
// the case is expired again (two instances, a retry).
func TestExpireUndecided(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	under := store.Status{UserID: 7, Level: "full", State: store.StateReview, Ref: "crm-7", UpdatedAt: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	_ = st.SetStatus(context.Background(), under)
	tel := &recTelegram{}
	var events []Expired
	l, err := New(Config{Store: st, Telegram: tel, Catalog: cat, Titles: map[string]string{"full": "Full KYC"},
		ReverifyData: func(level string) string { return "kyc:reverify:" + level },
		OnExpired:    func(_ context.Context, e Expired) error { events = append(events, e); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := l.ExpireUndecided(context.Background(), under, "rv1"); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := st.GetStatus(context.Background(), 7, "full"); got.State != store.StateExpired || got.Ref != "crm-7" ||
		!slices.Equal(got.Codes, []string{store.CodeReviewExpired}) {
		t.Errorf("status %+v, want expired with its ref and the code %s", got, store.CodeReviewExpired)
	}
	if len(events) != 3 || events[0].Reason != ReasonReviewExpired || events[0].ID != events[2].ID || !events[0].Until.IsZero() || events[0].Ref != "crm-7" {
		t.Errorf("events %+v: want the same expiry, reason %s, each time", events, ReasonReviewExpired)
	}
	want := cat.Language("de").Text(i18n.MsgReviewExpiredNotice, map[string]any{"Level": "Full KYC"})
	if len(tel.msgs) != 1 || tel.msgs[0].Text != want || len(tel.msgs[0].Buttons) != 1 || tel.msgs[0].Buttons[0][0].Data != "kyc:reverify:full" {
		t.Errorf("the user was told %+v, want once %q with the re-verification button", tel.msgs, want)
	}
	// Another case of the same user is another expiry.
	if err := l.ExpireUndecided(context.Background(), under, "rv2"); err != nil || len(tel.msgs) != 2 || events[3].ID == events[0].ID {
		t.Errorf("a second case: %v, %d messages", err, len(tel.msgs))
	}
}
