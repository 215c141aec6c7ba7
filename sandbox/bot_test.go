package sandbox

import (
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/telegram/message/markup"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
)

// Test 1: a plain gotd bot logs in with its token, receives a simulated
// user's /start and answers with an inline URL button the user reads.
func TestBotAnswersWithURLButton(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 45*time.Second)
	sb := startSandbox(t, Options{})
	bot, _, _ := addTestBot(t, sb, "kyc_test_bot")
	b := newTestBot(t, sb, bot)
	b.start(ctx)

	user, err := sb.NewSimUser(ctx, UserSpec{Phone: "15550000001", FirstName: "Ada", LangCode: "en"}, SimUserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = user.Close() })

	if _, err := user.Start(ctx, "@kyc_test_bot", "ref-42"); err != nil {
		t.Fatal(err)
	}
	in, err := b.next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if in.msg == nil || in.msg.Message != "/start ref-42" {
		t.Fatalf("bot got %+v, want /start ref-42", in.msg)
	}
	from, ok := in.msg.FromID.(*tg.PeerUser)
	if !ok || from.UserID != user.User.ID {
		t.Fatalf("message from %v, want user %d", in.msg.FromID, user.User.ID)
	}
	if _, ok := in.entities.Users[user.User.ID]; !ok {
		t.Fatal("the update does not carry the user (access hash)")
	}

	if _, err := b.API().MessagesSetTyping(ctx, &tg.MessagesSetTypingRequest{
		Peer:   &tg.InputPeerUser{UserID: user.User.ID, AccessHash: in.entities.Users[user.User.ID].AccessHash},
		Action: &tg.SendMessageTypingAction{},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Sender().Answer(in.entities, in.update).
		// Builder.Row replaces the keyboard with one row: two rows need
		// Markup(InlineKeyboard(...)).
		Markup(markup.InlineKeyboard(
			markup.InlineButtonRow(markup.URL("Verify my identity", "https://kyc.example.com/r/abc")),
			markup.InlineButtonRow(markup.Callback("Help", []byte("help"))),
		)).
		Text(ctx, "Please verify: you will need your cloud password."); err != nil {
		t.Fatal(err)
	}

	m, err := user.WaitMessage(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Peer != bot.ID || !strings.HasPrefix(m.Text, "Please verify") {
		t.Fatalf("user got %+v", m)
	}
	btn, ok := m.Button("Verify")
	if !ok || btn.URL != "https://kyc.example.com/r/abc" {
		t.Fatalf("no URL button in %+v", m.Buttons)
	}

	// Callback button: the bot answers the query, the user sees the answer.
	help, ok := m.Button("Help")
	if !ok {
		t.Fatal("no callback button")
	}
	go func() {
		select {
		case q := <-b.callbacks:
			_, _ = b.API().MessagesSetBotCallbackAnswer(ctx, &tg.MessagesSetBotCallbackAnswerRequest{
				QueryID: q.QueryID, Message: "help: " + string(q.Data),
			})
		case <-ctx.Done():
		}
	}()
	ans, err := user.Press(ctx, m, help)
	if err != nil {
		t.Fatal(err)
	}
	if ans.Message != "help: help" {
		t.Fatalf("callback answer %q", ans.Message)
	}

	// Editing the message reaches the user as an edit.
	if _, err := b.API().MessagesEditMessage(ctx, &tg.MessagesEditMessageRequest{
		Peer: &tg.InputPeerUser{UserID: user.User.ID, AccessHash: in.entities.Users[user.User.ID].AccessHash},
		ID:   lastBotMessageID(t, sb, bot.ID), Message: "Link expired",
	}); err != nil {
		t.Fatal(err)
	}
	edited, err := user.WaitMessage(ctx, func(m ChatMessage) bool { return m.Edited })
	if err != nil {
		t.Fatal(err)
	}
	if edited.Text != "Link expired" || edited.ID != m.ID {
		t.Fatalf("edit: %+v", edited)
	}
	// As Telegram: the same edit again is MESSAGE_NOT_MODIFIED, a message
	// that is not there MESSAGE_ID_INVALID; neither reaches the user.
	peer := &tg.InputPeerUser{UserID: user.User.ID, AccessHash: in.entities.Users[user.User.ID].AccessHash}
	for _, tt := range []struct {
		id   int
		want string
	}{{lastBotMessageID(t, sb, bot.ID), "MESSAGE_NOT_MODIFIED"}, {lastBotMessageID(t, sb, bot.ID) + 100, "MESSAGE_ID_INVALID"}} {
		_, err := b.API().MessagesEditMessage(ctx, &tg.MessagesEditMessageRequest{Peer: peer, ID: tt.id, Message: "Link expired"})
		if !tgerr.Is(err, tt.want) {
			t.Errorf("edit of message %d: %v, want %s", tt.id, err, tt.want)
		}
	}
	if n := len(user.Messages()); n != 2 {
		t.Errorf("the user has %d messages, want the message and its one edit", n)
	}

	// Commands are stored.
	if _, err := b.API().BotsSetBotCommands(ctx, &tg.BotsSetBotCommandsRequest{
		Scope: &tg.BotCommandScopeDefault{}, LangCode: "en",
		Commands: []tg.BotCommand{{Command: "verify", Description: "Verify your identity"}},
	}); err != nil {
		t.Fatal(err)
	}
	if cmds := sb.BotCommands(bot.ID); len(cmds) != 1 || cmds[0].Command != "verify" {
		t.Fatalf("commands %+v", cmds)
	}
}

// lastBotMessageID returns the newest message ID in a bot's box.
func lastBotMessageID(t *testing.T, sb *Sandbox, botID int64) int {
	t.Helper()
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.w.accounts[botID].nextMsgID - 1
}
