package passport_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/kycbot/kycbot/passport"
)

// FuzzParseScope checks that ParseScope never panics, that its errors wrap a
// sentinel, and that every scope it accepts encodes to a canonical form that
// parses back to an equal Scope.
func FuzzParseScope(f *testing.F) {
	for _, seed := range []string{
		`{"v":1,"d":["pd"]}`,
		`{"v":1,"d":[{"_":"pd","n":1},{"_":["pp","dl","ic"],"s":1,"t":1},"ad","pn","em"]}`,
		`{"v":1,"d":[{"_":"idd","s":true},{"_":"add","t":1}]}`,
		`{"v":1,"d":[{"_":["pp",{"_":"ip"}],"s":0,"x":null}]}`,
		`{"v":1,"d":[{"_":["pp","ub"]}]}`,
		`{"v":2,"d":[]}`,
		`null`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := passport.ParseScope(in)
		if err != nil {
			if !errors.Is(err, passport.ErrMalformed) && !errors.Is(err, passport.ErrNotAllowed) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			if s.Elements != nil {
				t.Fatalf("elements returned with an error")
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("parsed scope does not validate: %v", err)
		}
		enc, err := s.Encode()
		if err != nil {
			t.Fatalf("Encode of a parsed scope: %v", err)
		}
		back, err := passport.ParseScope(enc)
		if err != nil {
			t.Fatalf("ParseScope(Encode) = %v for %s", err, enc)
		}
		if !reflect.DeepEqual(back, s) {
			t.Fatalf("round trip through %s: %#v != %#v", enc, back, s)
		}
		if enc2, err := back.Encode(); err != nil || enc2 != enc {
			t.Fatalf("encoding not canonical: %s then %s (%v)", enc, enc2, err)
		}
		var viaJSON passport.Scope
		if err := json.Unmarshal([]byte(enc), &viaJSON); err != nil || !reflect.DeepEqual(viaJSON, s) {
			t.Fatalf("json.Unmarshal(%s) = %#v, %v", enc, viaJSON, err)
		}
		types := s.Types()
		if len(types) == 0 || len(s.Missing(types)) != 0 {
			t.Fatalf("Types %v do not cover the scope", types)
		}
		for _, typ := range types {
			if !s.Contains(typ) {
				t.Fatalf("scope does not contain its type %s", typ)
			}
		}
		_ = s.String()
	})
}

// FuzzParseLink checks that ParseLink never panics, that its errors wrap a
// sentinel, and that every link it accepts builds, in every form, a URL that
// parses back to an equal Link.
func FuzzParseLink(f *testing.F) {
	l := passport.Link{
		BotID:       543260180,
		Scope:       passport.NewScope(passport.Require(passport.TypePersonalDetails).WithNativeNames(), passport.RequireOneOf(passport.TypePassport, passport.TypeIdentityCard).WithSelfie()),
		PublicKey:   linkTestKey,
		Nonce:       "n0nce+/=",
		CallbackURL: "https://example.com/cb?a=1",
	}
	for _, opts := range [][]passport.LinkOption{
		nil,
		{passport.WithLinkForm(passport.LinkAndroid)},
		{passport.WithLinkForm(passport.LinkPassport), passport.WithLegacyPayload()},
	} {
		u, err := l.URL(opts...)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(u)
	}
	f.Add("tg://resolve?domain=telegrampassport&bot_id=1&scope=%7B%7D&public_key=x&payload=p")
	f.Add("tg:passport?bot_id=00&nonce=&nonce=")
	forms := [][]passport.LinkOption{
		nil,
		{passport.WithLinkForm(passport.LinkAndroid), passport.WithLegacyPayload()},
		{passport.WithLinkForm(passport.LinkPassport)},
	}
	f.Fuzz(func(t *testing.T, raw string) {
		l, err := passport.ParseLink(raw)
		if err != nil {
			if !errors.Is(err, passport.ErrMalformed) && !errors.Is(err, passport.ErrNotAllowed) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			if !reflect.DeepEqual(l, passport.Link{}) {
				t.Fatalf("link returned with an error")
			}
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("parsed link does not validate: %v", err)
		}
		for _, opts := range forms {
			u, err := l.URL(opts...)
			if err != nil {
				t.Fatalf("URL of a parsed link: %v", err)
			}
			back, err := passport.ParseLink(u)
			if err != nil {
				t.Fatalf("ParseLink(URL) = %v for %s", err, u)
			}
			if !reflect.DeepEqual(back, l) {
				t.Fatalf("round trip through %s: %#v != %#v", u, back, l)
			}
		}
	})
}
