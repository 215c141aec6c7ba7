package handlers

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/gotd/td/telegram/downloader"
	"github.com/gotd/td/tg"
)

// Button is an inline URL button under a chat message.
type Button struct {
	// Text is the label.
	Text string
	// URL is opened when the button is tapped.
	URL string
}

// Telegram is the part of the Telegram client API the passport handler
// uses. NewTelegram implements it with gotd; tests use a fake.
type Telegram interface {
	// SetSecureValueErrors calls users.setSecureValueErrors for user.
	SetSecureValueErrors(ctx context.Context, user *tg.InputUser, errs []tg.SecureValueErrorClass) error
	// SendText sends a plain text message to user, with the buttons in
	// one row under it.
	SendText(ctx context.Context, user *tg.InputUser, text string, buttons ...Button) error
	// Download writes the encrypted bytes of a Passport file to w. dcID
	// is the data center the file lives in (a hint: implementations may
	// follow FILE_MIGRATE instead).
	Download(ctx context.Context, loc *tg.InputSecureFileLocation, dcID int, w io.Writer) error
}

// gotdTelegram implements Telegram with a gotd client.
type gotdTelegram struct {
	api  *tg.Client
	dl   *downloader.Downloader
	rand io.Reader
}

// NewTelegram returns the Telegram of a gotd client. dl may be nil
// (downloader.NewDownloader() is used). Message random IDs come from
// crypto/rand.
func NewTelegram(api *tg.Client, dl *downloader.Downloader) Telegram {
	if dl == nil {
		dl = downloader.NewDownloader()
	}
	return &gotdTelegram{api: api, dl: dl, rand: rand.Reader}
}

// SetSecureValueErrors implements Telegram.
func (t *gotdTelegram) SetSecureValueErrors(ctx context.Context, user *tg.InputUser, errs []tg.SecureValueErrorClass) error {
	if _, err := t.api.UsersSetSecureValueErrors(ctx, &tg.UsersSetSecureValueErrorsRequest{ID: user, Errors: errs}); err != nil {
		return fmt.Errorf("users.setSecureValueErrors for user %d: %w", user.UserID, err)
	}
	return nil
}

// SendText implements Telegram.
func (t *gotdTelegram) SendText(ctx context.Context, user *tg.InputUser, text string, buttons ...Button) error {
	var b [8]byte
	if _, err := io.ReadFull(t.rand, b[:]); err != nil {
		return fmt.Errorf("message random ID: %w", err)
	}
	req := &tg.MessagesSendMessageRequest{
		Peer:     &tg.InputPeerUser{UserID: user.UserID, AccessHash: user.AccessHash},
		Message:  text,
		RandomID: int64(binary.LittleEndian.Uint64(b[:])),
	}
	if len(buttons) > 0 {
		row := tg.KeyboardInlineButtonRow{Buttons: make([]tg.KeyboardInlineButton, 0, len(buttons))}
		for _, bt := range buttons {
			row.Buttons = append(row.Buttons, tg.KeyboardInlineButton{Text: bt.Text, Type: &tg.InlineButtonTypeURL{URL: bt.URL}})
		}
		req.SetReplyMarkup(&tg.ReplyInlineMarkup{Rows: []tg.KeyboardInlineButtonRow{row}})
	}
	if _, err := t.api.MessagesSendMessage(ctx, req); err != nil {
		return fmt.Errorf("messages.sendMessage to user %d: %w", user.UserID, err)
	}
	return nil
}

// Download implements Telegram. FILE_MIGRATE is followed by gotd, so dcID
// is not used.
func (t *gotdTelegram) Download(ctx context.Context, loc *tg.InputSecureFileLocation, _ int, w io.Writer) error {
	if _, err := t.dl.Download(t.api, loc).Stream(ctx, w); err != nil {
		return fmt.Errorf("download secure file %d: %w", loc.ID, err)
	}
	return nil
}
