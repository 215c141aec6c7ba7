package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gotd/td/telegram"
	"github.com/gotd/td/tg"
)

// Sign-up over MTProto, as a Telegram app does for a number without an
// account: auth.sendCode, auth.signIn answering
// auth.authorizationSignUpRequired, auth.signUp with the name; the account
// takes the language of the app's initConnection.
func TestSignUp(t *testing.T) {
	t.Parallel()
	ctx := testContext(t, 60*time.Second)
	sb := startSandbox(t, Options{})
	bot, _, _ := addTestBot(t, sb, "kyc_signup_bot")
	b := newTestBot(t, sb, bot)
	b.start(ctx)

	opts := sb.Options(nil)
	opts.Device = telegram.DeviceConfig{LangCode: "de"}
	client := telegram.NewClient(1, "test", opts)
	err := client.Run(ctx, func(ctx context.Context) error {
		api := client.API()
		sendCode := func(phone string) (string, error) {
			sent, err := api.AuthSendCode(ctx, &tg.AuthSendCodeRequest{PhoneNumber: phone, APIID: 1, APIHash: "test"})
			if err != nil {
				return "", err
			}
			return sent.(*tg.AuthSentCode).PhoneCodeHash, nil
		}
		signIn := func(phone, hash, code string) (tg.AuthAuthorizationClass, error) {
			return api.AuthSignIn(ctx, &tg.AuthSignInRequest{PhoneNumber: phone, PhoneCodeHash: hash, PhoneCode: code})
		}
		signUp := func(phone, hash, first, last string) (tg.AuthAuthorizationClass, error) {
			return api.AuthSignUp(ctx, &tg.AuthSignUpRequest{PhoneNumber: phone, PhoneCodeHash: hash, FirstName: first, LastName: last})
		}
		const phone, other = "+1 555 000 0601", "15550000602"
		hash, err := sendCode(phone) // a number without an account gets a code
		if err != nil {
			return fmt.Errorf("send a code to a new number: %w", err)
		}
		otherHash, err := sendCode(other)
		if err != nil {
			return err
		}
		var signUpRequired bool
		steps := []struct {
			name string
			call func() error
			// code and typ are the error wanted; 0 for success.
			code int
			typ  string
		}{
			{"send a code to no number", func() error { _, err := sendCode("no digits"); return err }, 406, "PHONE_NUMBER_INVALID"},
			{"sign up before signing in", func() error { _, err := signUp(phone, hash, "Ada", ""); return err }, 400, "PHONE_CODE_EMPTY"},
			{"sign in with a wrong code", func() error { _, err := signIn(phone, hash, "00000"); return err }, 400, "PHONE_CODE_INVALID"},
			{"sign in with the code", func() error {
				res, err := signIn(phone, hash, DefaultLoginCode)
				_, signUpRequired = res.(*tg.AuthAuthorizationSignUpRequired)
				return err
			}, 0, ""},
			{"not logged in yet", func() error { return callSelf(ctx, api) }, 401, "AUTH_KEY_UNREGISTERED"},
			{"sign up with an unknown hash", func() error { _, err := signUp(phone, "0123", "Ada", ""); return err }, 400, "PHONE_CODE_EXPIRED"},
			{"sign up another number with the hash", func() error { _, err := signUp(other, hash, "Ada", ""); return err }, 400, "PHONE_CODE_INVALID"},
			{"sign up without a first name", func() error { _, err := signUp(phone, hash, "  ", "Lovelace"); return err }, 400, "FIRSTNAME_INVALID"},
			{"sign up with a long last name", func() error { _, err := signUp(phone, hash, "Ada", strings.Repeat("x", 65)); return err }, 400, "LASTNAME_INVALID"},
			{"sign up a number taken meanwhile", func() error {
				if _, err := signIn(other, otherHash, DefaultLoginCode); err != nil {
					return err
				}
				if _, err := sb.AddUser(UserSpec{Phone: other}); err != nil {
					return err
				}
				_, err := signUp(other, otherHash, "Bob", "")
				return err
			}, 400, "PHONE_NUMBER_OCCUPIED"},
			{"sign up", func() error { _, err := signUp(phone, hash, "Ada", "Lovelace"); return err }, 0, ""},
			{"logged in", func() error { return callSelf(ctx, api) }, 0, ""},
			{"sign up again with the used hash", func() error { _, err := signUp(phone, hash, "Ada", ""); return err }, 400, "PHONE_CODE_EXPIRED"},
		}
		for _, s := range steps {
			err := s.call()
			switch {
			case s.code == 0 && err != nil:
				return fmt.Errorf("%s: %w", s.name, err)
			case s.code != 0 && !isRPCError(err, s.code, s.typ):
				return fmt.Errorf("%s: %v, want %d %s", s.name, err, s.code, s.typ)
			}
		}
		if !signUpRequired {
			return errors.New("auth.signIn for a new number did not answer auth.authorizationSignUpRequired")
		}

		// The new account is a user like any other: the bot sees its name
		// and language.
		res, err := api.ContactsResolveUsername(ctx, &tg.ContactsResolveUsernameRequest{Username: bot.Username})
		if err != nil {
			return err
		}
		botUser := res.Users[0].(*tg.User)
		if _, err := api.MessagesSendMessage(ctx, &tg.MessagesSendMessageRequest{
			Peer: &tg.InputPeerUser{UserID: botUser.ID, AccessHash: botUser.AccessHash}, Message: "/start", RandomID: 1,
		}); err != nil {
			return err
		}
		in, err := b.next(ctx)
		if err != nil {
			return err
		}
		if in.msg == nil {
			return errors.New("the bot got a service message, want /start")
		}
		from := in.msg.FromID.(*tg.PeerUser).UserID
		u := in.entities.Users[from]
		if u == nil || u.FirstName != "Ada" || u.LastName != "Lovelace" || u.LangCode != "de" {
			return fmt.Errorf("the bot sees the new user as %+v", u)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
