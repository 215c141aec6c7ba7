package sandbox

import (
	"context"
	"testing"
	"time"

	"github.com/gotd/td/tg"
)

// sentID returns the message ID of a messages.sendMessage answer.
func sentID(t testing.TB, res tg.UpdatesClass) int {
	t.Helper()
	updates, _, _, ok := updatesOf(res)
	if ok {
		for _, u := range updates {
			if m, ok := u.(*tg.UpdateMessageID); ok {
				return m.ID
			}
		}
	}
	t.Fatalf("no updateMessageID in %T", res)
	return 0
}

// startChat has user start a chat with the bot and returns the user as the
// bot's input peer.
func startChat(ctx context.Context, t testing.TB, b *testBot, user *SimUser) *tg.InputPeerUser {
	t.Helper()
	if _, err := user.Start(ctx, b.bot.Username, ""); err != nil {
		t.Fatal(err)
	}
	for {
		in, err := b.next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if u, ok := in.entities.Users[user.User.ID]; ok {
			return &tg.InputPeerUser{UserID: u.ID, AccessHash: u.AccessHash}
		}
	}
}

// nextText waits for the user's next incoming message.
func nextText(ctx context.Context, t testing.TB, u *SimUser) string {
	t.Helper()
	m, err := u.WaitMessage(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m.Text
}

func botPts(ctx context.Context, t testing.TB, api *tg.Client) int {
	t.Helper()
	s, err := api.UpdatesGetState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s.Pts
}

// A random_id sends one message, whichever session of the account uses it
// and however often: repeats answer the first message, and a repeat while
// the first call runs answers 500 RANDOM_ID_DUPLICATE.
func TestRandomIDSendsOnce(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 90*time.Second)
	sb := startSandbox(t, Options{})
	bot, _, _ := addTestBot(t, sb, "kyc_random_bot")
	// Two instances of the bot, each with its own login.
	b1, b2 := newTestBot(t, sb, bot), newTestBot(t, sb, bot)
	b1.start(ctx)
	b2.start(ctx)
	ada, err := sb.NewSimUser(ctx, UserSpec{Phone: "15550000501"}, SimUserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ada.Close() })
	bob, err := sb.NewSimUser(ctx, UserSpec{Phone: "15550000502"}, SimUserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bob.Close() })
	toAda := startChat(ctx, t, b1, ada)
	toBob := startChat(ctx, t, b1, bob)
	send := func(b *testBot, peer *tg.InputPeerUser, text string, randomID int64) (tg.UpdatesClass, error) {
		return b.API().MessagesSendMessage(ctx, &tg.MessagesSendMessageRequest{Peer: peer, Message: text, RandomID: randomID})
	}

	// The same random_id from two sessions of the bot, one after the other.
	pts := botPts(ctx, t, b1.API())
	first, err := send(b1, toAda, "once", 42)
	if err != nil {
		t.Fatal(err)
	}
	again, err := send(b2, toAda, "once", 42)
	if err != nil {
		t.Fatalf("the repeat from another session: %v", err)
	}
	if id1, id2 := sentID(t, first), sentID(t, again); id1 != id2 {
		t.Fatalf("the repeat answered message %d, the first call %d", id2, id1)
	}
	if got := botPts(ctx, t, b2.API()); got != pts+1 {
		t.Fatalf("the bot's pts moved from %d to %d, want one new update", pts, got)
	}
	if _, err := send(b1, toAda, "marker 1", 43); err != nil {
		t.Fatal(err)
	}
	if got := nextText(ctx, t, ada); got != "once" {
		t.Fatalf("Ada got %q, want %q", got, "once")
	}
	if got := nextText(ctx, t, ada); got != "marker 1" {
		t.Fatalf("after the message Ada got %q, want the marker: the repeat was delivered", got)
	}

	// The random_id with another peer is another message.
	other, err := send(b1, toBob, "to Bob", 42)
	if err != nil {
		t.Fatal(err)
	}
	if sentID(t, other) == sentID(t, first) {
		t.Fatal("a message to another peer with the same random_id answered the first message")
	}
	if got := nextText(ctx, t, bob); got != "to Bob" {
		t.Fatalf("Bob got %q", got)
	}

	// A repeat while the first call runs.
	sb.SetLatency(tg.MessagesSendMessageRequestTypeID, 2*time.Second)
	slow := make(chan error, 1)
	var slowRes tg.UpdatesClass
	go func() {
		var err error
		slowRes, err = send(b1, toAda, "slow", 77)
		slow <- err
	}()
	claimed := func() bool {
		sb.mu.Lock()
		defer sb.mu.Unlock()
		_, ok := sb.w.accounts[bot.ID].sent[sentKey{peer: ada.User.ID, randomID: 77}]
		return ok
	}
	for !claimed() {
		select {
		case <-ctx.Done():
			t.Fatal("the slow call never reached the server")
		case <-time.After(10 * time.Millisecond):
		}
	}
	if _, err := send(b2, toAda, "slow", 77); !isRPCError(err, 500, "RANDOM_ID_DUPLICATE") {
		t.Fatalf("repeat while the first call runs: %v, want 500 RANDOM_ID_DUPLICATE", err)
	}
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	sb.SetLatency(tg.MessagesSendMessageRequestTypeID, 0)
	after, err := send(b2, toAda, "slow", 77)
	if err != nil {
		t.Fatal(err)
	}
	if sentID(t, after) != sentID(t, slowRes) {
		t.Fatal("the repeat after the slow call answered another message")
	}
	if _, err := send(b1, toAda, "marker 2", 78); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"slow", "marker 2"} {
		if got := nextText(ctx, t, ada); got != want {
			t.Fatalf("Ada got %q, want %q", got, want)
		}
	}
}
