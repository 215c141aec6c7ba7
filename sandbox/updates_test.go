package sandbox

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gotd/td/tg"
)

func expectText(ctx context.Context, t *testing.T, b *testBot, want string) {
	t.Helper()
	for {
		in, err := b.next(ctx)
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if in.msg == nil {
			continue
		}
		if in.msg.Message != want {
			t.Fatalf("bot got %q, want %q", in.msg.Message, want)
		}
		return
	}
}

// Test 4: a bot that stops and comes back gets what it missed through
// updates.getDifference, with its session and update state kept; a dropped
// connection is survived too.
func TestBotCatchesUpAfterRestart(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 45*time.Second)
	sb := startSandbox(t, Options{})
	bot, _, _ := addTestBot(t, sb, "kyc_restart_bot")
	b := newTestBot(t, sb, bot)
	b.start(ctx)

	user, err := sb.NewSimUser(ctx, UserSpec{Phone: "15550000003"}, SimUserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = user.Close() })
	if _, err := user.Start(ctx, "kyc_restart_bot", ""); err != nil {
		t.Fatal(err)
	}
	expectText(ctx, t, b, "/start")
	ptsBefore := b.state.pts(bot.ID)
	if ptsBefore == 0 {
		t.Fatal("the bot's update state was not stored")
	}

	b.stop()
	// A client that connects and leaves without a byte does not take the
	// DC down (tgtest stops serving on any accept error).
	c, err := net.Dial("tcp", sb.Addr(MainDC).String())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	for _, text := range []string{"missed 1", "missed 2", "missed 3"} {
		if err := user.Send(ctx, bot.ID, text); err != nil {
			t.Fatal(err)
		}
	}
	diffs := sb.Calls(tg.UpdatesGetDifferenceRequestTypeID)
	b.start(ctx) // same session storage and state storage
	for _, text := range []string{"missed 1", "missed 2", "missed 3"} {
		expectText(ctx, t, b, text)
	}
	if sb.Calls(tg.UpdatesGetDifferenceRequestTypeID) == diffs {
		t.Fatal("the missed messages did not come through updates.getDifference")
	}
	if got := b.state.pts(bot.ID); got != ptsBefore+3 {
		t.Fatalf("bot pts %d, want %d", got, ptsBefore+3)
	}

	// Live delivery still works, and survives a dropped connection.
	if err := user.Send(ctx, bot.ID, "live"); err != nil {
		t.Fatal(err)
	}
	expectText(ctx, t, b, "live")
	if n := sb.DropConnections(MainDC); n == 0 {
		t.Fatal("no connection to drop")
	}
	// gotd reconnects on its own, but a request written while the
	// connection breaks fails with the write error (it is not retried):
	// retry as an app would.
	for attempt := 1; ; attempt++ {
		err := user.Send(ctx, bot.ID, "after drop")
		if err == nil {
			break
		}
		if attempt == 5 {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	expectText(ctx, t, b, "after drop")
}
