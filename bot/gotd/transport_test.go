package gotd

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgmock"
	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/handlers/handlerstest"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/tests/testkit"
)

// offlineRedis is a client to the test Redis for the tests that never
// reach it (nothing to look up).
func offlineRedis(t *testing.T) redis.UniversalClient {
	t.Helper()
	c, _ := testkit.NewClient()
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// transport returns a Transport of a new bot on rdb, talking to m.
func transport(t *testing.T, rdb redis.UniversalClient, m *tgmock.Mock) (*Transport, *bot.Bot) {
	t.Helper()
	kyc := newBot(t, rdb, nil)
	return NewTransport(kyc, tg.NewClient(m)), kyc
}

// sendRequest is the messages.sendMessage Send must make.
func sendRequest(peer *tg.InputPeerUser, text string, randomID int64, rows ...tg.KeyboardInlineButtonRow) *tg.MessagesSendMessageRequest {
	r := &tg.MessagesSendMessageRequest{Peer: peer, Message: text, RandomID: randomID}
	if len(rows) > 0 {
		r.SetReplyMarkup(&tg.ReplyInlineMarkup{Rows: rows})
	}
	return r
}

func urlButton(text, url string) tg.KeyboardInlineButton {
	return tg.KeyboardInlineButton{Text: text, Type: &tg.InlineButtonTypeURL{URL: url}}
}

func callbackButton(text, data string) tg.KeyboardInlineButton {
	return tg.KeyboardInlineButton{Text: text, Type: &tg.InlineButtonTypeCallback{Data: []byte(data)}}
}

// TestSend: messages.sendMessage exactly as Telegram wants it: the peer
// with its access hash, the text, the inline keyboard (URL and callback
// buttons, empty rows dropped, none without buttons) and the random_id of
// the message's key.
func TestSend(t *testing.T) {
	to := handlers.User{ID: 10, AccessHash: 20, LangCode: "en"}
	peer := &tg.InputPeerUser{UserID: 10, AccessHash: 20}
	ids := bot.NewMessageIDs(handlerstest.Key(t))
	tests := []struct {
		name string
		msg  handlers.Message
		want *tg.MessagesSendMessageRequest
	}{
		{"text", handlers.Message{Text: "hello", Key: "1-1:help"}, sendRequest(peer, "hello", ids.RandomID("1-1:help"))},
		{"a URL button", handlers.Message{Text: "share", Key: "1-1:request", Buttons: [][]handlers.Button{{{Text: "Go", URL: "https://kyc.example/passport/x"}}}},
			sendRequest(peer, "share", ids.RandomID("1-1:request"), tg.KeyboardInlineButtonRow{Buttons: []tg.KeyboardInlineButton{
				urlButton("Go", "https://kyc.example/passport/x"),
			}})},
		{"rows of callback buttons", handlers.Message{Text: "choose", Key: "1-2:language", Buttons: [][]handlers.Button{
			{{Text: "English", Data: "kyc:lang:en"}, {Text: "Русский", Data: "kyc:lang:ru", URL: "ignored"}},
			{},
			{{Text: "Page", URL: "https://kyc.example/p"}},
		}}, sendRequest(peer, "choose", ids.RandomID("1-2:language"),
			tg.KeyboardInlineButtonRow{Buttons: []tg.KeyboardInlineButton{
				callbackButton("English", "kyc:lang:en"), callbackButton("Русский", "kyc:lang:ru"),
			}},
			tg.KeyboardInlineButtonRow{Buttons: []tg.KeyboardInlineButton{urlButton("Page", "https://kyc.example/p")}},
		)},
		{"only empty rows", handlers.Message{Text: "plain", Key: "1-3:x", Buttons: [][]handlers.Button{{}}}, sendRequest(peer, "plain", ids.RandomID("1-3:x"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tgmock.NewRequire(t)
			m.ExpectCall(tt.want).ThenResult(&tg.Updates{})
			tr, _ := transport(t, offlineRedis(t), m)
			if err := tr.Send(context.Background(), to, tt.msg); err != nil {
				t.Fatal(err)
			}
			if !m.AllWereMet() {
				t.Error("messages.sendMessage was not called")
			}
		})
	}
}

// captureSends expects n messages.sendMessage calls and records them.
func captureSends(m *tgmock.Mock, n int, got *[]*tg.MessagesSendMessageRequest) {
	for range n {
		m.ExpectFunc(func(b bin.Encoder) {
			r, _ := b.(*tg.MessagesSendMessageRequest)
			*got = append(*got, r)
		}).ThenResult(&tg.Updates{})
	}
}

// TestRandomID: a message's random_id comes from its key, the same in
// every instance of the bot (the same Passport key), so that Telegram
// sends a message sent again once; without a key every send is new.
func TestRandomID(t *testing.T) {
	to := handlers.User{ID: 10, AccessHash: 20}
	rdb := offlineRedis(t)
	m1, m2 := tgmock.NewRequire(t), tgmock.NewRequire(t)
	var got1, got2 []*tg.MessagesSendMessageRequest
	captureSends(m1, 5, &got1)
	captureSends(m2, 1, &got2)
	one, _ := transport(t, rdb, m1)
	other, _ := transport(t, rdb, m2) // another instance
	ctx := context.Background()
	for _, k := range []string{"1-1:verdict", "1-1:verdict", "1-2:verdict", "", ""} {
		must(t, one.Send(ctx, to, handlers.Message{Text: "x", Key: k}))
	}
	must(t, other.Send(ctx, to, handlers.Message{Text: "x", Key: "1-1:verdict"}))
	if len(got1) != 5 || len(got2) != 1 {
		t.Fatalf("%d and %d requests", len(got1), len(got2))
	}
	want := bot.NewMessageIDs(handlerstest.Key(t)).RandomID("1-1:verdict")
	if got1[0].RandomID != want || got1[1].RandomID != want || got2[0].RandomID != want {
		t.Errorf("random_id of the same key: %d, %d and %d in another instance, want %d", got1[0].RandomID, got1[1].RandomID, got2[0].RandomID, want)
	}
	if got1[2].RandomID == want {
		t.Error("another key gave the same random_id")
	}
	if got1[3].RandomID == 0 || got1[4].RandomID == 0 || got1[3].RandomID == got1[4].RandomID || got1[3].RandomID == want {
		t.Errorf("random_id without a key: %d and %d, want random ones", got1[3].RandomID, got1[4].RandomID)
	}
}

// TestSendErrors: a random_id Telegram has seen (the same message sent by
// another call) counts as sent; another error is returned, naming the
// user.
func TestSendErrors(t *testing.T) {
	for _, tc := range []struct {
		rpc     string
		wantErr bool
	}{
		{"RANDOM_ID_DUPLICATE", false},
		{"PEER_ID_INVALID", true},
		{"USER_IS_BLOCKED", true},
	} {
		t.Run(tc.rpc, func(t *testing.T) {
			m := tgmock.NewRequire(t)
			m.Expect().ThenRPCErr(tgerr.New(400, tc.rpc))
			tr, _ := transport(t, offlineRedis(t), m)
			err := tr.Send(context.Background(), handlers.User{ID: 10, AccessHash: 20}, handlers.Message{Text: "x", Key: "1-1:verdict"})
			if !tc.wantErr {
				if err != nil {
					t.Errorf("err = %v, want the message counted as sent", err)
				}
				return
			}
			if !tgerr.Is(err, tc.rpc) || !strings.Contains(err.Error(), "user 10") {
				t.Errorf("err = %v, want the RPC error naming the user", err)
			}
		})
	}
}

// getSelf expects users.getUsers of the bot itself, answered with u.
func getSelf(m *tgmock.Mock, u tg.UserClass) {
	m.ExpectCall(&tg.UsersGetUsersRequest{ID: []tg.InputUserClass{&tg.InputUserSelf{}}}).
		ThenResult(&tg.UserClassVector{Elems: []tg.UserClass{u}})
}

// TestSelf: the bot asks Telegram who it is once; a user account is
// refused.
func TestSelf(t *testing.T) {
	ctx := context.Background()
	t.Run("bot", func(t *testing.T) {
		m := tgmock.NewRequire(t)
		getSelf(m, &tg.User{ID: self.ID, Bot: true, Username: self.Username, AccessHash: 1})
		tr, _ := transport(t, offlineRedis(t), m)
		for range 2 {
			got, err := tr.Self(ctx)
			if err != nil || got != self {
				t.Fatalf("Self = %+v, %v; want %+v", got, err, self)
			}
		}
	})
	t.Run("user account", func(t *testing.T) {
		m := tgmock.NewRequire(t)
		getSelf(m, &tg.User{ID: 42, Username: "someone"})
		tr, _ := transport(t, offlineRedis(t), m)
		if _, err := tr.Self(ctx); err == nil || !strings.Contains(err.Error(), "not a bot") {
			t.Errorf("err = %v, want a refusal of a user account", err)
		}
	})
	t.Run("no user", func(t *testing.T) {
		m := tgmock.NewRequire(t)
		m.Expect().ThenResult(&tg.UserClassVector{})
		tr, _ := transport(t, offlineRedis(t), m)
		if _, err := tr.Self(ctx); err == nil {
			t.Error("an empty answer was accepted")
		}
	})
}

// TestAccessHashes: a user given without an access hash (an admin, a
// user told outside an update) is sent to with the hash the bot's store
// keeps for the bot account; a given hash wins; an unknown user is sent
// as given; when the lookup fails nothing is sent.
func TestAccessHashes(t *testing.T) {
	rdb := testkit.Need(t)
	ctx := context.Background()
	m := tgmock.NewRequire(t)
	tr, kyc := transport(t, rdb, m)
	must(t, kyc.Store().Sessions().UserAccessHasher().SetUserAccessHash(ctx, self.ID, 10, 555))

	// Before the bot knows who it is, nothing is looked up.
	if u, err := tr.Resolve(ctx, handlers.User{ID: 10}); err != nil || u.AccessHash != 0 {
		t.Errorf("Resolve before Self = %+v, %v", u, err)
	}
	getSelf(m, &tg.User{ID: self.ID, Bot: true, Username: self.Username})
	if _, err := tr.Self(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   handlers.User
		want int64
	}{
		{handlers.User{ID: 10, LangCode: "de"}, 555},
		{handlers.User{ID: 10, AccessHash: 7}, 7},
		{handlers.User{ID: 11}, 0},
	} {
		u, err := tr.Resolve(ctx, tc.in)
		if err != nil || u.ID != tc.in.ID || u.AccessHash != tc.want || u.LangCode != tc.in.LangCode {
			t.Errorf("Resolve(%+v) = %+v, %v; want hash %d", tc.in, u, err, tc.want)
		}
	}

	// Every call to a user resolves them.
	peer := &tg.InputPeerUser{UserID: 10, AccessHash: 555}
	ids := kyc.MessageIDs()
	m.ExpectCall(sendRequest(peer, "x", ids.RandomID("k"))).ThenResult(&tg.Updates{})
	errs := []tg.SecureValueErrorClass{&tg.SecureValueErrorSelfie{Type: &tg.SecureValueTypePassport{}, FileHash: []byte{1}, Text: "x"}}
	m.ExpectCall(&tg.UsersSetSecureValueErrorsRequest{ID: &tg.InputUser{UserID: 10, AccessHash: 555}, Errors: errs}).ThenTrue()
	cmds := []handlers.BotCommand{{Command: "kyc_stats", Description: "Stats"}}
	m.ExpectCall(&tg.BotsSetBotCommandsRequest{Scope: &tg.BotCommandScopePeer{Peer: peer}, LangCode: "",
		Commands: []tg.BotCommand{{Command: "kyc_stats", Description: "Stats"}}}).ThenTrue()
	must(t, tr.Send(ctx, handlers.User{ID: 10}, handlers.Message{Text: "x", Key: "k"}))
	must(t, tr.SetSecureValueErrors(ctx, handlers.User{ID: 10}, errs))
	must(t, tr.SetUserCommands(ctx, handlers.User{ID: 10}, "", cmds))
	if !m.AllWereMet() {
		t.Error("not every call was made")
	}

	// The store cannot be reached: nothing is sent.
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	m2 := tgmock.NewRequire(t)
	getSelf(m2, &tg.User{ID: self.ID, Bot: true, Username: self.Username})
	tr2, _ := transport(t, down, m2)
	if _, err := tr2.Self(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tr2.Send(ctx, handlers.User{ID: 10}, handlers.Message{Text: "x"}); err == nil {
		t.Error("Send without the access hash lookup succeeded")
	}
	if err := tr2.SetSecureValueErrors(ctx, handlers.User{ID: 10}, errs); err == nil {
		t.Error("SetSecureValueErrors without the access hash lookup succeeded")
	}
	if err := tr2.SetUserCommands(ctx, handlers.User{ID: 10}, "", cmds); err == nil {
		t.Error("SetUserCommands without the access hash lookup succeeded")
	}
	// With the hash given, nothing is looked up.
	m2.ExpectCall(sendRequest(&tg.InputPeerUser{UserID: 10, AccessHash: 20}, "x", ids.RandomID("k"))).ThenResult(&tg.Updates{})
	must(t, tr2.Send(ctx, handlers.User{ID: 10, AccessHash: 20}, handlers.Message{Text: "x", Key: "k"}))
}

// TestCalls: the other requests, exactly.
func TestCalls(t *testing.T) {
	ctx := context.Background()
	user := handlers.User{ID: 10, AccessHash: 20}
	cmds := []handlers.BotCommand{{Command: "start", Description: "Introduction"}, {Command: "help", Description: "Help"}}
	tgCmds := []tg.BotCommand{{Command: "start", Description: "Introduction"}, {Command: "help", Description: "Help"}}
	errs := []tg.SecureValueErrorClass{
		&tg.SecureValueErrorData{Type: &tg.SecureValueTypeDriverLicense{}, DataHash: []byte{1, 2}, Field: "expiry_date", Text: "expired"},
		&tg.SecureValueErrorSelfie{Type: &tg.SecureValueTypeDriverLicense{}, FileHash: []byte{3}, Text: "too small"},
	}
	withMessage := &tg.MessagesSetBotCallbackAnswerRequest{QueryID: 99}
	withMessage.SetMessage("done")
	tests := []struct {
		name string
		want bin.Encoder
		call func(tr *Transport) error
	}{
		{"users.setSecureValueErrors", &tg.UsersSetSecureValueErrorsRequest{ID: &tg.InputUser{UserID: 10, AccessHash: 20}, Errors: errs},
			func(tr *Transport) error { return tr.SetSecureValueErrors(ctx, user, errs) }},
		{"messages.setBotCallbackAnswer with a notice", withMessage,
			func(tr *Transport) error { return tr.AnswerCallback(ctx, 99, "done") }},
		{"messages.setBotCallbackAnswer without", &tg.MessagesSetBotCallbackAnswerRequest{QueryID: 100},
			func(tr *Transport) error { return tr.AnswerCallback(ctx, 100, "") }},
		{"bots.setBotCommands for a language", &tg.BotsSetBotCommandsRequest{Scope: &tg.BotCommandScopeDefault{}, LangCode: "pt", Commands: tgCmds},
			func(tr *Transport) error { return tr.SetCommands(ctx, "pt", cmds) }},
		{"bots.setBotCommands for everybody else", &tg.BotsSetBotCommandsRequest{Scope: &tg.BotCommandScopeDefault{}, Commands: tgCmds},
			func(tr *Transport) error { return tr.SetCommands(ctx, "", cmds) }},
		{"bots.setBotCommands in a chat", &tg.BotsSetBotCommandsRequest{
			Scope: &tg.BotCommandScopePeer{Peer: &tg.InputPeerUser{UserID: 10, AccessHash: 20}}, LangCode: "de", Commands: tgCmds},
			func(tr *Transport) error { return tr.SetUserCommands(ctx, user, "de", cmds) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tgmock.NewRequire(t)
			m.ExpectCall(tt.want).ThenTrue()
			tr, _ := transport(t, offlineRedis(t), m)
			if err := tt.call(tr); err != nil {
				t.Fatal(err)
			}
			if !m.AllWereMet() {
				t.Error("the request was not made")
			}
		})
		t.Run(tt.name+" fails", func(t *testing.T) {
			m := tgmock.NewRequire(t)
			m.Expect().ThenRPCErr(tgerr.New(400, "SOMETHING_INVALID"))
			tr, _ := transport(t, offlineRedis(t), m)
			if err := tt.call(tr); !tgerr.Is(err, "SOMETHING_INVALID") {
				t.Errorf("err = %v, want the RPC error", err)
			}
		})
	}
}

// TestDownload: a Passport file is downloaded with upload.getFile of its
// secure file location, streamed to the writer.
func TestDownload(t *testing.T) {
	m := tgmock.NewRequire(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 100)
	f := &passport.File{FileRef: passport.FileRef{ID: 5, AccessHash: 6, DCID: 2, Size: int64(len(data))}}
	m.ExpectFunc(func(b bin.Encoder) {
		req, ok := b.(*tg.UploadGetFileRequest)
		if !ok || req.Offset != 0 {
			t.Errorf("request = %#v", b)
			return
		}
		if l, ok := req.Location.(*tg.InputSecureFileLocation); !ok || *l != (tg.InputSecureFileLocation{ID: 5, AccessHash: 6}) {
			t.Errorf("location = %#v", req.Location)
		}
	}).ThenResult(&tg.UploadFile{Type: &tg.StorageFileUnknown{}, Bytes: data})
	tr, _ := transport(t, offlineRedis(t), m)
	var out bytes.Buffer
	if err := tr.Download(context.Background(), f, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Errorf("downloaded %d bytes, want %d", out.Len(), len(data))
	}

	m2 := tgmock.NewRequire(t)
	m2.Expect().ThenRPCErr(tgerr.New(400, "FILE_ID_INVALID"))
	tr2, _ := transport(t, offlineRedis(t), m2)
	if err := tr2.Download(context.Background(), f, &out); !tgerr.Is(err, "FILE_ID_INVALID") || !strings.Contains(err.Error(), "file 5") {
		t.Errorf("err = %v, want the RPC error", err)
	}
}

// TestSendEditable: the ID of the message sent comes from the answer's
// updateMessageID of its random_id (also when Telegram answers a random_id
// it has seen with the earlier message), or from updateShortSentMessage;
// 0 when the answer does not tell it or on RANDOM_ID_DUPLICATE.
func TestSendEditable(t *testing.T) {
	to := handlers.User{ID: 10, AccessHash: 20}
	peer := &tg.InputPeerUser{UserID: 10, AccessHash: 20}
	rid := bot.NewMessageIDs(handlerstest.Key(t)).RandomID("1-1:submission.received")
	tests := []struct {
		name   string
		answer tg.UpdatesClass
		err    error
		want   int
	}{
		{"updateMessageID", &tg.Updates{Updates: []tg.UpdateClass{
			&tg.UpdateMessageID{ID: 3, RandomID: rid + 1}, &tg.UpdateMessageID{ID: 7, RandomID: rid},
		}}, nil, 7},
		{"short sent message", &tg.UpdateShortSentMessage{ID: 9}, nil, 9},
		{"no ID in the answer", &tg.Updates{}, nil, 0},
		{"random_id in use", nil, tgerr.New(500, "RANDOM_ID_DUPLICATE"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tgmock.NewRequire(t)
			call := m.ExpectCall(sendRequest(peer, "received", rid))
			if tt.err != nil {
				call.ThenErr(tt.err)
			} else {
				call.ThenResult(tt.answer)
			}
			tr, _ := transport(t, offlineRedis(t), m)
			id, err := tr.SendEditable(context.Background(), to, handlers.Message{Text: "received", Key: "1-1:submission.received"})
			if err != nil || id != tt.want {
				t.Errorf("SendEditable = %d, %v; want %d", id, err, tt.want)
			}
		})
	}
}

// TestEdit: messages.editMessage of the message with the new text and
// buttons; MESSAGE_NOT_MODIFIED (the same edit made before) succeeds,
// MESSAGE_ID_INVALID (deleted) fails.
func TestEdit(t *testing.T) {
	to := handlers.User{ID: 10, AccessHash: 20}
	peer := &tg.InputPeerUser{UserID: 10, AccessHash: 20}
	withButton := &tg.MessagesEditMessageRequest{Peer: peer, ID: 7}
	withButton.SetMessage("fix these")
	withButton.SetReplyMarkup(&tg.ReplyInlineMarkup{Rows: []tg.KeyboardInlineButtonRow{
		{Buttons: []tg.KeyboardInlineButton{urlButton("Try again", "https://kyc.example/p")}},
	}})
	plain := &tg.MessagesEditMessageRequest{Peer: peer, ID: 7}
	plain.SetMessage("verified")
	tests := []struct {
		name    string
		msg     handlers.Message
		want    *tg.MessagesEditMessageRequest
		err     error
		wantErr string
	}{
		{"text and a button", handlers.Message{Text: "fix these", Buttons: [][]handlers.Button{{{Text: "Try again", URL: "https://kyc.example/p"}}}},
			withButton, nil, ""},
		{"text", handlers.Message{Text: "verified"}, plain, nil, ""},
		{"not modified", handlers.Message{Text: "verified"}, plain, tgerr.New(400, "MESSAGE_NOT_MODIFIED"), ""},
		{"deleted", handlers.Message{Text: "verified"}, plain, tgerr.New(400, "MESSAGE_ID_INVALID"), "MESSAGE_ID_INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tgmock.NewRequire(t)
			call := m.ExpectCall(tt.want)
			if tt.err != nil {
				call.ThenErr(tt.err)
			} else {
				call.ThenResult(&tg.Updates{})
			}
			tr, _ := transport(t, offlineRedis(t), m)
			err := tr.Edit(context.Background(), to, 7, tt.msg)
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Edit = %v, want error %q", err, tt.wantErr)
			}
		})
	}
}
