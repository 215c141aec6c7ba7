package handlers

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgmock"
)

func TestTelegramAdapter(t *testing.T) {
	ctx := context.Background()
	user := &tg.InputUser{UserID: 10, AccessHash: 20}

	t.Run("SetSecureValueErrors", func(t *testing.T) {
		m := tgmock.NewRequire(t)
		errs := []tg.SecureValueErrorClass{&tg.SecureValueErrorSelfie{Type: &tg.SecureValueTypeDriverLicense{}, FileHash: []byte{1}, Text: "x"}}
		m.ExpectCall(&tg.UsersSetSecureValueErrorsRequest{ID: user, Errors: errs}).ThenTrue()
		if err := NewTelegram(tg.NewClient(m), nil).SetSecureValueErrors(ctx, user, errs); err != nil {
			t.Fatal(err)
		}
		if !m.AllWereMet() {
			t.Error("users.setSecureValueErrors was not called")
		}
	})

	t.Run("SendText", func(t *testing.T) {
		m := tgmock.NewRequire(t)
		var got *tg.MessagesSendMessageRequest
		m.ExpectFunc(func(b bin.Encoder) {
			got, _ = b.(*tg.MessagesSendMessageRequest)
		}).ThenResult(&tg.Updates{})
		if err := NewTelegram(tg.NewClient(m), nil).SendText(ctx, user, "hello", Button{Text: "Go", URL: "https://kyc.example/passport/x"}); err != nil {
			t.Fatal(err)
		}
		if got == nil {
			t.Fatal("messages.sendMessage was not called")
		}
		peer, ok := got.Peer.(*tg.InputPeerUser)
		if !ok || peer.UserID != 10 || peer.AccessHash != 20 || got.Message != "hello" || got.RandomID == 0 {
			t.Errorf("request = %+v", got)
		}
		mk, ok := got.ReplyMarkup.(*tg.ReplyInlineMarkup)
		if !ok || len(mk.Rows) != 1 || len(mk.Rows[0].Buttons) != 1 {
			t.Fatalf("markup = %#v", got.ReplyMarkup)
		}
		b := mk.Rows[0].Buttons[0]
		if u, ok := b.Type.(*tg.InlineButtonTypeURL); !ok || b.Text != "Go" || u.URL != "https://kyc.example/passport/x" {
			t.Errorf("button = %#v", b)
		}
	})

	t.Run("SendText without buttons", func(t *testing.T) {
		m := tgmock.NewRequire(t)
		var got *tg.MessagesSendMessageRequest
		m.ExpectFunc(func(b bin.Encoder) { got, _ = b.(*tg.MessagesSendMessageRequest) }).ThenResult(&tg.Updates{})
		if err := NewTelegram(tg.NewClient(m), nil).SendText(ctx, user, "plain"); err != nil {
			t.Fatal(err)
		}
		if got == nil || got.ReplyMarkup != nil {
			t.Errorf("request = %+v", got)
		}
	})

	t.Run("Download", func(t *testing.T) {
		m := tgmock.NewRequire(t)
		data := bytes.Repeat([]byte("0123456789abcdef"), 100)
		loc := &tg.InputSecureFileLocation{ID: 5, AccessHash: 6}
		m.ExpectFunc(func(b bin.Encoder) {
			req, ok := b.(*tg.UploadGetFileRequest)
			if !ok || req.Offset != 0 {
				t.Errorf("request = %#v", b)
				return
			}
			if l, ok := req.Location.(*tg.InputSecureFileLocation); !ok || *l != *loc {
				t.Errorf("location = %#v", req.Location)
			}
		}).ThenResult(&tg.UploadFile{Type: &tg.StorageFileUnknown{}, Bytes: data})
		var out bytes.Buffer
		if err := NewTelegram(tg.NewClient(m), nil).Download(ctx, loc, 2, &out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data) {
			t.Errorf("downloaded %d bytes, want %d", out.Len(), len(data))
		}
	})

	t.Run("SendButtons", func(t *testing.T) {
		m := tgmock.NewRequire(t)
		var got *tg.MessagesSendMessageRequest
		m.ExpectFunc(func(b bin.Encoder) { got, _ = b.(*tg.MessagesSendMessageRequest) }).ThenResult(&tg.Updates{})
		rows := [][]Button{
			{{Text: "English", Data: "lang:en"}, {Text: "Русский", Data: "lang:ru"}},
			{},
			{{Text: "Page", URL: "https://kyc.example/p"}},
		}
		if err := NewTelegram(tg.NewClient(m), nil).SendButtons(ctx, user, "choose", rows); err != nil {
			t.Fatal(err)
		}
		if got == nil {
			t.Fatal("messages.sendMessage was not called")
		}
		mk, ok := got.ReplyMarkup.(*tg.ReplyInlineMarkup)
		if !ok || len(mk.Rows) != 2 || len(mk.Rows[0].Buttons) != 2 || len(mk.Rows[1].Buttons) != 1 {
			t.Fatalf("markup = %#v (the empty row must be dropped)", got.ReplyMarkup)
		}
		cb, ok := mk.Rows[0].Buttons[1].Type.(*tg.InlineButtonTypeCallback)
		if !ok || string(cb.Data) != "lang:ru" || mk.Rows[0].Buttons[1].Text != "Русский" {
			t.Errorf("callback button = %#v", mk.Rows[0].Buttons[1])
		}
		if u, ok := mk.Rows[1].Buttons[0].Type.(*tg.InlineButtonTypeURL); !ok || u.URL != "https://kyc.example/p" {
			t.Errorf("URL button = %#v", mk.Rows[1].Buttons[0])
		}
	})

	t.Run("AnswerCallback", func(t *testing.T) {
		m := tgmock.NewRequire(t)
		want := &tg.MessagesSetBotCallbackAnswerRequest{QueryID: 99}
		want.SetMessage("done")
		m.ExpectCall(want).ThenTrue()
		m.ExpectCall(&tg.MessagesSetBotCallbackAnswerRequest{QueryID: 100}).ThenTrue()
		tgc := NewTelegram(tg.NewClient(m), nil)
		if err := tgc.AnswerCallback(ctx, 99, "done"); err != nil {
			t.Fatal(err)
		}
		if err := tgc.AnswerCallback(ctx, 100, ""); err != nil {
			t.Fatal(err)
		}
		if !m.AllWereMet() {
			t.Error("messages.setBotCallbackAnswer was not called as expected")
		}
	})

	t.Run("SetBotCommands", func(t *testing.T) {
		m := tgmock.NewRequire(t)
		cmds := []tg.BotCommand{{Command: "start", Description: "Introduction"}}
		m.ExpectCall(&tg.BotsSetBotCommandsRequest{Scope: &tg.BotCommandScopeDefault{}, LangCode: "pt", Commands: cmds}).ThenTrue()
		if err := NewTelegram(tg.NewClient(m), nil).SetBotCommands(ctx, "pt", cmds); err != nil {
			t.Fatal(err)
		}
		if !m.AllWereMet() {
			t.Error("bots.setBotCommands was not called")
		}
	})

	t.Run("access hashes", func(t *testing.T) {
		hashes := fakeHashes{10: 555}
		tests := []struct {
			name     string
			user     *tg.InputUser
			hashes   AccessHashes
			wantHash int64
			wantErr  bool
		}{
			{"looked up", &tg.InputUser{UserID: 10}, hashes, 555, false},
			{"given hash wins", &tg.InputUser{UserID: 10, AccessHash: 7}, hashes, 7, false},
			{"unknown user sent as given", &tg.InputUser{UserID: 11}, hashes, 0, false},
			{"no lookup configured", &tg.InputUser{UserID: 10}, nil, 0, false},
			{"lookup fails", &tg.InputUser{UserID: 10}, failingHashes{}, 0, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				m := tgmock.NewRequire(t)
				var got *tg.MessagesSendMessageRequest
				if !tt.wantErr {
					m.ExpectFunc(func(b bin.Encoder) { got, _ = b.(*tg.MessagesSendMessageRequest) }).ThenResult(&tg.Updates{})
				}
				var opts []TelegramOption
				if tt.hashes != nil {
					opts = append(opts, WithAccessHashes(tt.hashes))
				}
				err := NewTelegram(tg.NewClient(m), nil, opts...).SendText(ctx, tt.user, "x")
				if tt.wantErr {
					if err == nil {
						t.Fatal("a failed lookup was ignored")
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if peer, ok := got.Peer.(*tg.InputPeerUser); !ok || peer.AccessHash != tt.wantHash {
					t.Errorf("peer = %#v, want access hash %d", got.Peer, tt.wantHash)
				}
			})
		}
	})

	t.Run("errors", func(t *testing.T) {
		m := tgmock.NewRequire(t)
		m.Expect().ThenRPCErr(tgerr.New(400, "PEER_ID_INVALID"))
		err := NewTelegram(tg.NewClient(m), nil).SendText(ctx, user, "x")
		if !tgerr.Is(err, "PEER_ID_INVALID") {
			t.Fatalf("err = %v, want the RPC error", err)
		}
	})
}

// fakeHashes is an AccessHashes of fixed hashes.
type fakeHashes map[int64]int64

func (h fakeHashes) GetUserAccessHash(_ context.Context, userID int64) (int64, bool, error) {
	v, ok := h[userID]
	return v, ok, nil
}

// failingHashes is an AccessHashes whose storage is down.
type failingHashes struct{}

func (failingHashes) GetUserAccessHash(context.Context, int64) (int64, bool, error) {
	return 0, false, errors.New("redis: connection refused")
}
