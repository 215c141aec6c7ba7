package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPreferences(t *testing.T) {
	for name, keep := range map[string]time.Duration{"keep forever": 0, "retention": time.Hour} {
		t.Run(name, func(t *testing.T) {
			clock := newFakeClock()
			var opts []Option
			if keep > 0 {
				opts = append(opts, WithStatusRetention(keep))
			}
			s, c := newTestStore(t, append(opts, WithClock(clock.Now))...)
			ctx := context.Background()
			const user, other int64 = 5101, 5102
			get := func(u int64) Prefs {
				t.Helper()
				p, err := s.Prefs().Get(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			if p := get(user); p != (Prefs{}) {
				t.Fatalf("preferences of a new user = %+v", p)
			}
			steps := []struct {
				name string
				do   func() error
				want Prefs
			}{
				{"language", func() error { return s.Prefs().SetLanguage(ctx, user, "pt-BR") }, Prefs{Lang: "pt-BR"}},
				{"ref", func() error { return s.Prefs().SetRef(ctx, user, "crm-42_A") }, Prefs{Lang: "pt-BR", Ref: "crm-42_A"}},
				{"another language", func() error { return s.Prefs().SetLanguage(ctx, user, "ru") }, Prefs{Lang: "ru", Ref: "crm-42_A"}},
				{"ref forgotten", func() error { return s.Prefs().SetRef(ctx, user, "") }, Prefs{Lang: "ru"}},
				{"ref again", func() error { return s.Prefs().SetRef(ctx, user, "x") }, Prefs{Lang: "ru", Ref: "x"}},
			}
			for _, st := range steps {
				if err := st.do(); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if got := get(user); got != st.want {
					t.Fatalf("after %s: %+v, want %+v", st.name, got, st.want)
				}
			}
			if p := get(other); p != (Prefs{}) {
				t.Errorf("another user's preferences = %+v", p)
			}
			ttl := c.PTTL(ctx, s.userKey(user, "prefs")).Val()
			if keep == 0 {
				if ttl != -1 {
					t.Errorf("prefs TTL %v without a retention, want none", ttl)
				}
				return
			}
			if ttl < keep-time.Minute || ttl > keep {
				t.Errorf("prefs TTL %v, want about %v", ttl, keep)
			}
			// Past the retention (by the store's clock) they are gone.
			clock.Advance(keep + time.Second)
			if p := get(user); p != (Prefs{}) {
				t.Errorf("preferences past the retention = %+v", p)
			}
		})
	}
}

func TestPreferencesValidation(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	tests := []struct {
		name string
		err  error
	}{
		{"user 0 language", s.Prefs().SetLanguage(ctx, 0, "en")},
		{"bad language", s.Prefs().SetLanguage(ctx, 1, "en_US!")},
		{"long language", s.Prefs().SetLanguage(ctx, 1, "en-"+strings.Repeat("a", 40))},
		{"ref with a space", s.Prefs().SetRef(ctx, 1, "John Smith")},
		{"long ref", s.Prefs().SetRef(ctx, 1, strings.Repeat("a", 65))},
		{"negative user ref", s.Prefs().SetRef(ctx, -1, "x")},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tt.name, tt.err)
		}
		if tt.err != nil && strings.Contains(tt.err.Error(), "John") {
			t.Errorf("%s: the error repeats the value: %v", tt.name, tt.err)
		}
	}
	if _, err := s.Prefs().Get(ctx, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("Preferences(0) = %v", err)
	}
}
