package sandbox

import (
	"context"
	"testing"
	"time"

	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"

	"github.com/kycbot/kycbot/passport"
)

// Test 5: every error path answers the code Telegram answers (or the one
// the sandbox documents where Telegram documents none).
func TestErrorCodes(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 50*time.Second)
	sb := startSandbox(t, Options{})
	bot, _, pem := addTestBot(t, sb, "kyc_errors_bot")
	b := newTestBot(t, sb, bot)
	b.start(ctx)

	otherKey, err := passport.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	otherPEM, err := passport.MarshalPublicKey(&otherKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}

	noSecret, err := sb.NewSimUser(ctx, UserSpec{Phone: "15550000011", CloudPassword: "pw-11"}, SimUserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = noSecret.Close() })
	ready, err := sb.NewSimUser(ctx, UserSpec{Phone: "15550000012"}, SimUserOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ready.Close() })
	email := tg.InputSecureValue{Type: &tg.SecureValueTypeEmail{}, PlainData: &tg.SecurePlainEmail{Email: "ada@example.com"}}
	// Without a cloud password (the app then asks the user to create one).
	if _, err := ready.API().AccountSaveSecureValue(ctx, &tg.AccountSaveSecureValueRequest{Value: email, SecureSecretID: 1}); !tgerr.Is(err, "PASSWORD_REQUIRED") {
		t.Fatalf("save without a cloud password: got %v, want PASSWORD_REQUIRED", err)
	}
	secret, err := ready.passportSecret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := ready.API().AccountSaveSecureValue(ctx, &tg.AccountSaveSecureValueRequest{Value: email, SecureSecretID: passport.SecretID(secret)})
	if err != nil {
		t.Fatal(err)
	}
	emailScope, err := passport.NewScope(passport.Require(passport.TypeEmail)).Encode()
	if err != nil {
		t.Fatal(err)
	}
	creds, err := passport.EncryptCredentials(testRand(), mustPub(t, pem), &passport.Credentials{Nonce: "n", SecureData: map[passport.ElementType]*passport.ValueCredentials{}})
	if err != nil {
		t.Fatal(err)
	}
	sb.mu.Lock()
	readyHash := sb.w.accounts[ready.User.ID].user.AccessHash
	sb.mu.Unlock()
	short := make([]byte, 16)
	loc := &tg.InputSecureFileLocation{ID: 1, AccessHash: 1}

	for _, tc := range []struct {
		name string
		want string
		call func(ctx context.Context) error
	}{
		{"form for an unknown bot", "BOT_INVALID", func(ctx context.Context) error {
			_, err := ready.API().AccountGetAuthorizationForm(ctx, &tg.AccountGetAuthorizationFormRequest{BotID: ready.User.ID, Scope: emailScope, PublicKey: pem})
			return err
		}},
		{"form with another key", "PUBLIC_KEY_INVALID", func(ctx context.Context) error {
			_, err := ready.API().AccountGetAuthorizationForm(ctx, &tg.AccountGetAuthorizationFormRequest{BotID: bot.ID, Scope: emailScope, PublicKey: string(otherPEM)})
			return err
		}},
		{"form with an empty scope", "SCOPE_EMPTY", func(ctx context.Context) error {
			_, err := ready.API().AccountGetAuthorizationForm(ctx, &tg.AccountGetAuthorizationFormRequest{BotID: bot.ID, Scope: `{"v":1,"d":[]}`, PublicKey: pem})
			return err
		}},
		{"save without a passport secret", "SECURE_SECRET_REQUIRED", func(ctx context.Context) error {
			_, err := noSecret.API().AccountSaveSecureValue(ctx, &tg.AccountSaveSecureValueRequest{Value: email, SecureSecretID: 1})
			return err
		}},
		{"save with another secret id", "SECURE_SECRET_INVALID", func(ctx context.Context) error {
			_, err := ready.API().AccountSaveSecureValue(ctx, &tg.AccountSaveSecureValueRequest{Value: email, SecureSecretID: passport.SecretID(secret) + 1})
			return err
		}},
		{"save a selfie on an email", ErrSecureValueInvalid, func(ctx context.Context) error {
			v := email
			v.SetSelfie(&tg.InputSecureFile{ID: 1, AccessHash: 1})
			_, err := ready.API().AccountSaveSecureValue(ctx, &tg.AccountSaveSecureValueRequest{Value: v, SecureSecretID: passport.SecretID(secret)})
			return err
		}},
		{"error with a short data hash", "DATA_HASH_SIZE_INVALID", func(ctx context.Context) error {
			_, err := b.API().UsersSetSecureValueErrors(ctx, &tg.UsersSetSecureValueErrorsRequest{
				ID: &tg.InputUser{UserID: ready.User.ID, AccessHash: readyHash},
				Errors: []tg.SecureValueErrorClass{&tg.SecureValueErrorData{
					Type: &tg.SecureValueTypePersonalDetails{}, DataHash: short, Field: "first_name", Text: "x",
				}},
			})
			return err
		}},
		{"error with a short file hash", "HASH_SIZE_INVALID", func(ctx context.Context) error {
			_, err := b.API().UsersSetSecureValueErrors(ctx, &tg.UsersSetSecureValueErrorsRequest{
				ID: &tg.InputUser{UserID: ready.User.ID, AccessHash: readyHash},
				Errors: []tg.SecureValueErrorClass{&tg.SecureValueErrorFrontSide{
					Type: &tg.SecureValueTypePassport{}, FileHash: short, Text: "x",
				}},
			})
			return err
		}},
		{"error on a part the type lacks", ErrValueTypeInvalid, func(ctx context.Context) error {
			_, err := b.API().UsersSetSecureValueErrors(ctx, &tg.UsersSetSecureValueErrorsRequest{
				ID: &tg.InputUser{UserID: ready.User.ID, AccessHash: readyHash},
				Errors: []tg.SecureValueErrorClass{&tg.SecureValueErrorReverseSide{
					Type: &tg.SecureValueTypePassport{}, FileHash: make([]byte, 32), Text: "x",
				}},
			})
			return err
		}},
		{"download with a bad limit", "LIMIT_INVALID", func(ctx context.Context) error {
			_, err := b.API().UploadGetFile(ctx, &tg.UploadGetFileRequest{Location: loc, Limit: 1000})
			return err
		}},
		{"download over 1 MiB", "LIMIT_INVALID", func(ctx context.Context) error {
			_, err := b.API().UploadGetFile(ctx, &tg.UploadGetFileRequest{Location: loc, Limit: 2 << 20})
			return err
		}},
		{"download across a 1 MiB boundary", "LIMIT_INVALID", func(ctx context.Context) error {
			_, err := b.API().UploadGetFile(ctx, &tg.UploadGetFileRequest{Location: loc, Offset: 1<<20 - 4096, Limit: 8192, Precise: true})
			return err
		}},
		{"download with a bad offset", "OFFSET_INVALID", func(ctx context.Context) error {
			_, err := b.API().UploadGetFile(ctx, &tg.UploadGetFileRequest{Location: loc, Offset: 100, Limit: 4096})
			return err
		}},
		{"download an unknown file", "FILE_ID_INVALID", func(ctx context.Context) error {
			_, err := b.API().UploadGetFile(ctx, &tg.UploadGetFileRequest{Location: loc, Limit: 4096})
			return err
		}},
		{"unknown method", "INPUT_METHOD_INVALID", func(ctx context.Context) error {
			_, err := b.API().MessagesGetDialogs(ctx, &tg.MessagesGetDialogsRequest{OffsetPeer: &tg.InputPeerEmpty{}})
			return err
		}},
		{"accept with a stale value hash", ErrValueHashInvalid, func(ctx context.Context) error {
			_, err := ready.API().AccountAcceptAuthorization(ctx, &tg.AccountAcceptAuthorizationRequest{
				BotID: bot.ID, Scope: emailScope, PublicKey: pem,
				ValueHashes: []tg.SecureValueHash{{Type: saved.Type, Hash: make([]byte, 32)}},
				Credentials: creds.TL(),
			})
			return err
		}},
		{"bot token of another bot", "ACCESS_TOKEN_INVALID", func(ctx context.Context) error {
			_, err := noSecret.API().AuthImportBotAuthorization(ctx, &tg.AuthImportBotAuthorizationRequest{
				APIID: 1, APIHash: "x", BotAuthToken: "1:nope",
			})
			return err
		}},
		{"inline button with a Passport link", "BUTTON_URL_INVALID", func(ctx context.Context) error {
			_, err := b.API().MessagesSendMessage(ctx, &tg.MessagesSendMessageRequest{
				Peer: &tg.InputPeerUser{UserID: ready.User.ID, AccessHash: readyHash}, Message: "x", RandomID: 1,
				ReplyMarkup: &tg.ReplyInlineMarkup{Rows: []tg.KeyboardInlineButtonRow{{Buttons: []tg.KeyboardInlineButton{{
					Text: "go", Type: &tg.InlineButtonTypeURL{URL: "tg://resolve?domain=telegrampassport&bot_id=1"},
				}}}}},
			})
			return err
		}},
	} {
		err := tc.call(ctx)
		if !tgerr.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.want)
		}
	}

	// The right hash is accepted.
	if _, err := ready.API().AccountAcceptAuthorization(ctx, &tg.AccountAcceptAuthorizationRequest{
		BotID: bot.ID, Scope: emailScope, PublicKey: pem,
		ValueHashes: []tg.SecureValueHash{{Type: saved.Type, Hash: saved.Hash}},
		Credentials: creds.TL(),
	}); err != nil {
		t.Fatal(err)
	}
}
