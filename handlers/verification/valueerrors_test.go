package verification

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/tgerr"

	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/i18n"
)

// TestValueErrorsRetried: a failed users.setSecureValueErrors is tried
// again after a pause (longer when Telegram asks for a FLOOD_WAIT); when
// every attempt fails, or Telegram asks to wait too long, the chat
// message says the problems could not be marked in the Passport form and
// lists them itself.
func TestValueErrorsRetried(t *testing.T) {
	transient := errors.New("rpc error code 500: INTERNAL")
	for _, tt := range []struct {
		name     string
		failures int
		err      error
		calls    int  // SetSecureValueErrors calls made
		marked   bool // the errors reached the Passport form
	}{
		{name: "first attempt works", calls: 1, marked: true},
		{name: "two failures, then it works", failures: 2, err: transient, calls: 3, marked: true},
		{name: "a short FLOOD_WAIT waited out", failures: 1, err: tgerr.New(420, "FLOOD_WAIT_1"), calls: 2, marked: true},
		{name: "every attempt fails", failures: 100, err: transient, calls: 4},
		{name: "FLOOD_WAIT too long", failures: 100, err: tgerr.New(420, "FLOOD_WAIT_3600"), calls: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.flow.cfg.ValueErrorsPauses = []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond}
			e.tg.FailSecureValueErrors(tt.failures, tt.err)
			const user = int64(1020)
			p := goodProfile(t)
			p.Expiry = "01.01.2025"
			req := e.issue(user, "de")
			out := e.process(e.submission(e.share(p, req.Nonce, nil), user, "de"))
			if out.Result != handlers.SubmissionNeedsFixes {
				t.Fatalf("outcome = %+v, want needs fixes", out)
			}
			if got := e.tg.SecureValueErrorsCalls(); got != tt.calls {
				t.Errorf("setSecureValueErrors called %d times, want %d", got, tt.calls)
			}
			if got := len(e.tg.SecureValueErrors()); got != map[bool]int{true: 1}[tt.marked] {
				t.Errorf("setSecureValueErrors succeeded %d times, marked = %v", got, tt.marked)
			}
			de := e.catalog.Language("de")
			header := i18n.MsgResultFixHeader
			if !tt.marked {
				header = i18n.MsgResultFixUnmarked
			}
			problem := de.Problem("expired", "driver_license", "data.expiry_date", map[string]string{"date": "01.01.2025"})
			want := de.Plural(header, 1, nil) + "\n• " + problem
			msgs := e.tg.SendsTo(user)
			if len(msgs) != 1 || msgs[0].Text != want {
				t.Fatalf("chat messages = %q, want %q", handlerstest.Texts(msgs), want)
			}
			if unmarked := strings.Contains(msgs[0].Text, "nicht markieren"); unmarked == tt.marked {
				t.Errorf("the message says the problems were not marked: %v, want %v", unmarked, !tt.marked)
			}
			if len(msgs[0].Buttons()) != 1 {
				t.Error("the message lacks the button to try again")
			}
		})
	}
}
