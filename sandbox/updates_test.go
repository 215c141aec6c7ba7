package sandbox

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/telegram"
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

// A simulated user whose connection missed pushes gets updatesTooLong,
// fetches the difference from its own update state and shows what it
// missed: new messages and edits, once each, even those also pushed while
// it fetched, and not its own messages.
func TestSimUserCatchesUp(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 45*time.Second)
	sb := startSandbox(t, Options{})
	bot, _, _ := addTestBot(t, sb, "kyc_catchup_bot")
	b := newTestBot(t, sb, bot)
	b.start(ctx)

	// The user's getDifference waits for the test to open the gate.
	asked, gate := make(chan struct{}, 1), make(chan struct{})
	hold := telegram.MiddlewareFunc(func(next tg.Invoker) telegram.InvokeFunc {
		return func(ctx context.Context, input bin.Encoder, output bin.Decoder) error {
			if _, ok := input.(*tg.UpdatesGetDifferenceRequest); ok {
				select {
				case asked <- struct{}{}:
				default:
				}
				select {
				case <-gate:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return next.Invoke(ctx, input, output)
		}
	})
	user, err := sb.NewSimUser(ctx, UserSpec{Phone: "15550000031"}, SimUserOptions{Middlewares: []telegram.Middleware{hold}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = user.Close() })
	if _, err := user.Start(ctx, "kyc_catchup_bot", ""); err != nil {
		t.Fatal(err)
	}
	in, err := b.next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	say := func(text string) {
		t.Helper()
		if _, err := b.Sender().Answer(in.entities, in.update).Text(ctx, text); err != nil {
			t.Fatal(err)
		}
	}
	say("hello")
	if m, err := user.WaitMessage(ctx, nil); err != nil || m.Text != "hello" {
		t.Fatalf("got %+v (%v), want hello", m, err)
	}
	helloID := lastBotMessageID(t, sb, bot.ID)

	// The user's sessions are gone (as after a dropped connection): the
	// next pushes reach no one.
	sb.mu.Lock()
	acc := sb.w.accounts[user.User.ID]
	clear(acc.sessions)
	sb.mu.Unlock()
	say("missed 1")
	say("missed 2")
	if _, err := b.API().MessagesEditMessage(ctx, &tg.MessagesEditMessageRequest{
		Peer: &tg.InputPeerUser{UserID: user.User.ID, AccessHash: in.entities.Users[user.User.ID].AccessHash},
		ID:   helloID, Message: "hello, edited",
	}); err != nil {
		t.Fatal(err)
	}
	for {
		sb.mu.Lock()
		missed := acc.missed && len(acc.outbox) == 0
		sb.mu.Unlock()
		if missed {
			break
		}
		if ctx.Err() != nil {
			shown := len(user.Messages())
			sb.mu.Lock()
			defer sb.mu.Unlock()
			t.Fatalf("the pushes were not missed (missed %v, %d pushes queued, %d sessions; the app shows %d messages)",
				acc.missed, len(acc.outbox), len(acc.sessions), shown)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// The user's next request brings the session back: the server sends
	// updatesTooLong and the app asks for the difference.
	if err := user.Send(ctx, bot.ID, "back"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-asked:
	case <-ctx.Done():
		t.Fatal("the user's app did not fetch the difference")
	}
	expectText(ctx, t, b, "back")
	// Pushed while the app fetches: it is in the difference too.
	say("live")
	if m, err := user.WaitMessage(ctx, nil); err != nil || m.Text != "live" {
		t.Fatalf("got %+v (%v), want live", m, err)
	}
	close(gate)
	for _, want := range []string{"missed 1", "missed 2", "hello, edited"} {
		m, err := user.WaitMessage(ctx, nil)
		if err != nil {
			t.Fatalf("waiting for %q: %v", want, err)
		}
		if m.Text != want || m.Peer != bot.ID {
			t.Fatalf("got %+v, want %q", m, want)
		}
		if m.Edited != (want == "hello, edited") {
			t.Fatalf("%q: edited %v", want, m.Edited)
		}
	}
	var texts []string
	for _, m := range user.Messages() {
		texts = append(texts, m.Text)
	}
	if want := []string{"hello", "live", "missed 1", "missed 2", "hello, edited"}; !slices.Equal(texts, want) {
		t.Fatalf("the app shows %q, want %q", texts, want)
	}
}
