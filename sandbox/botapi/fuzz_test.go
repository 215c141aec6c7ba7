package botapi

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"unicode/utf16"
)

// FuzzReadParams feeds request bodies of every content type to the
// parameter parser: it answers parameters or a Bad Request, never panics,
// and every accessor answers a value or a Bad Request.
func FuzzReadParams(f *testing.F) {
	for _, s := range []struct{ ctype, body string }{
		{"application/json", `{"chat_id":42,"text":"hi","reply_markup":{"inline_keyboard":[[{"text":"a","url":"https://x"}]]}}`},
		{"application/json", `{"offset":-1,"limit":"5","timeout":null,"allowed_updates":["message"]}`},
		{"application/json", `{"errors":"[{\"source\":\"data\"}]","user_id":"7"}`},
		{"application/x-www-form-urlencoded", "chat_id=1&text=%2Fstart&reply_markup=%7B%22inline_keyboard%22%3A%5B%5D%7D"},
		{"multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n5\r\n--XX--\r\n"},
		{"", "offset=3"},
		{"application/json", `[1,2]`},
	} {
		f.Add(s.ctype, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/botx/getUpdates?limit=2", bytes.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		p, err := readParams(r)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.code < 400 || ae.code > 499 {
				t.Fatalf("error %v is not a 4xx Bot API error", err)
			}
			return
		}
		for name := range p {
			checkAPIError(t, func() error { _, _, err := p.int64(name); return err })
			checkAPIError(t, func() error { _, err := p.bool(name); return err })
			var m apiMarkup
			_, objErr := p.object(name, &m)
			checkAPIError(t, func() error { return objErr })
			if objErr == nil {
				checkAPIError(t, func() error { _, err := m.tl(); return err })
			}
			var pe []apiPassportError
			if _, err := p.object(name, &pe); err == nil {
				for i, e := range pe {
					checkAPIError(t, func() error { _, err := e.secureValueError(i); return err })
				}
			}
		}
	})
}

func checkAPIError(t *testing.T, f func() error) {
	t.Helper()
	err := f()
	if err == nil {
		return
	}
	var ae *apiError
	if !errors.As(err, &ae) || ae.code != http.StatusBadRequest {
		t.Fatalf("error %v is not a Bad Request", err)
	}
}

// FuzzFileID: a file_id decodes to the reference it was minted from, and
// anything else is refused without a panic.
func FuzzFileID(f *testing.F) {
	f.Add("", int64(0), int64(0), int64(0), uint8(2))
	f.Add(fileRef{DC: 4, ID: 1, AccessHash: -5, Size: 1 << 20}.fileID(), int64(7), int64(-9), int64(300), uint8(4))
	f.Fuzz(func(t *testing.T, s string, id, hash, size int64, dc uint8) {
		if r, err := parseFileID(s); err == nil && r.fileID() != s {
			t.Fatalf("%q decodes to %+v, which encodes to %q", s, r, r.fileID())
		}
		ref := fileRef{DC: int(dc%5) + 1, ID: id, AccessHash: hash, Size: size & (1<<62 - 1)}
		got, err := parseFileID(ref.fileID())
		if err != nil || got != ref {
			t.Fatalf("%+v: round trip %+v, %v", ref, got, err)
		}
	})
}

// FuzzCommandEntities: every entity lies inside the text (UTF-16 units)
// and covers a command.
func FuzzCommandEntities(f *testing.F) {
	for _, s := range []string{"/start", "/start ref-42", "hi /help@kyc_bot now", "Ünïcode 👋 /verify", "/a/b", "x/y", "/start\n/stop"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		u := utf16.Encode([]rune(text))
		for _, e := range commandEntities(text) {
			if e.Offset < 0 || e.Length < 2 || e.Offset+e.Length > len(u) {
				t.Fatalf("entity %+v outside %q", e, text)
			}
			if u[e.Offset] != '/' {
				t.Fatalf("entity %+v of %q does not start with /", e, text)
			}
		}
	})
}

func TestCommandEntities(t *testing.T) {
	for _, tt := range []struct {
		text string
		want []apiEntity
	}{
		{"/start", []apiEntity{{Type: "bot_command", Offset: 0, Length: 6}}},
		{"/start ref-42", []apiEntity{{Type: "bot_command", Offset: 0, Length: 6}}},
		{"👋 /help@kyc_bot now", []apiEntity{{Type: "bot_command", Offset: 3, Length: 13}}},
		{"/a /b", []apiEntity{{Type: "bot_command", Offset: 0, Length: 2}, {Type: "bot_command", Offset: 3, Length: 2}}},
		{"x/y", nil},
		{"/a/b", nil},
		{"hello", nil},
	} {
		got := commandEntities(tt.text)
		if len(got) != len(tt.want) {
			t.Fatalf("%q: %+v, want %+v", tt.text, got, tt.want)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Fatalf("%q: %+v, want %+v", tt.text, got, tt.want)
			}
		}
	}
}
