package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot/delivery"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox/demo"
)

// standardSecret is the whsec_ secret of the Standard Webhooks tests (the
// base64 of 32 bytes).
var standardSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("kycbot e2e standard webhooks key"))

// nodeReceiver is the business's backend built on the standardwebhooks
// npm library (tests/testdata/standardwebhooks/receiver.js): it verifies
// every request and reports each as a line.
type nodeReceiver struct {
	url string

	mu      sync.Mutex
	lines   []nodeLine
	changed chan struct{}
}

type nodeLine struct {
	ID     string `json:"id"`
	OK     bool   `json:"ok"`
	Kind   string `json:"kind"`
	UserID int64  `json:"user_id"`
	Error  string `json:"error"`
}

// startNodeReceiver installs the library in the test's folder when it is
// missing (npm ci, from the committed lockfile) and starts the receiver.
// Without node or npm, or when the install fails, the test fails under
// CI and is skipped elsewhere.
func startNodeReceiver(t *testing.T, ctx context.Context, secret string) *nodeReceiver {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "standardwebhooks"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable("node is not installed: the Standard Webhooks receiver needs it (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "standardwebhooks")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			unavailable("npm is not installed: it installs the standardwebhooks library (%v)", err)
		}
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			unavailable("npm ci in %s failed: %v\n%s", dir, err, out)
		}
	}
	cmd := exec.CommandContext(ctx, node, "receiver.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WEBHOOK_SECRET="+secret)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	if !sc.Scan() {
		t.Fatalf("the node receiver did not start: %v", sc.Err())
	}
	var first struct{ Port int }
	if err := json.Unmarshal(sc.Bytes(), &first); err != nil || first.Port == 0 {
		t.Fatalf("the node receiver said %q", sc.Text())
	}
	r := &nodeReceiver{url: fmt.Sprintf("http://127.0.0.1:%d/kyc", first.Port), changed: make(chan struct{})}
	go func() {
		for sc.Scan() {
			var l nodeLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				continue
			}
			r.mu.Lock()
			r.lines = append(r.lines, l)
			close(r.changed)
			r.changed = make(chan struct{})
			r.mu.Unlock()
		}
	}()
	return r
}

// waitFor waits until cond holds on the lines so far.
func (r *nodeReceiver) waitFor(t *testing.T, ctx context.Context, what string, cond func([]nodeLine) bool) []nodeLine {
	t.Helper()
	for {
		r.mu.Lock()
		lines, ch := append([]nodeLine(nil), r.lines...), r.changed
		r.mu.Unlock()
		if cond(lines) {
			return lines
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("node receiver: %s did not happen; it got %+v", what, lines)
		}
	}
}

// TestStandardWebhooks: with delivery.signature both, a receiver built on
// the standardwebhooks npm library verifies every event kycbot sends (and
// refuses a forged one); an admin's /kyc_resend sends the verified event
// again; a user's events (verified, its resend, erased) arrive once
// each, in that order.
func TestStandardWebhooks(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	rcv := startNodeReceiver(t, ctx, standardSecret)

	// The receiver refuses what another key signed: the check can fail.
	body := []byte(`{"kind":"verification.verified","user_id":1}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rcv.url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	delivery.SetStandardHeaders(req, [][]byte{[]byte("another key, not the receiver's!")}, "evt_forged", time.Now(), body)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a forged request was answered %d, want 400", res.StatusCode)
	}

	w := newWorld(t, worldOptions{configYAML: demo.DefaultConfig() + fmt.Sprintf(`delivery:
  webhook_url: %q
  webhook_secret: %q
  signature: both
  give_up_after: 24h
`, rcv.url, standardSecret)})
	u := w.user("en", nil)
	w.verifyUser(ctx, u, "crm-sw")
	// /status: verified, until the earliest expiry of the documents shared.
	var until time.Time
	for _, el := range u.Profile() {
		if d, err := passport.ParseDate(el.Fields["expiry_date"]); err == nil && (until.IsZero() || d.Time().Before(until)) {
			until = d.Time()
		}
	}
	if until.IsZero() {
		t.Fatal("the sample user's documents have no expiry date")
	}
	if err := u.Send(ctx, w.Account.ID, "/status"); err != nil {
		t.Fatal(err)
	}
	loc := w.Bot().Catalog().Language("en")
	if m := w.next(ctx, u); !strings.Contains(m.Text, "until "+loc.Date(until)) {
		t.Errorf("/status answered %q, want it to say verified until %s", m.Text, loc.Date(until))
	}
	// Erasing drops the user's events not yet delivered: the verified
	// one first reaches the backend.
	rcv.waitFor(t, ctx, "the verified event", func(lines []nodeLine) bool {
		for _, l := range lines {
			if l.UserID == u.User.ID && l.Kind == delivery.KindVerified {
				return true
			}
		}
		return false
	})
	// An admin sends it again: /kyc_resend, through the bot.
	verified := rcv.waitFor(t, ctx, "", func([]nodeLine) bool { return true })
	var vid string
	for _, l := range verified {
		if l.UserID == u.User.ID {
			vid = l.ID
		}
	}
	admin := w.admin(ctx)
	if err := admin.Send(ctx, w.Account.ID, "/kyc_resend "+vid); err != nil {
		t.Fatal(err)
	}
	if m, want := w.next(ctx, admin), w.text("en", i18n.MsgAdminResendDone, map[string]any{"Event": vid, "Kind": delivery.KindVerified,
		"User": fmt.Sprint(u.User.ID)}); m.Text != want {
		t.Fatalf("/kyc_resend answered %q, want %q", m.Text, want)
	}
	if err := admin.Send(ctx, w.Account.ID, "/kyc_resend evt_00000000000000000000000000000000"); err != nil {
		t.Fatal(err)
	}
	if m, want := w.next(ctx, admin), w.text("en", i18n.MsgAdminResendUnknown, map[string]any{"Event": "evt_00000000000000000000000000000000"}); m.Text != want {
		t.Fatalf("/kyc_resend of an unknown event answered %q, want %q", m.Text, want)
	}
	rcv.waitFor(t, ctx, "the resent event", func(lines []nodeLine) bool {
		n := 0
		for _, l := range lines {
			if l.ID == vid {
				n++
			}
		}
		return n == 2
	})
	if err := u.Send(ctx, w.Account.ID, "/delete_my_data"); err != nil {
		t.Fatal(err)
	}
	ask := w.next(ctx, u)
	yes, ok := ask.Button(w.text("en", i18n.MsgButtonEraseYes, nil))
	if !ok {
		t.Fatalf("no confirmation button: %+v", ask)
	}
	if _, err := u.Press(ctx, ask, yes); err != nil {
		t.Fatal(err)
	}
	if m := w.next(ctx, u); m.Text != w.text("en", i18n.MsgEraseDone, nil) {
		t.Fatalf("the user was told %q after confirming the erasure", m.Text)
	}

	ofUser := func(lines []nodeLine) []nodeLine {
		var out []nodeLine
		for _, l := range lines {
			if l.UserID == u.User.ID || !l.OK && l.ID != "evt_forged" {
				out = append(out, l)
			}
		}
		return out
	}
	rcv.waitFor(t, ctx, "the erased event", func(lines []nodeLine) bool {
		for _, l := range ofUser(lines) {
			if l.Kind == delivery.KindErased {
				return true
			}
		}
		return false
	})
	time.Sleep(2 * time.Second) // a duplicate would come by now (the senders poll every second)
	rcv.mu.Lock()
	got := ofUser(rcv.lines)
	rcv.mu.Unlock()
	var kinds []string
	for _, l := range got {
		if !l.OK {
			t.Errorf("the standardwebhooks library refused event %s: %s", l.ID, l.Error)
		}
		kinds = append(kinds, l.Kind)
	}
	if want := delivery.KindVerified + "," + delivery.KindVerified + "," + delivery.KindErased; strings.Join(kinds, ",") != want {
		t.Errorf("the user's events arrived as %v, want %s: verified, its resend, erased, each once, in order", kinds, want)
	}
}
