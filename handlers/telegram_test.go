package handlers

import (
	"bytes"
	"context"
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

	t.Run("errors", func(t *testing.T) {
		m := tgmock.NewRequire(t)
		m.Expect().ThenRPCErr(tgerr.New(400, "PEER_ID_INVALID"))
		err := NewTelegram(tg.NewClient(m), nil).SendText(ctx, user, "x")
		if !tgerr.Is(err, "PEER_ID_INVALID") {
			t.Fatalf("err = %v, want the RPC error", err)
		}
	})
}
