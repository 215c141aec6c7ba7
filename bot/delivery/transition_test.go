package delivery

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/handlers/verification"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

func TestFromTransition(t *testing.T) {
	at := time.Date(2026, 3, 14, 9, 0, 0, 700, time.UTC)
	tests := []struct {
		name     string
		tr       Transition
		decision string
		status   string // the status as JSON
		err      string
	}{
		{"expired", Transition{Kind: KindExpired, UserID: 5, Level: "basic", Ref: "r", At: at, Key: "exp:1", State: "expired",
			Problems: []Problem{{Element: "passport", Target: "data.expiry_date", Code: "expired"}}},
			DecisionExpired, `{"level":"basic","state":"expired"}`, ""},
		{"revoked", Transition{Kind: KindRevoked, UserID: 5, Level: "full", At: at, Key: "upd:9", State: "revoked"},
			DecisionRevoked, `{"level":"full","state":"revoked"}`, ""},
		{"erased", Transition{Kind: KindErased, UserID: 5, At: at, Key: "erased:1", State: "none"},
			DecisionErased, `{"level":"","state":"none"}`, ""},
		{"verified with a validity", Transition{Kind: KindVerified, UserID: 5, Level: "basic", At: at, Key: "n", State: "verified",
			ValidUntil: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)},
			DecisionVerified, `{"level":"basic","state":"verified","valid_until":"2031-01-01"}`, ""},
		{"unknown kind", Transition{Kind: "verification.paused", UserID: 5, Key: "k"}, "", "", "is not one of"},
		{"no user", Transition{Kind: KindExpired, Key: "k"}, "", "", "no user ID"},
		{"no key", Transition{Kind: KindExpired, UserID: 5}, "", "", "key must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := FromTransition(tt.tr)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			st, _ := json.Marshal(ev.Status)
			if ev.Decision != tt.decision || ev.Kind != tt.tr.Kind || string(st) != tt.status || !ev.Time.Equal(at.Truncate(time.Second)) ||
				ev.Schema != Schema || ev.Problems == nil {
				t.Errorf("event %+v, status %s", ev, st)
			}
			again, _ := FromTransition(tt.tr)
			other := tt.tr
			other.Key += "x"
			changed, _ := FromTransition(other)
			if again.EventID != ev.EventID || changed.EventID == ev.EventID || !strings.HasPrefix(ev.EventID, "evt_") {
				t.Errorf("event IDs %s, %s, %s: want the same for the same key, another for another", ev.EventID, again.EventID, changed.EventID)
			}
		})
	}
}

func TestFromNeedsFixes(t *testing.T) {
	n := verification.NeedsFixes{UserID: 77, Level: "basic", Ref: "r1", At: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC), NonceHash: sha256Hex("n1"),
		Problems: []verify.Problem{{Element: passport.TypePassport, Target: passport.TargetOf(passport.TargetSelfie), Code: verify.CodeMissingSelfie}}}
	ev := FromNeedsFixes(n)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"kind":"verification.needs_fix"`, `"decision":"needs_fix"`, `"problems":[{"element":"passport","target":"selfie","code":"missing_selfie"}]`,
		`"status":{"level":"basic","state":"needs_fixes"}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("body %s lacks %s", b, want)
		}
	}
	if ev.EventID != NewEventID(KindNeedsFix, 77, sha256Hex("n1")) || ev.EventID == NewEventID(KindVerified, 77, sha256Hex("n1")) {
		t.Errorf("event ID %s: want one of its own, from the submission", ev.EventID)
	}
}
