package botapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/bot/botapi"
	"github.com/kycbot/kycbot/handlers"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/store"
)

// TestSend: sendMessage exactly as the Bot API wants it: the chat, the
// text, the inline keyboard (URL and callback buttons, empty rows
// dropped, none without buttons).
func TestSend(t *testing.T) {
	tests := []struct {
		name string
		msg  handlers.Message
		want string
	}{
		{"text", handlers.Message{Text: "hello"}, `{"chat_id":10,"text":"hello"}`},
		{"a URL button", handlers.Message{Text: "share", Buttons: [][]handlers.Button{{{Text: "Go", URL: "https://kyc.example/passport/x"}}}},
			`{"chat_id":10,"reply_markup":{"inline_keyboard":[[{"text":"Go","url":"https://kyc.example/passport/x"}]]},"text":"share"}`},
		{"rows of callback buttons", handlers.Message{Text: "choose", Buttons: [][]handlers.Button{
			{{Text: "English", Data: "kyc:lang:en"}, {Text: "Русский", Data: "kyc:lang:ru", URL: "ignored"}},
			{},
			{{Text: "Page", URL: "https://kyc.example/p"}},
		}}, `{"chat_id":10,"reply_markup":{"inline_keyboard":[[{"callback_data":"kyc:lang:en","text":"English"},{"callback_data":"kyc:lang:ru","text":"Русский"}],[{"text":"Page","url":"https://kyc.example/p"}]]},"text":"choose"}`},
		{"only empty rows", handlers.Message{Text: "plain", Buttons: [][]handlers.Button{{}}}, `{"chat_id":10,"text":"plain"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c, kyc := setup(t)
			tr := botapi.NewTransport(kyc, c)
			id, err := tr.SendEditable(context.Background(), handlers.User{ID: 10, LangCode: "en"}, tt.msg)
			if err != nil || id != 1 {
				t.Fatalf("SendEditable = %d, %v; want message 1", id, err)
			}
			calls := f.called("sendMessage")
			if len(calls) != 1 || calls[0].JSON() != tt.want {
				t.Fatalf("calls %v, want one with %s", calls, tt.want)
			}
		})
	}
}

// TestSendOnce: a keyed message is sent once, however often and by
// however many instances it is sent, and SendEditable gives its ID each
// time; a message without a key is sent each time; a send that failed is
// made again by the next sender.
func TestSendOnce(t *testing.T) {
	ctx := context.Background()
	to := handlers.User{ID: 10}
	f, c, kyc := setup(t)
	one, other := botapi.NewTransport(kyc, c), botapi.NewTransport(kyc, c)

	first, err := one.SendEditable(ctx, to, handlers.Message{Text: "checking", Key: "u1:received"})
	must(t, err)
	must(t, one.Send(ctx, to, handlers.Message{Text: "checking", Key: "u1:received"}))
	again, err := other.SendEditable(ctx, to, handlers.Message{Text: "checking", Key: "u1:received"})
	if err != nil || again != first {
		t.Fatalf("SendEditable again = %d, %v; want %d", again, err, first)
	}
	must(t, one.Send(ctx, to, handlers.Message{Text: "x"}))
	must(t, one.Send(ctx, to, handlers.Message{Text: "x"}))
	if n := len(f.called("sendMessage")); n != 3 {
		t.Fatalf("%d sendMessage calls, want 3 (the keyed one once, the others each time)", n)
	}

	f.failAPI("sendMessage", 400, "Bad Request: chat not found", 0)
	if err := one.Send(ctx, to, handlers.Message{Text: "y", Key: "u2:help"}); err == nil {
		t.Fatal("a failed send succeeded")
	}
	id, err := other.SendEditable(ctx, to, handlers.Message{Text: "y", Key: "u2:help"})
	if err != nil || id == 0 {
		t.Fatalf("the send after a failure = %d, %v", id, err)
	}
	if n := len(f.called("sendMessage")); n != 5 {
		t.Errorf("%d sendMessage calls, want 5", n)
	}
}

// TestSendConcurrent: instances sending the same keyed message at once
// send it once, and all get its ID.
func TestSendConcurrent(t *testing.T) {
	ctx := context.Background()
	f, c, kyc := setup(t)
	var wg sync.WaitGroup
	ids := make([]int, 8)
	for i := range ids {
		wg.Go(func() {
			id, err := botapi.NewTransport(kyc, c).SendEditable(ctx, handlers.User{ID: 10}, handlers.Message{Text: "verdict", Key: "u3:verdict"})
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	if n := len(f.called("sendMessage")); n != 1 {
		t.Errorf("%d sendMessage calls, want 1", n)
	}
	for _, id := range ids {
		if id != ids[0] || id == 0 {
			t.Fatalf("IDs %v, want the same one", ids)
		}
	}
}

// TestSendRedisDown: without Redis a keyed message is not sent (it could
// not be kept from being sent twice), and the error says the store is
// unavailable; an unkeyed one is sent.
func TestSendRedisDown(t *testing.T) {
	ctx := context.Background()
	f, c, _ := setup(t)
	kyc := testBot(t, downRedis(t))
	tr := botapi.NewTransport(kyc, c)
	err := tr.Send(ctx, handlers.User{ID: 10}, handlers.Message{Text: "x", Key: "k"})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("err = %v, want store.ErrUnavailable", err)
	}
	must(t, tr.Send(ctx, handlers.User{ID: 10}, handlers.Message{Text: "x"}))
	if n := len(f.called("sendMessage")); n != 1 {
		t.Errorf("%d sendMessage calls, want only the unkeyed one", n)
	}
}

// TestEdit: editMessageText of the message; "message is not modified"
// (the same edit again) succeeds; another failure does not.
func TestEdit(t *testing.T) {
	ctx := context.Background()
	f, c, kyc := setup(t)
	tr := botapi.NewTransport(kyc, c)
	to := handlers.User{ID: 10}
	m := handlers.Message{Text: "Verified", Buttons: [][]handlers.Button{{{Text: "Status", Data: "kyc:status"}}}}
	must(t, tr.Edit(ctx, to, 7, m))
	want := `{"chat_id":10,"message_id":7,"reply_markup":{"inline_keyboard":[[{"callback_data":"kyc:status","text":"Status"}]]},"text":"Verified"}`
	if calls := f.called("editMessageText"); len(calls) != 1 || calls[0].JSON() != want {
		t.Fatalf("calls %v, want %s", calls, want)
	}
	f.failAPI("editMessageText", 400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message", 0)
	must(t, tr.Edit(ctx, to, 7, m))
	f.failAPI("editMessageText", 400, "Bad Request: message to edit not found", 0)
	if err := tr.Edit(ctx, to, 7, m); err == nil || !strings.Contains(err.Error(), "message to edit not found") {
		t.Errorf("err = %v, want the failure", err)
	}
}

// TestDownload: getFile of the Passport file, then its bytes streamed;
// a file without a Bot API file_id, an unknown one, and a file the
// server cannot serve fail.
func TestDownload(t *testing.T) {
	ctx := context.Background()
	f, c, kyc := setup(t)
	tr := botapi.NewTransport(kyc, c)
	content := strings.Repeat("encrypted scan bytes ", 5000)
	f.addFile("DgADBAAD-front", content)
	var buf bytes.Buffer
	must(t, tr.Download(ctx, &passport.File{FileRef: passport.FileRef{FileID: "DgADBAAD-front"}}, &buf))
	if buf.String() != content {
		t.Errorf("downloaded %d bytes, want the file's %d", buf.Len(), len(content))
	}
	if calls := f.called("getFile"); len(calls) != 1 || calls[0].JSON() != `{"file_id":"DgADBAAD-front"}` {
		t.Errorf("getFile calls %v", calls)
	}
	for name, file := range map[string]*passport.File{
		"no file_id": {FileRef: passport.FileRef{ID: 5}},
		"unknown":    {FileRef: passport.FileRef{FileID: "nope"}},
	} {
		if err := tr.Download(ctx, file, &bytes.Buffer{}); err == nil {
			t.Errorf("%s: downloaded", name)
		}
	}
	// getFile knows the file, the file server does not serve it.
	f.fail("getFile", 200, `{"ok":true,"result":{"file_id":"gone","file_unique_id":"u","file_path":"files/gone"}}`)
	if err := tr.Download(ctx, &passport.File{FileRef: passport.FileRef{FileID: "gone"}}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a file the server does not serve: %v", err)
	}
}

// TestPassportElementErrors: every constructor of a secure value error
// becomes the Bot API's PassportElementError of its source, with the
// element type as the Bot API names it and base64 hashes.
func TestPassportElementErrors(t *testing.T) {
	h1, h2 := []byte{1, 2, 3}, []byte{0xfb, 0xff}
	tests := []struct {
		in   tg.SecureValueErrorClass
		want botapi.PassportElementError
	}{
		{&tg.SecureValueErrorData{Type: &tg.SecureValueTypePersonalDetails{}, DataHash: h1, Field: "birth_date", Text: "too young"},
			botapi.PassportElementError{Source: "data", Type: "personal_details", FieldName: "birth_date", DataHash: "AQID", Message: "too young"}},
		{&tg.SecureValueErrorFrontSide{Type: &tg.SecureValueTypePassport{}, FileHash: h2, Text: "blurry"},
			botapi.PassportElementError{Source: "front_side", Type: "passport", FileHash: "+/8=", Message: "blurry"}},
		{&tg.SecureValueErrorReverseSide{Type: &tg.SecureValueTypeDriverLicense{}, FileHash: h1, Text: "cut"},
			botapi.PassportElementError{Source: "reverse_side", Type: "driver_license", FileHash: "AQID", Message: "cut"}},
		{&tg.SecureValueErrorSelfie{Type: &tg.SecureValueTypeIdentityCard{}, FileHash: h1, Text: "dark"},
			botapi.PassportElementError{Source: "selfie", Type: "identity_card", FileHash: "AQID", Message: "dark"}},
		{&tg.SecureValueErrorFile{Type: &tg.SecureValueTypeUtilityBill{}, FileHash: h1, Text: "old"},
			botapi.PassportElementError{Source: "file", Type: "utility_bill", FileHash: "AQID", Message: "old"}},
		{&tg.SecureValueErrorFiles{Type: &tg.SecureValueTypeBankStatement{}, FileHash: [][]byte{h1, h2}, Text: "unreadable"},
			botapi.PassportElementError{Source: "files", Type: "bank_statement", FileHashes: []string{"AQID", "+/8="}, Message: "unreadable"}},
		{&tg.SecureValueErrorTranslationFile{Type: &tg.SecureValueTypeInternalPassport{}, FileHash: h2, Text: "not certified"},
			botapi.PassportElementError{Source: "translation_file", Type: "internal_passport", FileHash: "+/8=", Message: "not certified"}},
		{&tg.SecureValueErrorTranslationFiles{Type: &tg.SecureValueTypeRentalAgreement{}, FileHash: [][]byte{h2}, Text: "missing pages"},
			botapi.PassportElementError{Source: "translation_files", Type: "rental_agreement", FileHashes: []string{"+/8="}, Message: "missing pages"}},
		{&tg.SecureValueError{Type: &tg.SecureValueTypeAddress{}, Hash: h1, Text: "check it"},
			botapi.PassportElementError{Source: "unspecified", Type: "address", ElementHash: "AQID", Message: "check it"}},
		{&tg.SecureValueError{Type: &tg.SecureValueTypePassportRegistration{}, Hash: h1, Text: "x"},
			botapi.PassportElementError{Source: "unspecified", Type: "passport_registration", ElementHash: "AQID", Message: "x"}},
		{&tg.SecureValueError{Type: &tg.SecureValueTypeTemporaryRegistration{}, Hash: h1, Text: "x"},
			botapi.PassportElementError{Source: "unspecified", Type: "temporary_registration", ElementHash: "AQID", Message: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.want.Source+" "+tt.want.Type, func(t *testing.T) {
			got, err := botapi.PassportElementErrors([]tg.SecureValueErrorClass{tt.in})
			if err != nil || len(got) != 1 {
				t.Fatalf("PassportElementErrors = %v, %v", got, err)
			}
			if !reflect.DeepEqual(got[0], tt.want) {
				t.Errorf("got %+v\nwant %+v", got[0], tt.want)
			}
		})
	}
	if _, err := botapi.PassportElementErrors([]tg.SecureValueErrorClass{&tg.SecureValueErrorData{Text: "no type"}}); err == nil {
		t.Error("an error without an element type was converted")
	}
}

// TestCalls: the other calls, exactly, and their failures returned.
func TestCalls(t *testing.T) {
	ctx := context.Background()
	cmds := []handlers.BotCommand{{Command: "start", Description: "Introduction"}, {Command: "help", Description: "Help"}}
	const jsonCmds = `[{"command":"start","description":"Introduction"},{"command":"help","description":"Help"}]`
	tests := []struct {
		name   string
		method string
		call   func(tr *botapi.Transport) error
		want   string
	}{
		{"setPassportDataErrors", "setPassportDataErrors", func(tr *botapi.Transport) error {
			return tr.SetSecureValueErrors(ctx, handlers.User{ID: 10}, []tg.SecureValueErrorClass{
				&tg.SecureValueErrorSelfie{Type: &tg.SecureValueTypePassport{}, FileHash: []byte{3}, Text: "too small"}})
		}, `{"errors":[{"file_hash":"Aw==","message":"too small","source":"selfie","type":"passport"}],"user_id":10}`},
		{"answerCallbackQuery with a notice", "answerCallbackQuery", func(tr *botapi.Transport) error { return tr.AnswerCallback(ctx, 99, "done") },
			`{"callback_query_id":"99","text":"done"}`},
		{"answerCallbackQuery without", "answerCallbackQuery", func(tr *botapi.Transport) error { return tr.AnswerCallback(ctx, -4611686018427387904, "") },
			`{"callback_query_id":"-4611686018427387904"}`},
		{"setMyCommands for a language", "setMyCommands", func(tr *botapi.Transport) error { return tr.SetCommands(ctx, "pt", cmds) },
			`{"commands":` + jsonCmds + `,"language_code":"pt","scope":{"type":"default"}}`},
		{"setMyCommands for everybody else", "setMyCommands", func(tr *botapi.Transport) error { return tr.SetCommands(ctx, "", cmds) },
			`{"commands":` + jsonCmds + `,"scope":{"type":"default"}}`},
		{"setMyCommands in a chat", "setMyCommands", func(tr *botapi.Transport) error {
			return tr.SetUserCommands(ctx, handlers.User{ID: 10}, "de", cmds)
		}, `{"commands":` + jsonCmds + `,"language_code":"de","scope":{"chat_id":10,"type":"chat"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c, kyc := setup(t)
			tr := botapi.NewTransport(kyc, c)
			must(t, tt.call(tr))
			if calls := f.called(""); len(calls) != 1 || calls[0].Method != tt.method || calls[0].JSON() != tt.want {
				t.Fatalf("calls %v, want %s %s", calls, tt.method, tt.want)
			}
		})
		t.Run(tt.name+" fails", func(t *testing.T) {
			f, c, kyc := setup(t)
			tr := botapi.NewTransport(kyc, c)
			for range 2 {
				f.failAPI(tt.method, 403, "Forbidden: bot was blocked by the user", 0)
			}
			err := tt.call(tr)
			if e, isAPI := botapi.AsError(err); !isAPI || e.Code != 403 {
				t.Errorf("err = %v, want the 403", err)
			}
		})
	}
}

// TestAnswerUnsignedQueryID: a negative query ID refused in its signed
// form is answered in its unsigned one (a server that gave it unsigned).
func TestAnswerUnsignedQueryID(t *testing.T) {
	f, c, kyc := setup(t)
	id, ok := botapi.ParseQueryID("18446744073709551493")
	if !ok || id != -123 {
		t.Fatalf("ParseQueryID = %d, %v", id, ok)
	}
	f.failAPI("answerCallbackQuery", 400, "Bad Request: query ID is invalid", 0)
	must(t, botapi.NewTransport(kyc, c).AnswerCallback(context.Background(), id, ""))
	calls := f.called("answerCallbackQuery")
	if len(calls) != 2 || calls[0].JSON() != `{"callback_query_id":"-123"}` || calls[1].JSON() != `{"callback_query_id":"18446744073709551493"}` {
		t.Errorf("calls %v", calls)
	}
}

// TestSelf: the bot asks who it is once; a token that is not a bot's is
// refused.
func TestSelf(t *testing.T) {
	ctx := context.Background()
	f, c, kyc := setup(t)
	tr := botapi.NewTransport(kyc, c)
	for range 2 {
		self, err := tr.Self(ctx)
		if err != nil || self.ID != 7000001 || self.Username != "acme_shop_bot" {
			t.Fatalf("Self = %+v, %v", self, err)
		}
	}
	if n := len(f.called("getMe")); n != 1 {
		t.Errorf("%d getMe calls, want 1", n)
	}
	f2, c2, kyc2 := setup(t)
	f2.fail("getMe", 200, `{"ok":true,"result":{"id":42,"is_bot":false,"first_name":"Ada"}}`)
	if _, err := botapi.NewTransport(kyc2, c2).Self(ctx); err == nil || !strings.Contains(err.Error(), "not a bot's") {
		t.Errorf("err = %v, want a refusal", err)
	}
	// Resolve needs nothing.
	u, err := tr.Resolve(ctx, handlers.User{ID: 10, LangCode: "de"})
	if err != nil || u != (handlers.User{ID: 10, LangCode: "de"}) {
		t.Errorf("Resolve = %+v, %v", u, err)
	}
}

// TestPassportElementErrorJSON: each source sends its own fields, even
// empty (the Bot API requires them), and no other; an unknown source is
// an error.
func TestPassportElementErrorJSON(t *testing.T) {
	for _, tc := range []struct {
		in   botapi.PassportElementError
		want string
	}{
		{botapi.PassportElementError{Source: "data", Type: "passport", FieldName: "expiry_date", DataHash: "AQ==", FileHash: "x", Message: "m"},
			`{"data_hash":"AQ==","field_name":"expiry_date","message":"m","source":"data","type":"passport"}`},
		{botapi.PassportElementError{Source: "selfie", Type: "passport", Message: "m"},
			`{"file_hash":"","message":"m","source":"selfie","type":"passport"}`},
		{botapi.PassportElementError{Source: "files", Type: "utility_bill", Message: "m"},
			`{"file_hashes":[],"message":"m","source":"files","type":"utility_bill"}`},
		{botapi.PassportElementError{Source: "unspecified", Type: "email", ElementHash: "AQ==", Message: "m"},
			`{"element_hash":"AQ==","message":"m","source":"unspecified","type":"email"}`},
	} {
		if got := jsonOf(tc.in); got != tc.want {
			t.Errorf("got %s\nwant %s", got, tc.want)
		}
	}
	if _, err := json.Marshal(botapi.PassportElementError{Source: "elsewhere"}); err == nil {
		t.Error("an unknown source was marshaled")
	}
}

// TestSendWaitsForAnotherSender: while another instance sends a keyed
// message (it holds the key's lock), a sender of the same message waits:
// for its record (then it sends nothing and gets its ID) or, when that
// send failed, for the lock to go (then it sends).
func TestSendWaitsForAnotherSender(t *testing.T) {
	ctx := context.Background()
	f, c, kyc := setup(t)
	tr := botapi.NewTransport(kyc, c)
	sent := kyc.Store().Sent()
	for _, otherSucceeds := range []bool{true, false} {
		key := fmt.Sprintf("u9:verdict:%v", otherSucceeds)
		other, err := sent.Claim(ctx, key, time.Minute)
		if err != nil || !other.Held {
			t.Fatalf("the other instance's Claim = %+v, %v", other, err)
		}
		before := len(f.called("sendMessage"))
		got := make(chan int, 1)
		go func() {
			id, err := tr.SendEditable(ctx, handlers.User{ID: 10}, handlers.Message{Text: "v", Key: key})
			if err != nil {
				t.Error(err)
			}
			got <- id
		}()
		time.Sleep(300 * time.Millisecond) // the sender finds the lock taken
		select {
		case id := <-got:
			t.Fatalf("SendEditable returned %d while another instance held the message", id)
		default:
		}
		if otherSucceeds {
			must(t, sent.Record(ctx, key, 777, time.Hour))
			if id := <-got; id != 777 {
				t.Errorf("SendEditable = %d, want the other instance's message 777", id)
			}
			if n := len(f.called("sendMessage")) - before; n != 0 {
				t.Errorf("%d sendMessage calls, want none", n)
			}
			continue
		}
		must(t, sent.Release(ctx, key, other.Token))
		if id := <-got; id == 0 || id == 777 {
			t.Errorf("SendEditable = %d, want its own message", id)
		}
		if n := len(f.called("sendMessage")) - before; n != 1 {
			t.Errorf("%d sendMessage calls, want 1", n)
		}
	}
}
