package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kycbot/kycbot/i18n"
)

// fakeBadger records the badges set and removed; err fails every call.
type fakeBadger struct {
	set     map[int64]string
	removed []int64
	err     error
}

func (f *fakeBadger) SetBadge(_ context.Context, to User, description string) error {
	if f.err != nil {
		return f.err
	}
	f.set[to.ID] = description
	return nil
}

func (f *fakeBadger) RemoveBadge(_ context.Context, to User) error {
	if f.err != nil {
		return f.err
	}
	f.removed = append(f.removed, to.ID)
	return nil
}

// TestBadges: the description (the level's title and the end date, or the
// configured text, cut to Telegram's limit); a refusal of the bot as a
// verifier is told to the admins under one key; other failures only
// logged; a nil *Badges does nothing.
func TestBadges(t *testing.T) {
	cat := catalog(t)
	en := cat.Language("en")
	until := time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		desc       string
		until      time.Time
		err        error
		want       string
		alarmed    bool
		wantRemove bool
	}{
		{name: "level and date", until: until,
			want: en.Text(i18n.MsgBadgeDescription, map[string]any{"Level": "Full KYC", "Until": en.Date(until)}), wantRemove: true},
		{name: "no end", want: en.Text(i18n.MsgBadgeDescription, map[string]any{"Level": "Full KYC"}), wantRemove: true},
		{name: "configured", desc: "Verified by Acme", until: until, want: "Verified by Acme", wantRemove: true},
		{name: "cut", desc: strings.Repeat("é", 80), want: strings.Repeat("é", 69) + "…", wantRemove: true},
		{name: "forbidden", err: fmt.Errorf("rpc: %w", ErrBadgeForbidden), alarmed: true},
		{name: "other failure", err: errors.New("network down")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeBadger{set: map[int64]string{}, err: tt.err}
			admins := &recSender{}
			b := &Badges{Telegram: f, Catalog: cat, Description: tt.desc, Titles: map[string]string{"full": "Full KYC"},
				Admins: &Admins{IDs: []int64{7}, Catalog: cat, Sender: admins}}
			b.Grant(context.Background(), User{ID: 42}, "full", tt.until)
			b.Remove(context.Background(), User{ID: 42})
			if got := f.set[42]; got != tt.want || utf8.RuneCountInString(got) > MaxBadgeDescription {
				t.Errorf("description %q, want %q", got, tt.want)
			}
			if (len(f.removed) == 1) != tt.wantRemove {
				t.Errorf("removed %v", f.removed)
			}
			alarm := cat.Language(cat.DefaultLanguage()).Text(i18n.MsgAdminBadgeForbidden, nil)
			n := 0
			for _, m := range admins.msgs {
				if m.Text == alarm && strings.HasPrefix(m.Key, BadgeForbiddenKey) {
					n++
				}
			}
			// Grant and Remove both met the refusal: two sends under one
			// key, which the transport shows once.
			if (n > 0) != tt.alarmed {
				t.Errorf("admin alarms %d, want alarmed %v", n, tt.alarmed)
			}
		})
	}
	var off *Badges
	off.Grant(context.Background(), User{ID: 1}, "full", until) // no panic, nothing to do
	off.Remove(context.Background(), User{ID: 1})
}
