package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/telegram/updates"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgmock"

	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/store/storetest"
)

// stranger is a user who is not an admin.
const stranger = int64(30001)

// setStatus records a status, at the clock's time.
func (e *cenv) setStatus(user int64, level, state string, codes ...string) {
	e.t.Helper()
	if err := e.store.Statuses().Set(e.ctx, store.Status{UserID: user, Level: level, State: state, Codes: codes, Ref: "crm-42"}); err != nil {
		e.t.Fatal(err)
	}
}

// states returns the user's states by level.
func (e *cenv) states(user int64) map[string]string {
	e.t.Helper()
	sts, err := e.store.Statuses().List(e.ctx, user)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, st := range sts {
		out[st.Level] = st.State
	}
	return out
}

// keys returns every key under the test's prefix.
func (e *cenv) keys() []string {
	e.t.Helper()
	var keys []string
	if err := storetest.ScanAll(e.ctx, e.pe.rdb, e.pe.prefix, func(k string) { keys = append(keys, k) }); err != nil {
		e.t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// snapshot returns the type and content of every key under the test's
// prefix but the audit trail's.
func (e *cenv) snapshot() map[string]string {
	e.t.Helper()
	rdb, ctx := e.pe.rdb, e.ctx
	out := map[string]string{}
	for _, k := range e.keys() {
		if strings.Contains(k, "{audit}") {
			continue
		}
		typ := rdb.Type(ctx, k).Val()
		var v any
		switch typ {
		case "string":
			v = rdb.Get(ctx, k).Val()
		case "hash":
			v = rdb.HGetAll(ctx, k).Val()
		case "set":
			m := rdb.SMembers(ctx, k).Val()
			slices.Sort(m)
			v = m
		case "zset":
			v = rdb.ZRangeWithScores(ctx, k, 0, -1).Val()
		case "stream":
			v = rdb.XRange(ctx, k, "-", "+").Val()
		}
		out[k] = typ + " " + fmt.Sprint(v)
	}
	return out
}

// traces lists where Redis still names user: keys of the user's slot, and
// string values, hash fields and values, set and zset members and stream
// entry values equal to the user ID (the audit trail aside: DeleteUser
// keeps it, and appends its own event).
func (e *cenv) traces(user int64) []string {
	e.t.Helper()
	rdb, ctx := e.pe.rdb, e.ctx
	uid := strconv.FormatInt(user, 10)
	var found []string
	for _, k := range e.keys() {
		if strings.Contains(k, "{u:"+uid+"}") {
			found = append(found, "key "+k)
			continue
		}
		if strings.Contains(k, "{audit}") {
			continue
		}
		switch rdb.Type(ctx, k).Val() {
		case "string":
			if rdb.Get(ctx, k).Val() == uid {
				found = append(found, "value of "+k)
			}
		case "hash":
			for f, v := range rdb.HGetAll(ctx, k).Val() {
				if f == uid || v == uid {
					found = append(found, "field "+f+" of "+k)
				}
			}
		case "set":
			if slices.Contains(rdb.SMembers(ctx, k).Val(), uid) {
				found = append(found, "member of "+k)
			}
		case "zset":
			if _, err := rdb.ZScore(ctx, k, uid).Result(); err == nil {
				found = append(found, "member of "+k)
			}
		case "stream":
			for _, m := range rdb.XRange(ctx, k, "-", "+").Val() {
				for f, v := range m.Values {
					if v == uid {
						found = append(found, "entry "+m.ID+" ("+f+") of "+k)
					}
				}
			}
		}
	}
	return found
}

// allAudit returns every audit event.
func (e *cenv) allAudit() []auditEvent { return e.pe.auditEvents() }

// adminDetail is the Detail of an admin event about target.
func adminDetail(target int64, extra ...string) map[string]string {
	d := map[string]string{"admin": strconv.FormatInt(adminID, 10)}
	if target != 0 {
		d["target_user"] = strconv.FormatInt(target, 10)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		d[extra[i]] = extra[i+1]
	}
	return d
}

func sameDetail(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestAdminDenied: for anyone but an admin, every admin command (and a
// forged confirmation tap) is answered as an unknown command, audited as
// admin_denied with the command name only, and changes nothing in Redis.
func TestAdminDenied(t *testing.T) {
	const victim = int64(31001)
	now := strconv.FormatInt(today.Unix(), 10)
	tests := []struct {
		name    string
		text    string // a message, or
		tap     string // a callback tap
		command string // the command audited
	}{
		{name: "stats", text: "/kyc_stats", command: cmdKycStats},
		{name: "status", text: "/kyc_status 31001", command: cmdKycStatus},
		{name: "reset", text: "/kyc_reset 31001", command: cmdKycReset},
		{name: "reset a level", text: "/kyc_reset 31001 basic", command: cmdKycReset},
		{name: "delete", text: "/kyc_delete 31001", command: cmdKycDelete},
		{name: "delete addressed to us", text: "/kyc_delete@" + botUsername + " 31001", command: cmdKycDelete},
		{name: "no arguments", text: "/KYC_STATUS", command: cmdKycStatus},
		{name: "forged confirmation", tap: "kycdel:31001:" + now, command: cmdKycDelete},
		{name: "forged confirmation without a time", tap: "kycdel:31001", command: cmdKycDelete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCommandsEnv(t, []string{level, levelFull}, nil)
			e.must(victim, "en", "/start crm-1")
			e.setStatus(victim, level, store.StateVerified)
			e.setStatus(victim, levelFull, store.StateRejected)
			before := e.snapshot()
			nAudit := len(e.allAudit())

			if tt.tap != "" {
				qid, err := e.tap(stranger, "fr", tt.tap)
				if err != nil {
					t.Fatal(err)
				}
				if len(e.tg.answers) != 1 || e.tg.answers[0] != (answer{QueryID: qid}) {
					t.Errorf("callback answers = %+v, want one empty answer", e.tg.answers)
				}
				if n := len(e.messages(stranger)); n != 0 {
					t.Errorf("%d messages sent to the stranger", n)
				}
			} else {
				e.must(stranger, "fr", tt.text)
				// Exactly what an unknown command gets.
				e.must(stranger+1, "fr", "/frobnicate")
				got, want := e.messages(stranger), e.messages(stranger+1)
				if len(got) != 1 || len(want) != 1 || got[0].Text != want[0].Text || len(got[0].Buttons) != 0 {
					t.Errorf("answer = %+v, want %+v", got, want)
				}
				if got[0].Text != e.text("fr", i18n.MsgHelpNotUnderstood, nil) {
					t.Errorf("answer = %q", got[0].Text)
				}
			}
			if n := len(e.messages(victim)); n != 2 {
				t.Errorf("the victim got %d messages, want the 2 of /start", n)
			}
			evs := e.allAudit()[nAudit:]
			if len(evs) != 1 || evs[0].Kind != "admin_denied" || evs[0].UserID != stranger ||
				!sameDetail(evs[0].Detail, map[string]string{"command": tt.command}) || evs[0].Level != "" || len(evs[0].Codes) != 0 {
				t.Errorf("audit = %+v, want one admin_denied of %s", evs, tt.command)
			}
			after := e.snapshot()
			for k, v := range before {
				if after[k] != v {
					t.Errorf("%s changed:\n before %s\n after  %s", k, v, after[k])
				}
			}
			for k := range after {
				if _, ok := before[k]; !ok {
					t.Errorf("%s appeared", k)
				}
			}
			if !strings.Contains(e.logs.String(), "not an admin") {
				t.Errorf("the refusal is not logged:\n%s", e.logs)
			}
		})
	}
}

func TestAdminUsage(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{"/kyc_status", i18n.MsgAdminUsageStatus},
		{"/kyc_status abc", i18n.MsgAdminUsageStatus},
		{"/kyc_status 0", i18n.MsgAdminUsageStatus},
		{"/kyc_status -5", i18n.MsgAdminUsageStatus},
		{"/kyc_status +5", i18n.MsgAdminUsageStatus},
		{"/kyc_status 12x", i18n.MsgAdminUsageStatus},
		{"/kyc_status 1.5", i18n.MsgAdminUsageStatus},
		{"/kyc_status 99999999999999999999", i18n.MsgAdminUsageStatus},
		{"/kyc_reset", i18n.MsgAdminUsageReset},
		{"/kyc_reset basic", i18n.MsgAdminUsageReset},
		{"/kyc_reset 32001 bas!c", i18n.MsgAdminUsageReset},
		{"/kyc_delete", i18n.MsgAdminUsageDelete},
		{"/kyc_delete @someone", i18n.MsgAdminUsageDelete},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			e := newCommandsEnv(t, []string{level}, nil)
			e.setStatus(32001, level, store.StateVerified)
			before := e.snapshot()
			e.must(adminID, "es", tt.text)
			msgs := e.messages(adminID)
			if want := e.text("es", tt.want, nil); len(msgs) != 1 || msgs[0].Text != want || len(msgs[0].Buttons) != 0 {
				t.Errorf("answer = %+v, want %q", msgs, want)
			}
			if evs := e.auditEvents(adminID); len(evs) != 0 {
				t.Errorf("audited %+v", evs)
			}
			if after := e.snapshot(); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("Redis changed:\n%v\n%v", before, after)
			}
		})
	}
}

func TestAdminStats(t *testing.T) {
	line := func(l *i18n.Localizer, level, stateID string, n int) string {
		return l.Text(i18n.MsgAdminStatsLine, map[string]any{"Level": level, "State": l.Text(stateID, nil), "Count": n})
	}
	tests := []struct {
		name      string
		langCode  string // the admin's app
		chosen    string // the language the admin chose, if any
		lang      string // the language of the answer
		populated bool
	}{
		{name: "nothing yet", langCode: "en", lang: "en"},
		{name: "counters", langCode: "en", lang: "en", populated: true},
		{name: "in the admin's app language", langCode: "de", lang: "de", populated: true},
		{name: "in the admin's chosen language", langCode: "en", chosen: "ru", lang: "ru", populated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCommandsEnv(t, []string{level, levelFull}, nil)
			if tt.chosen != "" {
				if err := e.store.Prefs().SetLanguage(e.ctx, adminID, tt.chosen); err != nil {
					t.Fatal(err)
				}
			}
			l := e.catalog.Language(tt.lang)
			today, total := l.Text(i18n.MsgAdminStatsNothing, nil), l.Text(i18n.MsgAdminStatsNothing, nil)
			if tt.populated {
				e.clock.now = time.Date(2026, 3, 13, 23, 59, 0, 0, time.UTC) // yesterday
				e.setStatus(33001, level, store.StatePending)
				e.setStatus(33006, level, store.StatePending)
				e.clock.now = time.Date(2026, 3, 14, 0, 1, 0, 0, time.UTC)
				e.setStatus(33001, level, store.StateVerified)
				e.setStatus(33002, level, store.StateVerified)
				e.setStatus(33003, level, store.StateRejected)
				e.setStatus(33004, levelFull, store.StateNeedsFixes)
				e.setStatus(33005, "retired", store.StateVerified)
				e.setStatus(33007, levelFull, store.StateVerified)
				if err := e.store.Statuses().Reset(e.ctx, 33007, levelFull); err != nil {
					t.Fatal(err)
				}
				e.clock.now = time.Date(2026, 3, 14, 23, 0, 0, 0, time.UTC)
				today = strings.Join([]string{
					line(l, level, i18n.MsgAdminStateVerified, 2),
					line(l, level, i18n.MsgAdminStateRejected, 1),
					line(l, levelFull, i18n.MsgAdminStateNeedsFixes, 1),
					line(l, levelFull, i18n.MsgAdminStateVerified, 1),
					line(l, "retired", i18n.MsgAdminStateVerified, 1),
				}, "\n")
				total = strings.Join([]string{
					line(l, level, i18n.MsgAdminStatePending, 1),
					line(l, level, i18n.MsgAdminStateVerified, 2),
					line(l, level, i18n.MsgAdminStateRejected, 1),
					line(l, levelFull, i18n.MsgAdminStateNeedsFixes, 1),
					line(l, "retired", i18n.MsgAdminStateVerified, 1),
				}, "\n")
			}
			e.must(adminID, tt.langCode, "/kyc_stats")
			want := l.Text(i18n.MsgAdminStats, map[string]any{"Day": "2026-03-14", "Today": today, "Total": total})
			if m := e.last(adminID); m.Text != want || len(m.Buttons) != 0 {
				t.Errorf("/kyc_stats =\n%s\nwant\n%s", m.Text, want)
			}
			evs := e.auditEvents(adminID)
			if len(evs) != 1 || evs[0].Kind != "admin_stats" || !sameDetail(evs[0].Detail, adminDetail(0)) {
				t.Errorf("audit = %+v", evs)
			}
		})
	}
}

func TestAdminStatus(t *testing.T) {
	const user = int64(34001)
	tests := []struct {
		name  string
		setup func(e *cenv)
		want  func(l *i18n.Localizer) string
		// contains are substrings the answer must hold.
		contains []string
	}{
		{
			name: "unknown user",
			want: func(l *i18n.Localizer) string {
				return l.Text(i18n.MsgAdminStatusUnknown, map[string]any{"User": "34001"})
			},
		},
		{
			name: "needs fixes, with codes and ref",
			setup: func(e *cenv) {
				e.clock.Advance(-24 * time.Hour)
				e.setStatus(user, level, store.StatePending)
				e.clock.Advance(24*time.Hour + 90*time.Second)
				e.setStatus(user, level, store.StateNeedsFixes, "document_expired", "selfie_missing")
			},
			want: func(l *i18n.Localizer) string {
				return l.Text(i18n.MsgAdminStatus, map[string]any{"User": "34001", "Levels": l.Text(i18n.MsgAdminStatusLine, map[string]any{
					"Level": level, "State": l.Text(i18n.MsgAdminStateNeedsFixes, nil),
					"Updated": "2026-03-14 12:01 UTC", "Created": "2026-03-13 12:00 UTC",
					"Codes": "document_expired, selfie_missing", "Ref": "crm-42",
				})})
			},
			contains: []string{"needs corrections", "document_expired, selfie_missing", "crm-42", "2026-03-14 12:01 UTC", "2026-03-13 12:00 UTC"},
		},
		{
			name: "two levels",
			setup: func(e *cenv) {
				e.setStatus(user, levelFull, store.StateRejected, "too_young")
				e.setStatus(user, level, store.StateVerified)
			},
			contains: []string{"Level basic: verified", "Level full: rejected", "problems: too_young"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCommandsEnv(t, []string{level, levelFull}, nil)
			if tt.setup != nil {
				tt.setup(e)
			}
			e.must(adminID, "en", "/kyc_status 34001")
			m := e.last(adminID)
			if tt.want != nil {
				if want := tt.want(e.catalog.Language("en")); m.Text != want {
					t.Errorf("/kyc_status =\n%s\nwant\n%s", m.Text, want)
				}
			}
			for _, s := range tt.contains {
				if !strings.Contains(m.Text, s) {
					t.Errorf("/kyc_status =\n%s\nlacks %q", m.Text, s)
				}
			}
			if strings.Index(m.Text, "Level basic") > strings.Index(m.Text, "Level full") && strings.Contains(m.Text, "Level full") {
				t.Errorf("levels out of order:\n%s", m.Text)
			}
			evs := e.auditEvents(user)
			last := evs[len(evs)-1]
			if last.Kind != "admin_status" || !sameDetail(last.Detail, adminDetail(user)) {
				t.Errorf("audit = %+v", last)
			}
			if !strings.Contains(e.logs.String(), "admin_id=777") || !strings.Contains(e.logs.String(), "target_user_id=34001") {
				t.Errorf("the logs do not name the admin and the target:\n%s", e.logs)
			}
		})
	}
}

func TestAdminReset(t *testing.T) {
	const user = int64(35001)
	tests := []struct {
		name     string
		statuses map[string]string // level -> state before
		text     string
		want     func(l *i18n.Localizer) string
		left     map[string]string // the statuses after
		audited  []string          // the levels audited as reset ("" for a reset of nothing)
	}{
		{
			name: "every level", statuses: map[string]string{level: store.StateVerified, levelFull: store.StateRejected},
			text: "/kyc_reset 35001",
			want: func(l *i18n.Localizer) string {
				return l.Text(i18n.MsgAdminResetDone, map[string]any{"User": "35001", "Levels": l.Text(i18n.MsgAdminResetItem, map[string]any{"Level": level, "State": l.Text(i18n.MsgAdminStateVerified, nil)}) +
					l.Text(i18n.MsgListSeparator, nil) + l.Text(i18n.MsgAdminResetItem, map[string]any{"Level": levelFull, "State": l.Text(i18n.MsgAdminStateRejected, nil)})})
			},
			left: map[string]string{}, audited: []string{level, levelFull},
		},
		{
			name: "one level, in another case", statuses: map[string]string{level: store.StateVerified, levelFull: store.StateRejected},
			text: "/kyc_reset 35001 BASIC",
			want: func(l *i18n.Localizer) string {
				return l.Text(i18n.MsgAdminResetDone, map[string]any{"User": "35001", "Levels": l.Text(i18n.MsgAdminResetItem, map[string]any{"Level": level, "State": l.Text(i18n.MsgAdminStateVerified, nil)})})
			},
			left: map[string]string{levelFull: store.StateRejected}, audited: []string{level},
		},
		{
			name: "a level without a status", statuses: map[string]string{level: store.StateVerified},
			text: "/kyc_reset 35001 full",
			want: func(l *i18n.Localizer) string {
				return l.Text(i18n.MsgAdminResetNothing, map[string]any{"User": "35001", "Level": "full"})
			},
			left: map[string]string{level: store.StateVerified}, audited: []string{""},
		},
		{
			name: "no status at all", text: "/kyc_reset 35001",
			want: func(l *i18n.Localizer) string {
				return l.Text(i18n.MsgAdminResetNothing, map[string]any{"User": "35001"})
			},
			left: map[string]string{}, audited: []string{""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCommandsEnv(t, []string{level, levelFull}, nil)
			for l, s := range tt.statuses {
				e.setStatus(user, l, s)
			}
			e.must(adminID, "en", tt.text)
			if want := tt.want(e.catalog.Language("en")); e.last(adminID).Text != want {
				t.Errorf("answer = %q, want %q", e.last(adminID).Text, want)
			}
			if got := e.states(user); fmt.Sprint(got) != fmt.Sprint(tt.left) {
				t.Errorf("statuses after = %v, want %v", got, tt.left)
			}
			var audited []string
			for _, ev := range e.auditEvents(user) {
				if ev.Kind != "admin_reset" {
					continue
				}
				audited = append(audited, ev.Level)
				extra := []string{"was", tt.statuses[ev.Level]}
				if ev.Level == "" {
					extra = []string{"reset", "none"}
				}
				if !sameDetail(ev.Detail, adminDetail(user, extra...)) {
					t.Errorf("admin_reset detail = %v", ev.Detail)
				}
			}
			if !slices.Equal(audited, tt.audited) {
				t.Errorf("admin_reset events for levels %q, want %q", audited, tt.audited)
			}
			// The user may verify again at every level reset: the
			// conversation no longer says they are verified.
			for _, l := range []string{level, levelFull} {
				if tt.statuses[l] == "" || tt.left[l] != "" {
					continue
				}
				e.must(user, "en", "/verify "+l)
				m := e.last(user)
				if m.Text == e.text("en", i18n.MsgVerifyAlreadyVerified, nil) || m.Text != e.explain("en", l) {
					t.Errorf("/verify %s after the reset = %q", l, m.Text)
				}
				e.requestOf(m)
			}
			if tt.left[levelFull] == store.StateRejected {
				e.must(user, "en", "/verify full")
				if m := e.last(user); len(m.Buttons) != 0 {
					t.Errorf("/verify full was offered a request: the level was not reset")
				}
			}
		})
	}
}

// storeHashes reads access hashes the gotd updates manager stored in the
// store for the bot account self, as the bot wires it.
type storeHashes struct {
	h    updates.UserAccessHasher
	self int64
}

func (s storeHashes) GetUserAccessHash(ctx context.Context, userID int64) (int64, bool, error) {
	return s.h.GetUserAccessHash(ctx, s.self, userID)
}

func TestAdminDelete(t *testing.T) {
	const (
		target = int64(36001)
		other  = int64(36002)
		self   = int64(5550001) // the bot account
	)
	key := func(b byte) []byte { return []byte(strings.Repeat(string(rune('a'+b)), 32)) }
	e := newCommandsEnv(t, []string{level, levelFull}, nil,
		store.WithOutboxKey(key(0)), store.WithDocumentKey(key(1)), store.WithStatusRetention(365*24*time.Hour))
	e.tg.lookup = storeHashes{h: e.store.Sessions().UserAccessHasher(), self: self}

	// Everything the store can keep about a user, for the target and
	// for another user who must be left alone.
	for i, u := range []int64{target, other} {
		e.must(u, "en", "/start crm-7")
		if _, err := e.tap(u, "en", "lang:uk"); err != nil {
			t.Fatal(err)
		}
		e.setStatus(u, level, store.StateVerified)
		e.setStatus(u, levelFull, store.StateNeedsFixes, "document_expired")
		if _, err := e.store.Documents().Claim(e.ctx, store.DocumentKey{Country: "NL", Type: "passport", Number: fmt.Sprintf("NX%07d", i)}, u); err != nil {
			t.Fatal(err)
		}
		if err := e.store.Outbox().Enqueue(e.ctx, store.OutboxEntry{EventID: fmt.Sprintf("ev-%d", u), UserID: u, Kind: "verified", Payload: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.MarkUpdate(e.ctx, u, 7, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := e.store.Sessions().UserAccessHasher().SetUserAccessHash(e.ctx, self, u, u*7); err != nil {
			t.Fatal(err)
		}
		e.must(u, "en", "/verify") // a live request too
	}
	if tr := e.traces(target); len(tr) < 8 {
		t.Fatalf("the set-up left few traces of the target: %q", tr)
	}
	otherBefore := e.traces(other)
	targetMsgs := len(e.messages(target))

	// The command asks for confirmation and deletes nothing.
	e.must(adminID, "en", "/kyc_delete 36001")
	ask := e.last(adminID)
	if want := e.text("en", i18n.MsgAdminDeleteConfirm, map[string]any{"User": "36001"}); ask.Text != want {
		t.Errorf("confirmation = %q, want %q", ask.Text, want)
	}
	wantData := "kycdel:36001:" + strconv.FormatInt(today.Unix(), 10)
	if len(ask.Buttons) != 1 || ask.Buttons[0].Text != "Delete user 36001" || ask.Buttons[0].Data != wantData {
		t.Fatalf("buttons = %+v, want one \"Delete user 36001\" with data %q", ask.Buttons, wantData)
	}
	if got := e.states(target); len(got) != 2 {
		t.Fatalf("statuses after the question = %v: deleted before the confirmation", got)
	}
	for _, ev := range e.allAudit() {
		if ev.Kind == "deleted" || ev.Kind == "admin_delete" {
			t.Fatalf("audited %+v before the confirmation", ev)
		}
	}

	// A stranger's forged tap deletes nothing.
	if _, err := e.tap(stranger, "en", wantData); err != nil {
		t.Fatal(err)
	}
	if got := e.states(target); len(got) != 2 {
		t.Fatalf("statuses after a forged tap = %v", got)
	}

	// The admin's tap, two minutes later, deletes.
	e.clock.Advance(2 * time.Minute)
	nAudit := len(e.allAudit())
	qid, err := e.tap(adminID, "en", wantData)
	if err != nil {
		t.Fatal(err)
	}
	if a := e.tg.answers[len(e.tg.answers)-1]; a != (answer{QueryID: qid}) {
		t.Errorf("callback answer = %+v", a)
	}
	done := e.last(adminID)
	var n int
	if _, err := fmt.Sscanf(done.Text, "User 36001 has been deleted. Records removed: %d.", &n); err != nil || n < 10 {
		t.Errorf("admin told %q (%v)", done.Text, err)
	}
	if want := e.text("en", i18n.MsgAdminDeleteDone, map[string]any{"User": "36001", "Count": n}); done.Text != want {
		t.Errorf("admin told %q, want %q", done.Text, want)
	}
	if tr := e.traces(target); len(tr) != 0 {
		t.Errorf("Redis still names the target:\n%s", strings.Join(tr, "\n"))
	}
	if tr := e.traces(other); !slices.Equal(tr, otherBefore) {
		t.Errorf("the other user's traces changed:\n%q\n%q", otherBefore, tr)
	}
	// The user was told, in the language they had chosen, with the
	// access hash read before the deletion.
	msgs := e.messages(target)[targetMsgs:]
	if len(msgs) != 1 || msgs[0].Text != e.text("uk", i18n.MsgDeletedNotice, nil) || msgs[0].Hash != target*7 {
		t.Errorf("the user got %+v, want the Ukrainian notice with access hash %d", msgs, target*7)
	}
	// The store's "deleted" event, then the admin's.
	evs := e.allAudit()[nAudit:]
	if len(evs) != 2 || evs[0].Kind != "deleted" || evs[0].UserID != target ||
		evs[1].Kind != "admin_delete" || evs[1].UserID != target || !sameDetail(evs[1].Detail, adminDetail(target, "records", strconv.Itoa(n))) {
		t.Errorf("audit = %+v, want deleted then admin_delete", evs)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "admin deleted a user") || !strings.Contains(logs, "target_user_id=36001") || !strings.Contains(logs, "admin_id=777") {
		t.Errorf("the deletion is not logged with the admin and the target:\n%s", logs)
	}

	// The same tap again: nothing left, nothing more told to the user.
	if _, err := e.tap(adminID, "en", wantData); err != nil {
		t.Fatal(err)
	}
	if got, want := e.last(adminID).Text, e.text("en", i18n.MsgAdminDeleteNothing, map[string]any{"User": "36001"}); got != want {
		t.Errorf("second tap: %q, want %q", got, want)
	}
	if len(e.messages(target)) != targetMsgs+1 {
		t.Error("the user was told twice")
	}

	// An expired tap, or one without a time, deletes nothing.
	for _, data := range []string{
		"kycdel:36002:" + strconv.FormatInt(today.Add(-DeleteConfirmTTL).Unix(), 10),
		"kycdel:36002:" + strconv.FormatInt(today.Add(time.Hour).Unix(), 10),
		"kycdel:36002",
		"kycdel:36002:x",
	} {
		nAdmin := len(e.messages(adminID))
		qid, err := e.tap(adminID, "en", data)
		if err != nil {
			t.Fatal(err)
		}
		want := answer{QueryID: qid, Text: e.text("en", i18n.MsgAdminDeleteExpired, map[string]any{"User": "36002"})}
		if a := e.tg.answers[len(e.tg.answers)-1]; a != want {
			t.Errorf("%s: answer %+v, want %+v", data, a, want)
		}
		if len([]rune(want.Text)) > 200 {
			t.Errorf("the expiry answer is longer than a callback answer may be")
		}
		if len(e.messages(adminID)) != nAdmin {
			t.Errorf("%s: a message was sent", data)
		}
	}
	// Malformed data is answered and ignored.
	for _, data := range []string{"kycdel:", "kycdel:abc:1", "kycdel:0:1", "kycdel:-5:1"} {
		qid, err := e.tap(adminID, "en", data)
		if err != nil {
			t.Fatal(err)
		}
		if a := e.tg.answers[len(e.tg.answers)-1]; a != (answer{QueryID: qid}) {
			t.Errorf("%s: answer %+v", data, a)
		}
	}
	if tr := e.traces(other); !slices.Equal(tr, otherBefore) {
		t.Errorf("the other user's traces changed:\n%q\n%q", otherBefore, tr)
	}

	// A deleted user starts from scratch.
	e.must(target, "en", "/verify")
	if m := e.last(target); m.Text != e.explain("en", level) {
		t.Errorf("/verify after the deletion = %q", m.Text)
	}
}

func TestAdminDeleteNotice(t *testing.T) {
	const target = int64(37001)
	tests := []struct {
		name     string
		chosen   string // the user's chosen language
		sendErr  error
		wantLang string
	}{
		{name: "default language without a choice", wantLang: "en"},
		{name: "chosen language", chosen: "ar", wantLang: "ar"},
		{name: "the user cannot be reached", chosen: "de", sendErr: errors.New("rpc error code 400: USER_IS_BLOCKED")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCommandsEnv(t, []string{level}, nil)
			e.setStatus(target, level, store.StateVerified)
			if tt.chosen != "" {
				if err := e.store.Prefs().SetLanguage(e.ctx, target, tt.chosen); err != nil {
					t.Fatal(err)
				}
			}
			if tt.sendErr != nil {
				e.tg.sendErrTo = map[int64]error{target: tt.sendErr}
			}
			e.must(adminID, "pt-br", "/kyc_delete 37001")
			if _, err := e.tap(adminID, "pt-br", e.last(adminID).Buttons[0].Data); err != nil {
				t.Fatal(err)
			}
			done := e.last(adminID).Text
			pt := e.catalog.Language("pt-BR")
			if !strings.HasPrefix(done, strings.TrimSuffix(pt.Text(i18n.MsgAdminDeleteDone, map[string]any{"User": "37001", "Count": 0}), "0.")) {
				t.Errorf("admin told %q, want Brazilian Portuguese", done)
			}
			notTold := pt.Text(i18n.MsgAdminDeleteNotTold, map[string]any{"User": "37001"})
			if tt.sendErr != nil {
				if !strings.HasSuffix(done, "\n"+notTold) {
					t.Errorf("admin told %q, want the notice failure", done)
				}
				return
			}
			if strings.Contains(done, notTold) {
				t.Errorf("admin told %q", done)
			}
			msgs := e.messages(target)
			if len(msgs) != 1 || msgs[0].Text != e.text(tt.wantLang, i18n.MsgDeletedNotice, nil) {
				t.Errorf("the user got %+v, want the %s notice", msgs, tt.wantLang)
			}
		})
	}
}

func TestAdminSetBotCommands(t *testing.T) {
	const failing, unknown = int64(778), int64(779)
	e := newCommandsEnv(t, []string{level}, nil)
	e.c.cfg.Admins = []int64{adminID, failing, unknown}
	e.tg.hashes = map[int64]int64{adminID: 4242, failing: 1}
	e.tg.userCommandsErr = map[int64]error{failing: errors.New("rpc error code 400: PEER_ID_INVALID")}
	if err := e.c.SetBotCommands(e.ctx); err != nil {
		t.Fatal(err)
	}
	if len(e.tg.commands) != 11 {
		t.Errorf("%d default-scope registrations, want 11", len(e.tg.commands))
	}
	for _, c := range e.tg.commands {
		for _, bc := range c.Commands {
			if strings.HasPrefix(bc.Command, "kyc_") {
				t.Errorf("%q: admin command %s in the default scope", c.LangCode, bc.Command)
			}
		}
	}
	l := e.catalog.Language(e.catalog.DefaultLanguage())
	var want []tg.BotCommand
	for _, id := range [][2]string{
		{"start", i18n.MsgCommandStart}, {"verify", i18n.MsgCommandVerify}, {"status", i18n.MsgCommandStatus},
		{"language", i18n.MsgCommandLanguage}, {"help", i18n.MsgCommandHelp}, {"cancel", i18n.MsgCommandCancel},
		{"kyc_stats", i18n.MsgCommandKycStats}, {"kyc_status", i18n.MsgCommandKycStatus},
		{"kyc_reset", i18n.MsgCommandKycReset}, {"kyc_delete", i18n.MsgCommandKycDelete},
	} {
		want = append(want, tg.BotCommand{Command: id[0], Description: l.Text(id[1], nil)})
	}
	got := e.tg.userCommands
	if len(got) != 2 || got[0].User != adminID || got[0].Hash != 4242 || got[1].User != unknown || got[1].Hash != 0 {
		t.Fatalf("peer-scope registrations = %+v, want the admin with its hash and the unknown one without", got)
	}
	for _, c := range got {
		if c.LangCode != "" || !slices.Equal(c.Commands, want) {
			t.Errorf("%d: lang %q commands %+v, want %+v", c.User, c.LangCode, c.Commands, want)
		}
	}
	if logs := e.logs.String(); !strings.Contains(logs, "cannot register the admin commands") || !strings.Contains(logs, "admin_id=778") {
		t.Errorf("the failure is not logged:\n%s", logs)
	}

	// A failed lookup is logged, and the commands registered without a hash.
	e.tg.userCommands = nil
	e.tg.resolveErr = errors.New("redis: connection refused")
	if err := e.c.SetBotCommands(e.ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(e.tg.userCommands); n != 2 {
		t.Errorf("%d peer-scope registrations after failed lookups, want 2", n)
	}
	if !strings.Contains(e.logs.String(), "cannot look up an admin's access hash") {
		t.Error("the failed lookup is not logged")
	}
}

func TestAdminLogNothingPersonal(t *testing.T) {
	e := newCommandsEnv(t, []string{level}, nil)
	for _, text := range []string{
		"/kyc_status 38001 Zephyrine",
		"/kyc_reset 38001 Quillbottom",
		"/kyc_reset Zephyrine",
		"/kyc_delete DL7782311XQ",
	} {
		e.must(adminID, "en", text)
		e.must(stranger, "en", text)
	}
	for _, s := range []string{"Zephyrine", "Quillbottom", "DL7782311XQ"} {
		if strings.Contains(e.logs.String(), s) {
			t.Errorf("the logs contain %q:\n%s", s, e.logs)
		}
		for _, ev := range e.allAudit() {
			if strings.Contains(fmt.Sprintf("%+v", ev), s) {
				t.Errorf("audit event %+v contains %q", ev, s)
			}
		}
	}
}

func TestTelegramAdminMethods(t *testing.T) {
	ctx := context.Background()
	cmds := []tg.BotCommand{{Command: "kyc_stats", Description: "Stats"}}
	t.Run("SetUserBotCommands", func(t *testing.T) {
		m := tgmock.NewRequire(t)
		m.ExpectCall(&tg.BotsSetBotCommandsRequest{
			Scope:    &tg.BotCommandScopePeer{Peer: &tg.InputPeerUser{UserID: 10, AccessHash: 555}},
			LangCode: "", Commands: cmds,
		}).ThenTrue()
		tgc := NewTelegram(tg.NewClient(m), nil, WithAccessHashes(fakeHashes{10: 555}))
		if err := tgc.SetUserBotCommands(ctx, &tg.InputUser{UserID: 10}, "", cmds); err != nil {
			t.Fatal(err)
		}
		if !m.AllWereMet() {
			t.Error("bots.setBotCommands was not called")
		}
	})
	t.Run("SetUserBotCommands lookup fails", func(t *testing.T) {
		m := tgmock.NewRequire(t)
		tgc := NewTelegram(tg.NewClient(m), nil, WithAccessHashes(failingHashes{}))
		if err := tgc.SetUserBotCommands(ctx, &tg.InputUser{UserID: 10}, "", cmds); err == nil {
			t.Fatal("a failed lookup was ignored")
		}
	})
	t.Run("ResolveUser", func(t *testing.T) {
		tgc := NewTelegram(tg.NewClient(tgmock.NewRequire(t)), nil, WithAccessHashes(fakeHashes{10: 555}))
		for _, tt := range []struct {
			in   *tg.InputUser
			want int64
		}{
			{&tg.InputUser{UserID: 10}, 555},
			{&tg.InputUser{UserID: 10, AccessHash: 7}, 7},
			{&tg.InputUser{UserID: 11}, 0},
		} {
			got, err := tgc.ResolveUser(ctx, tt.in)
			if err != nil || got.UserID != tt.in.UserID || got.AccessHash != tt.want {
				t.Errorf("ResolveUser(%+v) = %+v, %v; want hash %d", tt.in, got, err, tt.want)
			}
		}
		if _, err := NewTelegram(tg.NewClient(tgmock.NewRequire(t)), nil, WithAccessHashes(failingHashes{})).
			ResolveUser(ctx, &tg.InputUser{UserID: 10}); err == nil {
			t.Error("a failed lookup was ignored")
		}
	})
}
