package handlers

import (
	"context"
	"errors"
	"testing"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// resolver gives user 7 an access hash and fails for the others when err
// is set.
type resolver struct{ err error }

func (r resolver) Resolve(_ context.Context, u User) (User, error) {
	if r.err != nil {
		return u, r.err
	}
	u.AccessHash = 7 * u.ID
	return u, nil
}

func TestFindRecipient(t *testing.T) {
	cat, err := i18n.New(i18n.WithDefaultLanguage("de"))
	if err != nil {
		t.Fatal(err)
	}
	down := errors.New("redis: connection refused")
	tests := []struct {
		name     string
		prefs    store.Prefs
		prefsErr error
		resolve  error
		lang     string
		hash     int64
		err      bool
	}{
		{"their language", store.Prefs{Lang: "fa"}, nil, nil, "fa", 70, false},
		{"no language chosen: the default", store.Prefs{}, nil, nil, "de", 70, false},
		{"preferences unreadable: the default, and the error", store.Prefs{Lang: "fa"}, down, nil, "de", 70, true},
		{"not resolved: the bare ID", store.Prefs{Lang: "es"}, nil, errors.New("no access hash"), "es", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefs := func(_ context.Context, id int64) (store.Prefs, error) {
				if id != 10 {
					t.Fatalf("preferences of user %d, want 10", id)
				}
				return tt.prefs, tt.prefsErr
			}
			r, err := FindRecipient(context.Background(), prefs, resolver{tt.resolve}, cat, 10)
			if (err != nil) != tt.err || (err != nil && !errors.Is(err, down)) {
				t.Fatalf("err = %v, want an error: %v (wrapping the store's)", err, tt.err)
			}
			if r.Loc == nil || r.Loc.Lang() != tt.lang {
				t.Errorf("language %v, want %s", r.Loc, tt.lang)
			}
			if r.To.ID != 10 || r.To.AccessHash != tt.hash {
				t.Errorf("to %+v, want user 10 with access hash %d", r.To, tt.hash)
			}
		})
	}
}
