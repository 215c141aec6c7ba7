package tests

import (
	"context"
	"testing"
	"time"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/i18n"
)

// TestBackPressure: with every handler slot taken (WithConcurrency(1)
// and a slow download), a dozen more messages arrive; the bot catches up
// once the download is done: the submission is verified and every
// message answered.
func TestBackPressure(t *testing.T) {
	w := newWorld(t, worldOptions{bot: []bot.Option{bot.WithConcurrency(1), bot.WithShutdownTimeout(5 * time.Second)}})
	ctx := testContext(t)
	a, b := w.user("en", nil), w.user("en", nil)
	link := w.requestLink(ctx, a)
	if _, err := b.Start(ctx, w.Account.Username, ""); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the greeting and the request
		w.next(ctx, b)
	}
	w.shareSlowly(ctx, a, link, 4<<10) // a's submission holds the only slot a few seconds
	const n = 15
	for range n {
		if err := b.Send(ctx, w.Account.ID, "/help"); err != nil {
			t.Fatal(err)
		}
	}
	w.Sandbox.SetBandwidth(0)
	wctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	m, err := a.WaitMessage(wctx, w.notReceived)
	answered := 0
	for err == nil && answered < n {
		if _, err = b.WaitMessage(wctx, w.notReceived); err == nil {
			answered++
		}
	}
	if err != nil || answered < n || m.Text != w.text("en", i18n.MsgResultVerified, nil) {
		// Until bot/updhook.go, the handlers' own calls waited for the
		// updates manager's queue, full while its loop waited for a free
		// slot: the bot hung for good (BenchmarkLoad200 did).
		t.Fatalf("the bot hung: verdict %q, %d of %d messages answered (%v)", m.Text, answered, n, err)
	}
}
