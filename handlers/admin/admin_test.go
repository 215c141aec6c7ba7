package admin

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/store"
)

// TestDenied: for anyone but an admin, every admin command (and a forged
// confirmation tap) is answered as an unknown command, audited as
// admin_denied with the command name only, and changes nothing in Redis.
func TestDenied(t *testing.T) {
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
		{name: "forged confirmation", tap: "kyc:del:31001:" + now, command: cmdKycDelete},
		{name: "forged legacy confirmation", tap: "kycdel:31001:" + now, command: cmdKycDelete},
		{name: "forged confirmation without a time", tap: "kyc:del:31001", command: cmdKycDelete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, []string{level, levelFull})
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
				if a := e.tg.CallbackAnswers(); len(a) != 1 || a[0] != (handlerstest.Answer{QueryID: qid}) {
					t.Errorf("callback answers = %+v, want one empty answer", a)
				}
				if n := len(e.messages(stranger)); n != 0 {
					t.Errorf("%d messages sent to the stranger", n)
				}
			} else {
				e.must(stranger, "fr", tt.text)
				// Exactly what an unknown command gets.
				e.must(stranger+1, "fr", "/frobnicate")
				got, want := e.messages(stranger), e.messages(stranger+1)
				if len(got) != 1 || len(want) != 1 || got[0].Text != want[0].Text || len(got[0].Rows) != 0 {
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

func TestUsage(t *testing.T) {
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
			e := newEnv(t, []string{level})
			e.setStatus(32001, level, store.StateVerified)
			before := e.snapshot()
			e.must(adminID, "es", tt.text)
			msgs := e.messages(adminID)
			if want := e.text("es", tt.want, nil); len(msgs) != 1 || msgs[0].Text != want || len(msgs[0].Rows) != 0 {
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

func TestStats(t *testing.T) {
	line := func(l *i18n.Localizer, lvl, stateID string, n int) string {
		return l.Text(i18n.MsgAdminStatsLine, map[string]any{"Level": lvl, "State": l.Text(stateID, nil), "Count": n})
	}
	tests := []struct {
		name      string
		langCode  string // the admin's app
		chosen    string // the language the admin chose, if any
		lang      string // the language of the answer
		day       string // the day as the language writes it
		populated bool
	}{
		{name: "nothing yet", langCode: "en", lang: "en", day: "14 Mar 2026"},
		{name: "counters", langCode: "en", lang: "en", day: "14 Mar 2026", populated: true},
		{name: "in the admin's app language", langCode: "de", lang: "de", day: "14.03.2026", populated: true},
		{name: "in the admin's chosen language", langCode: "en", chosen: "ru", lang: "ru", day: "14 мар. 2026 г.", populated: true},
		{name: "in Persian digits", langCode: "fa", lang: "fa", day: "۱۴ مارس ۲۰۲۶"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, []string{level, levelFull})
			if tt.chosen != "" {
				if err := e.store.Prefs().SetLanguage(e.ctx, adminID, tt.chosen); err != nil {
					t.Fatal(err)
				}
			}
			l := e.catalog.Language(tt.lang)
			todayLines, total := l.Text(i18n.MsgAdminStatsNothing, nil), l.Text(i18n.MsgAdminStatsNothing, nil)
			if tt.populated {
				e.clock.Set(time.Date(2026, 3, 13, 23, 59, 0, 0, time.UTC)) // yesterday
				e.setStatus(33001, level, store.StatePending)
				e.setStatus(33006, level, store.StatePending)
				e.clock.Set(time.Date(2026, 3, 14, 0, 1, 0, 0, time.UTC))
				e.setStatus(33001, level, store.StateVerified)
				e.setStatus(33002, level, store.StateVerified)
				e.setStatus(33003, level, store.StateRejected)
				e.setStatus(33004, levelFull, store.StateNeedsFixes)
				e.setStatus(33005, "retired", store.StateVerified)
				e.setStatus(33007, levelFull, store.StateVerified)
				if err := e.store.Statuses().Reset(e.ctx, 33007, levelFull); err != nil {
					t.Fatal(err)
				}
				e.clock.Set(time.Date(2026, 3, 14, 23, 0, 0, 0, time.UTC))
				todayLines = strings.Join([]string{
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
			want := l.Text(i18n.MsgAdminStats, map[string]any{"Day": tt.day, "Today": todayLines, "Total": total})
			if m := e.last(adminID); m.Text != want || len(m.Rows) != 0 {
				t.Errorf("/kyc_stats =\n%s\nwant\n%s", m.Text, want)
			}
			evs := e.auditEvents(adminID)
			if len(evs) != 1 || evs[0].Kind != "admin_stats" || !sameDetail(evs[0].Detail, adminDetail(0)) {
				t.Errorf("audit = %+v", evs)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	const u = int64(34001)
	tests := []struct {
		name  string
		setup func(e *env)
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
			setup: func(e *env) {
				e.clock.Advance(-24 * time.Hour)
				e.setStatus(u, level, store.StatePending)
				e.clock.Advance(24*time.Hour + 90*time.Second)
				e.setStatus(u, level, store.StateNeedsFixes, "document_expired", "selfie_missing")
			},
			want: func(l *i18n.Localizer) string {
				return l.Text(i18n.MsgAdminStatus, map[string]any{"User": "34001", "Levels": l.Text(i18n.MsgAdminStatusLine, map[string]any{
					"Level": level, "State": l.Text(i18n.MsgAdminStateNeedsFixes, nil),
					"Updated": "14 Mar 2026 at 12:01 UTC", "Created": "13 Mar 2026 at 12:00 UTC",
					"Codes": "document_expired, selfie_missing", "Ref": "crm-42",
				})})
			},
			contains: []string{"needs corrections", "document_expired, selfie_missing", "crm-42", "14 Mar 2026 at 12:01 UTC", "13 Mar 2026 at 12:00 UTC"},
		},
		{
			name: "two levels",
			setup: func(e *env) {
				e.setStatus(u, levelFull, store.StateRejected, "too_young")
				e.setStatus(u, level, store.StateVerified)
			},
			contains: []string{"Level basic: verified", "Level full: rejected", "problems: too_young"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, []string{level, levelFull})
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
			evs := e.auditEvents(u)
			if len(evs) == 0 || evs[len(evs)-1].Kind != "admin_status" || !sameDetail(evs[len(evs)-1].Detail, adminDetail(u)) {
				t.Errorf("audit = %+v", evs)
			}
			if !strings.Contains(e.logs.String(), "admin_id=777") || !strings.Contains(e.logs.String(), "target_user_id=34001") {
				t.Errorf("the logs do not name the admin and the target:\n%s", e.logs)
			}
		})
	}
}

func TestReset(t *testing.T) {
	const u = int64(35001)
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
			e := newEnv(t, []string{level, levelFull})
			for l, s := range tt.statuses {
				e.setStatus(u, l, s)
			}
			e.must(adminID, "en", tt.text)
			if want := tt.want(e.catalog.Language("en")); e.last(adminID).Text != want {
				t.Errorf("answer = %q, want %q", e.last(adminID).Text, want)
			}
			if got := e.states(u); fmt.Sprint(got) != fmt.Sprint(tt.left) {
				t.Errorf("statuses after = %v, want %v", got, tt.left)
			}
			var audited []string
			for _, ev := range e.auditEvents(u) {
				if ev.Kind != "admin_reset" {
					continue
				}
				audited = append(audited, ev.Level)
				extra := []string{"was", tt.statuses[ev.Level]}
				if ev.Level == "" {
					extra = []string{"reset", "none"}
				}
				if !sameDetail(ev.Detail, adminDetail(u, extra...)) {
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
				e.must(u, "en", "/verify "+l)
				m := e.last(u)
				if m.Text == e.text("en", i18n.MsgVerifyAlreadyVerified, nil) {
					t.Errorf("/verify %s after the reset = %q", l, m.Text)
				}
				e.requestOf(m)
			}
			if tt.left[levelFull] == store.StateRejected {
				e.must(u, "en", "/verify full")
				if m := e.last(u); len(m.Rows) != 0 {
					t.Errorf("/verify full was offered a request: the level was not reset")
				}
			}
		})
	}
}

func TestDelete(t *testing.T) {
	const target, other = int64(36001), int64(36002)
	key := func(b byte) []byte { return []byte(strings.Repeat(string(rune('a'+b)), 32)) }
	e := newEnv(t, []string{level, levelFull},
		store.WithOutboxKey(key(0)), store.WithDocumentKey(key(1)), store.WithStatusRetention(365*24*time.Hour))

	// Everything the store can keep about a user, for the target and
	// for another user who must be left alone.
	for i, u := range []int64{target, other} {
		e.must(u, "en", "/start crm-7")
		if _, err := e.tap(u, "en", "kyc:lang:uk"); err != nil {
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
		if err := e.store.Sessions().UserAccessHasher().SetUserAccessHash(e.ctx, selfID, u, u*7); err != nil {
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
	wantData := "kyc:del:36001:" + strconv.FormatInt(today.Unix(), 10)
	if b := ask.Buttons(); len(b) != 1 || b[0].Text != "Delete user 36001" || b[0].Data != wantData || !e.conv.HandlesData(b[0].Data) {
		t.Fatalf("buttons = %+v, want one \"Delete user 36001\" with data %q", b, wantData)
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
	if a := e.tg.LastAnswer(t); a != (handlerstest.Answer{QueryID: qid}) {
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
	if len(msgs) != 1 || msgs[0].Text != e.text("uk", i18n.MsgDeletedNotice, nil) || msgs[0].To.AccessHash != target*7 {
		t.Errorf("the user got %+v, want the Ukrainian notice with access hash %d", msgs, target*7)
	}
	// The store's "deleted" event, then the admin's.
	evs := e.allAudit()[nAudit:]
	// Neither names the target any more: erasure unlinked the first, and
	// the second is about the admin.
	if len(evs) != 2 || evs[0].Kind != "deleted" || evs[0].UserID != 0 ||
		evs[1].Kind != "admin_delete" || evs[1].UserID != adminID || evs[1].Actor != adminID || !sameDetail(evs[1].Detail, adminDetail(target, "records", strconv.Itoa(n))) {
		t.Errorf("audit = %+v, want deleted then admin_delete", evs)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "admin: a user deleted") || !strings.Contains(logs, "target_user_id=36001") || !strings.Contains(logs, "admin_id=777") {
		t.Errorf("the deletion is not logged with the admin and the target:\n%s", logs)
	}

	// Another tap on the button: nothing left, nothing more told to the
	// user.
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
		"kyc:del:36002:" + strconv.FormatInt(today.Add(-DeleteConfirmTTL).Unix(), 10),
		"kyc:del:36002:" + strconv.FormatInt(today.Add(time.Hour).Unix(), 10),
		"kyc:del:36002",
		"kyc:del:36002:x",
		"kycdel:36002",
	} {
		nAdmin := len(e.messages(adminID))
		qid, err := e.tap(adminID, "en", data)
		if err != nil {
			t.Fatal(err)
		}
		want := handlerstest.Answer{QueryID: qid, Text: e.text("en", i18n.MsgAdminDeleteExpired, map[string]any{"User": "36002"})}
		if a := e.tg.LastAnswer(t); a != want {
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
	for _, data := range []string{"kyc:del:", "kyc:del:abc:1", "kyc:del:0:1", "kyc:del:-5:1", "kycdel:"} {
		qid, err := e.tap(adminID, "en", data)
		if err != nil {
			t.Fatal(err)
		}
		if a := e.tg.LastAnswer(t); a != (handlerstest.Answer{QueryID: qid}) {
			t.Errorf("%s: answer %+v", data, a)
		}
	}
	if tr := e.traces(other); !slices.Equal(tr, otherBefore) {
		t.Errorf("the other user's traces changed:\n%q\n%q", otherBefore, tr)
	}

	// A deleted user starts from scratch.
	e.must(target, "en", "/verify")
	e.requestOf(e.last(target))
	if p, err := e.store.Prefs().Get(e.ctx, target); err != nil || p.Lang != "" || p.Ref != "" {
		t.Errorf("preferences after the deletion: %+v %v", p, err)
	}
}

func TestDeleteNotice(t *testing.T) {
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
			e := newEnv(t, []string{level})
			e.setStatus(target, level, store.StateVerified)
			if tt.chosen != "" {
				if err := e.store.Prefs().SetLanguage(e.ctx, target, tt.chosen); err != nil {
					t.Fatal(err)
				}
			}
			if tt.sendErr != nil {
				e.tg.FailSendTo(target, tt.sendErr)
			}
			e.must(adminID, "pt-br", "/kyc_delete 37001")
			q := e.query(adminID, "pt-br", e.last(adminID).Buttons()[0].Data)
			if err := e.conv.OnCallback(e.ctx, q); err != nil {
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
			if len(msgs) != 1 || msgs[0].Text != e.text(tt.wantLang, i18n.MsgDeletedNotice, nil) || msgs[0].Key != q.ID+":deleted_notice" {
				t.Errorf("the user got %+v, want the %s notice", msgs, tt.wantLang)
			}
		})
	}
}

// TestProcessedTwice: an admin command or tap handled again (same update
// ID) sends its answers under the same keys as the first time (the admin
// and the user see nothing more) and audits nothing twice.
func TestProcessedTwice(t *testing.T) {
	const target = int64(38501)
	tests := []struct {
		name string
		text string // the command handled twice, or
		tap  bool   // the confirmation tap of /kyc_delete
		from int64
		// extra is an audit event the second handling may add: what it
		// found then, which the first handling changed.
		extra string
	}{
		{name: "stats", text: "/kyc_stats", from: adminID},
		{name: "status", text: "/kyc_status 38501", from: adminID},
		{name: "reset", text: "/kyc_reset 38501", from: adminID, extra: "admin_reset"},
		{name: "delete asked", text: "/kyc_delete 38501", from: adminID},
		{name: "delete confirmed", tap: true, from: adminID, extra: "deleted"},
		{name: "denied", text: "/kyc_reset 38501", from: stranger},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, []string{level})
			e.setStatus(target, level, store.StateVerified)
			handle := func() error { return nil }
			var id string
			if tt.tap {
				e.must(adminID, "en", "/kyc_delete 38501")
				q := e.query(adminID, "en", e.last(adminID).Buttons()[0].Data)
				id, handle = q.ID, func() error { return e.conv.OnCallback(e.ctx, q) }
			} else {
				m := e.message(tt.from, "en", tt.text)
				id, handle = m.ID, func() error { return e.conv.OnMessage(e.ctx, m) }
			}
			nFrom, nTarget, nIDs := len(e.messages(tt.from)), len(e.messages(target)), len(e.adapter.AuditIDs())
			if err := handle(); err != nil {
				t.Fatal(err)
			}
			first := append(e.messages(tt.from)[nFrom:], e.messages(target)[nTarget:]...)
			audit, firstIDs := e.allAudit(), e.adapter.AuditIDs()[nIDs:]
			shownFrom, shownTarget := len(e.tg.Shown(tt.from)), len(e.tg.Shown(target))
			if err := handle(); err != nil {
				t.Fatal(err)
			}
			if len(first) == 0 {
				t.Fatal("nothing was sent")
			}
			for _, m := range first {
				if !strings.HasPrefix(m.Key, id+":") {
					t.Errorf("message %q sent with key %q, want one of the update %s", m.Text, m.Key, id)
				}
			}
			for _, to := range []int64{tt.from, target} {
				keys := map[string]bool{}
				for _, m := range first {
					keys[m.Key] = true
				}
				for _, m := range e.messages(to) {
					if strings.HasPrefix(m.Key, id+":") && !keys[m.Key] {
						t.Errorf("handled again, it sent %q to %d under a new key %q", m.Text, to, m.Key)
					}
				}
			}
			if got := len(e.tg.Shown(tt.from)); got != shownFrom {
				t.Errorf("%d sees %d messages, %d after the first handling", tt.from, got, shownFrom)
			}
			if got := len(e.tg.Shown(target)); got != shownTarget {
				t.Errorf("the target sees %d messages, %d after the first handling", got, shownTarget)
			}
			for _, ev := range e.allAudit()[len(audit):] {
				if ev.Kind != tt.extra {
					t.Errorf("handled again, it audited %+v", ev)
				}
			}
			for _, got := range e.adapter.AuditIDs()[nIDs+len(firstIDs):] {
				if !slices.Contains(firstIDs, got) && !strings.HasPrefix(got, tt.extra+":") {
					t.Errorf("AuditOnce ID %q handled again, %q the first time", got, firstIDs)
				}
			}
		})
	}
}

func TestSetCommands(t *testing.T) {
	const failing, unknown = int64(778), int64(779)
	e := newEnv(t, []string{level})
	e.cmds.cfg.Admins = []int64{adminID, failing, 0, unknown}
	e.tg.SetAccessHash(adminID, 4242)
	e.tg.SetAccessHash(failing, 1)
	e.tg.FailUserCommands(failing, errors.New("rpc error code 400: PEER_ID_INVALID"))
	if err := e.conv.SetCommands(e.ctx); err != nil {
		t.Fatal(err)
	}
	if len(e.tg.Menus()) != 11 {
		t.Errorf("%d default-scope registrations, want 11", len(e.tg.Menus()))
	}
	for _, c := range e.tg.Menus() {
		for _, bc := range c.Commands {
			if strings.HasPrefix(bc.Command, "kyc_") {
				t.Errorf("%q: admin command %s in the default scope", c.LangCode, bc.Command)
			}
		}
	}
	l := e.catalog.Language(e.catalog.DefaultLanguage())
	var want []handlers.BotCommand
	for _, id := range [][2]string{
		{"start", i18n.MsgCommandStart}, {"verify", i18n.MsgCommandVerify}, {"status", i18n.MsgCommandStatus},
		{"language", i18n.MsgCommandLanguage}, {"help", i18n.MsgCommandHelp}, {"cancel", i18n.MsgCommandCancel},
		{"delete_my_data", i18n.MsgCommandDeleteMyData}, {"kyc_stats", i18n.MsgCommandKycStats}, {"kyc_status", i18n.MsgCommandKycStatus},
		{"kyc_reset", i18n.MsgCommandKycReset}, {"kyc_delete", i18n.MsgCommandKycDelete}, {"kyc_revoke", i18n.MsgCommandKycRevoke}, {"kyc_resend", i18n.MsgCommandKycResend},
	} {
		want = append(want, handlers.BotCommand{Command: id[0], Description: l.Text(id[1], nil)})
	}
	got := e.tg.UserMenus()
	if len(got) != 2 || got[0].To != (handlers.User{ID: adminID, AccessHash: 4242}) || got[1].To != (handlers.User{ID: unknown}) {
		t.Fatalf("peer-scope registrations = %+v, want the admin with its hash and the unknown one without", got)
	}
	for _, c := range got {
		if c.LangCode != "" || !slices.Equal(c.Commands, want) {
			t.Errorf("%d: lang %q commands %+v, want %+v", c.To.ID, c.LangCode, c.Commands, want)
		}
	}
	if logs := e.logs.String(); !strings.Contains(logs, "cannot register the admin commands") || !strings.Contains(logs, "admin_id=778") {
		t.Errorf("the failure is not logged:\n%s", logs)
	}

	// A failed lookup is logged, and the commands registered without a hash.
	e.tg.ClearMenus()
	e.tg.SetResolveErr(errors.New("redis: connection refused"))
	if err := e.conv.SetCommands(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.tg.UserMenus(); len(got) != 2 || got[0].To != (handlers.User{ID: adminID}) {
		t.Errorf("peer-scope registrations after failed lookups = %+v", got)
	}
	if !strings.Contains(e.logs.String(), "cannot look up how to reach an admin") {
		t.Error("the failed lookup is not logged")
	}

	// Without admins nothing is registered in their chats.
	e.tg.ClearMenus()
	e.cmds.cfg.Admins = nil
	if err := e.conv.SetCommands(e.ctx); err != nil || len(e.tg.UserMenus()) != 0 {
		t.Errorf("without admins: %v, %+v", err, e.tg.UserMenus())
	}
}

func TestLogNothingPersonal(t *testing.T) {
	e := newEnv(t, []string{level})
	for _, text := range []string{
		"/kyc_status 38001 Zephyrine",
		"/kyc_reset 38001 Quillbottom",
		"/kyc_reset Zephyrine",
		"/kyc_delete DL7782311XQ",
	} {
		e.must(adminID, "en", text)
		e.must(stranger, "en", text)
	}
	for _, data := range []string{"kyc:del:Zephyrine", "kycdel:Quillbottom:1"} {
		if _, err := e.tap(adminID, "en", data); err != nil {
			t.Fatal(err)
		}
	}
	audit := fmt.Sprintf("%+v", e.allAudit())
	for _, s := range []string{"Zephyrine", "Quillbottom", "DL7782311XQ"} {
		if strings.Contains(e.logs.String(), s) {
			t.Errorf("the logs contain %q:\n%s", s, e.logs)
		}
		if strings.Contains(audit, s) {
			t.Errorf("the audit trail contains %q: %s", s, audit)
		}
	}
}

func TestNew(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("an empty config was accepted")
	}
	e := newEnv(t, []string{level})
	c, err := New(Config{Store: e.adapter, Telegram: e.tg, Catalog: e.catalog})
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.Now == nil || c.cfg.Log == nil {
		t.Errorf("defaults not filled: %+v", c.cfg)
	}
	// Without admins, every admin command is refused.
	if err := c.Command(e.ctx, e.message(adminID, "en", "/kyc_stats"), cmdKycStats, nil); err != nil {
		t.Fatal(err)
	}
	if got := e.last(adminID).Text; got != e.text("en", i18n.MsgHelpNotUnderstood, nil) {
		t.Errorf("answer = %q", got)
	}
	if got, want := Names(), []string{"kyc_stats", "kyc_status", "kyc_reset", "kyc_delete", "kyc_revoke", "kyc_resend"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	for name, want := range map[string]bool{"kyc_stats": true, "kyc_delete": true, "start": false, "kyc_": false} {
		if got := c.Handles(name); got != want {
			t.Errorf("Handles(%q) = %v", name, got)
		}
	}
}
