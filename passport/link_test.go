package passport_test

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/kycbot/kycbot/passport"
)

// linkTestKey is the public half of a throw-away 2048-bit key (the private
// half was never kept).
const linkTestKey = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzazcq2S+7H0TFQM2cI0c
g+qwWjprld+VTFiqULwSn8OJdxQisHH12n5UDF7TCwIDANECF0MA5vgATDRwqV5s
RDwhpLK1ojjLkzjDlLbeQsPwJKCXjA29jz5hPKFhGEqL7al6pY16wl6aCGvUuccW
x2zD+OgT3cuvN0BMVlrp0hABkCJhlCaWAvAnBtmMw8QXcDA2rzYIQfjTzUc5S0fR
3mKPx/ookpnZD3/D9ZazsLKFm4FxmjRbiBqNujIRxn544wugX+9owNUE7Vi6P7X8
9ue5GxGC5n4wVjTaQa+trrw6IRLMJsIRsgyNwfRTCA4rd5q10iWdHhEZd+6uDR16
EwIDAQAB
-----END PUBLIC KEY-----
`

// linkTestPKCS1Key is a throw-away public key in the PKCS#1 form that
// TDLib-based apps cannot read.
const linkTestPKCS1Key = `-----BEGIN RSA PUBLIC KEY-----
MIGJAoGBAN16RYhtOYbkfYTkMgcB3edFycgn4AUO9Kh0dvJUtu3U/67euLFJeZNd
jcYRugtEzt/ppz8iKxr7IHojWXO4HI2VmG8T7egUSQppMneZANlCuh3lYSzt2BDA
nKwIrvkeTwHU8gIAmTAVuoGdfpZf0vDK9A4aan1gBEIqcpKDwCTXAgMBAAE=
-----END RSA PUBLIC KEY-----
`

// linkTestECKey is a throw-away P-256 public key: valid SPKI, but not RSA.
const linkTestECKey = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAETPhbbZV2IvCmtB6oI7sSdTfBdHyg
6osfNmj+0RFAM8c/AAJz8MlQzUS7I6Lag15q3MrQBVothIrU3E4dfdQbzw==
-----END PUBLIC KEY-----
`

func linkTestLink() passport.Link {
	return passport.Link{
		BotID: 543260180,
		Scope: passport.NewScope(
			passport.Require(passport.TypePersonalDetails).WithNativeNames(),
			passport.RequireOneOf(passport.TypePassport, passport.TypeDriverLicense, passport.TypeIdentityCard).WithSelfie().WithTranslation(),
			passport.Require(passport.TypeAddress),
			passport.Require(passport.TypePhoneNumber),
		),
		PublicKey:   linkTestKey,
		Nonce:       "b8f1d2c4 e+/=&?#%é",
		CallbackURL: "https://example.com/passport?user=1&x=a b",
	}
}

func TestLinkURLForms(t *testing.T) {
	l := linkTestLink()
	tests := []struct {
		name    string
		opts    []passport.LinkOption
		prefix  string
		payload bool
	}{
		{"default", nil, "tg://resolve?domain=telegrampassport&bot_id=543260180&scope=", false},
		{"resolve", []passport.LinkOption{passport.WithLinkForm(passport.LinkResolve)}, "tg://resolve?domain=telegrampassport&bot_id=543260180&scope=", false},
		{"android", []passport.LinkOption{passport.WithLinkForm(passport.LinkAndroid)}, "tg:resolve?domain=telegrampassport&bot_id=543260180&scope=", false},
		{"passport", []passport.LinkOption{passport.WithLinkForm(passport.LinkPassport)}, "tg://passport?bot_id=543260180&scope=", false},
		{"resolve+payload", []passport.LinkOption{passport.WithLegacyPayload()}, "tg://resolve?domain=telegrampassport&bot_id=", true},
		{"android+payload", []passport.LinkOption{passport.WithLinkForm(passport.LinkAndroid), passport.WithLegacyPayload()}, "tg:resolve?domain=telegrampassport&bot_id=", true},
		{"passport+payload", []passport.LinkOption{passport.WithLegacyPayload(), passport.WithLinkForm(passport.LinkPassport)}, "tg://passport?bot_id=", true},
		{"nil option", []passport.LinkOption{nil}, "tg://resolve?domain=telegrampassport&bot_id=", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := l.URL(tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(u, tt.prefix) {
				t.Errorf("URL = %s, want prefix %s", u, tt.prefix)
			}
			// Every value is encoded: no raw space, newline, '+' or '/' in the
			// query, and exactly the expected parameters in order.
			_, query, _ := strings.Cut(u, "?")
			if strings.ContainsAny(query, " \n+/{}\"") {
				t.Errorf("query has unencoded characters: %s", query)
			}
			var keys []string
			for _, kv := range strings.Split(query, "&") {
				k, _, _ := strings.Cut(kv, "=")
				keys = append(keys, k)
			}
			want := []string{"bot_id", "scope", "public_key", "nonce", "callback_url"}
			if !strings.Contains(tt.prefix, "passport?") {
				want = append([]string{"domain"}, want...)
			}
			if tt.payload {
				want = append(want, "payload")
			}
			if !reflect.DeepEqual(keys, want) {
				t.Errorf("parameters %v, want %v", keys, want)
			}
			q, err := url.ParseQuery(query)
			if err != nil {
				t.Fatal(err)
			}
			if q.Get("public_key") != linkTestKey || q.Get("nonce") != l.Nonce || q.Get("callback_url") != l.CallbackURL {
				t.Errorf("values do not decode back: %v", q)
			}
			if tt.payload && q.Get("payload") != l.Nonce {
				t.Errorf("payload = %q, want the nonce", q.Get("payload"))
			}
			if enc, _ := l.Scope.Encode(); q.Get("scope") != enc {
				t.Errorf("scope = %s, want %s", q.Get("scope"), enc)
			}
			back, err := passport.ParseLink(u)
			if err != nil {
				t.Fatalf("ParseLink: %v", err)
			}
			if !reflect.DeepEqual(back, l) {
				t.Errorf("round trip gave %#v\nwant %#v", back, l)
			}
		})
	}
}

func TestLinkURLSpacesArePercentEncoded(t *testing.T) {
	u, err := linkTestLink().URL()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(u, "-----BEGIN%20PUBLIC%20KEY-----%0A") {
		t.Errorf("public key not encoded like encodeURIComponent: %s", u)
	}
	if !strings.Contains(u, "%2B") {
		t.Errorf("'+' in the nonce not encoded: %s", u)
	}
}

func TestLinkRoundTripWithoutCallback(t *testing.T) {
	l := linkTestLink()
	l.CallbackURL = ""
	l.Nonce = "n"
	l.Scope = passport.NewScope(passport.Require(passport.TypeEmail))
	for _, f := range []passport.LinkForm{passport.LinkResolve, passport.LinkAndroid, passport.LinkPassport} {
		for _, payload := range []bool{false, true} {
			opts := []passport.LinkOption{passport.WithLinkForm(f)}
			if payload {
				opts = append(opts, passport.WithLegacyPayload())
			}
			u, err := l.URL(opts...)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(u, "callback_url") {
				t.Errorf("URL has an empty callback_url: %s", u)
			}
			back, err := passport.ParseLink(u)
			if err != nil || !reflect.DeepEqual(back, l) {
				t.Errorf("ParseLink(%s) = %#v, %v", u, back, err)
			}
		}
	}
}

func TestLinkURLInvalid(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*passport.Link)
		opts     []passport.LinkOption
		sentinel error
		words    []string
	}{
		{"zero bot id", func(l *passport.Link) { l.BotID = 0 }, nil, passport.ErrMalformed, []string{"bot_id"}},
		{"negative bot id", func(l *passport.Link) { l.BotID = -5 }, nil, passport.ErrMalformed, []string{"bot_id"}},
		{"empty nonce", func(l *passport.Link) { l.Nonce = "" }, nil, passport.ErrMalformed, []string{"nonce", "NONCE_EMPTY"}},
		{"nonce not utf-8", func(l *passport.Link) { l.Nonce = "\xff\xfe" }, nil, passport.ErrMalformed, []string{"nonce", "UTF-8"}},
		{"empty key", func(l *passport.Link) { l.PublicKey = " \n" }, nil, passport.ErrMalformed, []string{"public_key", "PUBLIC_KEY_REQUIRED"}},
		{"key not pem", func(l *passport.Link) { l.PublicKey = "MIIBIjANBgkq" }, nil, passport.ErrMalformed, []string{"public_key", "not PEM"}},
		{"pkcs1 key", func(l *passport.Link) { l.PublicKey = linkTestPKCS1Key }, nil, passport.ErrMalformed, []string{"PKCS#1", "TDLib"}},
		{"ec key", func(l *passport.Link) { l.PublicKey = linkTestECKey }, nil, passport.ErrMalformed, []string{"RSA"}},
		{"private key", func(l *passport.Link) {
			l.PublicKey = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
		}, nil, passport.ErrMalformed, []string{`"PRIVATE KEY"`, "not a public key"}},
		{"garbage key body", func(l *passport.Link) {
			l.PublicKey = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
		}, nil, passport.ErrMalformed, []string{"not a valid SPKI"}},
		{"two keys", func(l *passport.Link) { l.PublicKey = linkTestKey + linkTestKey }, nil, passport.ErrMalformed, []string{"after the PEM block"}},
		{"relative callback", func(l *passport.Link) { l.CallbackURL = "/passport/done" }, nil, passport.ErrMalformed, []string{"callback_url"}},
		{"bad callback", func(l *passport.Link) { l.CallbackURL = "https://exa mple.com/%zz" }, nil, passport.ErrMalformed, []string{"callback_url"}},
		{"empty scope", func(l *passport.Link) { l.Scope = passport.Scope{} }, nil, passport.ErrNotAllowed, []string{"scope", "SCOPE_EMPTY"}},
		{"invalid scope", func(l *passport.Link) {
			l.Scope = passport.NewScope(passport.Require(passport.TypeUtilityBill).WithSelfie())
		}, nil, passport.ErrNotAllowed, []string{"scope element 1", "selfie"}},
		{"unknown form", func(*passport.Link) {}, []passport.LinkOption{passport.WithLinkForm(7)}, passport.ErrMalformed, []string{"form 7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := linkTestLink()
			tt.edit(&l)
			u, err := l.URL(tt.opts...)
			if !errors.Is(err, tt.sentinel) || u != "" {
				t.Fatalf("URL = %q, %v; want error wrapping %v", u, err, tt.sentinel)
			}
			for _, w := range tt.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "MIIB") {
				t.Errorf("error echoes the key: %v", err)
			}
		})
	}
	// Every problem at once.
	err := passport.Link{}.Validate()
	for _, w := range []string{"bot_id", "scope", "public_key", "nonce"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate of a zero Link: %v does not mention %s", err, w)
		}
	}
}

func TestParseLinkAccepts(t *testing.T) {
	l := linkTestLink()
	l.CallbackURL = ""
	good, err := l.URL()
	if err != nil {
		t.Fatal(err)
	}
	_, query, _ := strings.Cut(good, "?")
	rest := strings.TrimPrefix(query, "domain=telegrampassport&")
	withoutNonce := strings.Replace(rest, "&nonce=", "&payload=", 1)
	tests := []struct {
		name, raw string
	}{
		{"resolve", "tg://resolve?" + query},
		{"android", "tg:resolve?" + query},
		{"passport", "tg://passport?" + rest},
		{"android passport", "tg:passport?" + rest},
		{"passport ignores domain", "tg://passport?domain=other&" + rest},
		{"upper-case scheme and host", "TG://RESOLVE?" + query},
		{"domain any case", "tg://resolve?domain=TelegramPassport&" + rest},
		{"trailing slash", "tg://resolve/?" + query},
		{"surrounding space", "  tg://resolve?" + query + "\n"},
		{"fragment ignored", "tg://resolve?" + query + "#frag"},
		{"parameters in another order", "tg://resolve?" + rest + "&domain=telegrampassport"},
		{"unknown parameters ignored", "tg://resolve?" + query + "&foo=bar&start=x"},
		{"legacy payload instead of nonce", "tg://resolve?domain=telegrampassport&" + withoutNonce},
		{"nonce wins over the JS SDK's literal payload", "tg://resolve?" + query + "&payload=nonce"},
		{"plus as space", "tg://resolve?" + strings.ReplaceAll(query, "%20", "+")},
	}
	for _, tt := range tests {
		got, err := passport.ParseLink(tt.raw)
		if err != nil {
			t.Errorf("%s: ParseLink: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(got, l) {
			t.Errorf("%s: ParseLink = %#v", tt.name, got)
		}
	}
}

func TestParseLinkRejects(t *testing.T) {
	l := linkTestLink()
	good, err := l.URL()
	if err != nil {
		t.Fatal(err)
	}
	_, query, _ := strings.Cut(good, "?")
	rest := strings.TrimPrefix(query, "domain=telegrampassport&")
	drop := func(key string) string {
		var kept []string
		for _, kv := range strings.Split(query, "&") {
			if !strings.HasPrefix(kv, key+"=") {
				kept = append(kept, kv)
			}
		}
		return "tg://resolve?" + strings.Join(kept, "&")
	}
	set := func(key, value string) string {
		var out []string
		for _, kv := range strings.Split(query, "&") {
			if strings.HasPrefix(kv, key+"=") {
				kv = key + "=" + value
			}
			out = append(out, kv)
		}
		return "tg://resolve?" + strings.Join(out, "&")
	}
	tests := []struct {
		name, raw string
		sentinel  error
		words     []string
	}{
		{"empty", "", passport.ErrMalformed, []string{"tg://resolve?"}},
		{"not a url", "tg://resolve\x7f?%", passport.ErrMalformed, nil},
		{"https", "https://t.me/resolve?" + query, passport.ErrMalformed, []string{"tg://resolve?"}},
		{"other tg action", "tg://msg?" + query, passport.ErrMalformed, []string{"tg://resolve?"}},
		{"tg with path", "tg://resolve/x?" + query, passport.ErrMalformed, nil},
		{"tg with user", "tg://u@resolve?" + query, passport.ErrMalformed, nil},
		{"tg with port", "tg://resolve:1?" + query, passport.ErrMalformed, nil},
		{"bad escape", "tg://resolve?" + query + "&x=%zz", passport.ErrMalformed, []string{"URL encoding"}},
		{"semicolon", "tg://resolve?" + query + ";x=1", passport.ErrMalformed, []string{"URL encoding"}},
		{"no domain", "tg://resolve?" + rest, passport.ErrMalformed, []string{"no domain parameter"}},
		{"other domain", "tg://resolve?domain=durov&" + rest, passport.ErrMalformed, []string{`"durov"`}},
		{"no bot_id", drop("bot_id"), passport.ErrMalformed, []string{"no bot_id"}},
		{"bot_id zero", set("bot_id", "0"), passport.ErrMalformed, []string{"bot_id"}},
		{"bot_id negative", set("bot_id", "-1"), passport.ErrMalformed, []string{"bot_id"}},
		{"bot_id plus", set("bot_id", "%2B1"), passport.ErrMalformed, []string{"bot_id"}},
		{"bot_id hex", set("bot_id", "0x10"), passport.ErrMalformed, []string{"bot_id"}},
		{"bot_id too large", set("bot_id", "9223372036854775808"), passport.ErrMalformed, []string{"bot_id"}},
		{"bot_id empty", set("bot_id", ""), passport.ErrMalformed, []string{"bot_id"}},
		{"bot_id twice", "tg://resolve?" + query + "&bot_id=1", passport.ErrMalformed, []string{"2 bot_id parameters"}},
		{"no scope", drop("scope"), passport.ErrMalformed, []string{"no scope"}},
		{"scope not json", set("scope", "pd,pp"), passport.ErrMalformed, []string{"scope", "invalid JSON"}},
		{"scope v2", set("scope", url.QueryEscape(`{"v":2,"d":["pd"]}`)), passport.ErrMalformed, []string{"scope", "version 2"}},
		{"scope not allowed", set("scope", url.QueryEscape(`{"v":1,"d":[{"_":"pd","s":1}]}`)), passport.ErrNotAllowed, []string{"scope", "selfie"}},
		{"no public_key", drop("public_key"), passport.ErrMalformed, []string{"no public_key"}},
		{"empty public_key", set("public_key", ""), passport.ErrMalformed, []string{"public_key", "PUBLIC_KEY_REQUIRED"}},
		{"pkcs1 public_key", set("public_key", url.QueryEscape(linkTestPKCS1Key)), passport.ErrMalformed, []string{"PKCS#1"}},
		{"no nonce", drop("nonce"), passport.ErrMalformed, []string{"no nonce parameter"}},
		{"empty nonce", set("nonce", ""), passport.ErrMalformed, []string{"nonce", "NONCE_EMPTY"}},
		{"empty payload", drop("nonce") + "&payload=", passport.ErrMalformed, []string{"nonce", "NONCE_EMPTY"}},
		{"nonce twice", "tg://resolve?" + query + "&nonce=x", passport.ErrMalformed, []string{"2 nonce parameters"}},
		{"payload twice", drop("nonce") + "&payload=a&payload=b", passport.ErrMalformed, []string{"2 payload parameters"}},
		{"nonce not utf-8", set("nonce", "%FF"), passport.ErrMalformed, []string{"UTF-8"}},
		{"relative callback", set("callback_url", "%2Fdone"), passport.ErrMalformed, []string{"callback_url"}},
		{"callback twice", "tg://resolve?" + query + "&callback_url=https%3A%2F%2Fa", passport.ErrMalformed, []string{"2 callback_url parameters"}},
	}
	for _, tt := range tests {
		got, err := passport.ParseLink(tt.raw)
		if !errors.Is(err, tt.sentinel) {
			t.Errorf("%s: ParseLink = %#v, %v; want error wrapping %v", tt.name, got, err, tt.sentinel)
			continue
		}
		if !reflect.DeepEqual(got, passport.Link{}) {
			t.Errorf("%s: ParseLink returned a Link with an error", tt.name)
		}
		for _, w := range tt.words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tt.name, err, w)
			}
		}
	}
	// Every problem at once.
	_, err = passport.ParseLink("tg://resolve?domain=x&bot_id=0&scope=%7B%7D")
	for _, w := range []string{"domain", "bot_id", "scope", "public_key", "nonce"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("ParseLink error %v does not mention %s", err, w)
		}
	}
}

func TestLinkBotIDFromToken(t *testing.T) {
	for _, tt := range []struct {
		token string
		want  int64
	}{
		{"123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11", 123456},
		{"7:x", 7},
		{"9223372036854775807:AAA", 9223372036854775807},
		{"123:a:b", 123},
	} {
		got, err := passport.BotIDFromToken(tt.token)
		if err != nil || got != tt.want {
			t.Errorf("BotIDFromToken(%q) = %d, %v; want %d", tt.token, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "123456", "123456:", ":secret", "abc:secret", "-5:secret", "0:secret", "+5:secret", " 5:secret",
		"9223372036854775808:secret", "12 34:secret", "0x10:secret"} {
		_, err := passport.BotIDFromToken(bad)
		if !errors.Is(err, passport.ErrMalformed) {
			t.Errorf("BotIDFromToken(%q) error = %v, want ErrMalformed", bad, err)
			continue
		}
		if i := strings.IndexByte(bad, ':'); i >= 0 && i+1 < len(bad) && strings.Contains(err.Error(), bad[i+1:]) {
			t.Errorf("BotIDFromToken(%q) error echoes the secret: %v", bad, err)
		}
	}
}

func ExampleLink_URL() {
	botID, err := passport.BotIDFromToken("543260180:AAFakeTokenForTheExample")
	if err != nil {
		fmt.Println(err)
		return
	}
	l := passport.Link{
		BotID: botID,
		Scope: passport.NewScope(
			passport.Require(passport.TypePersonalDetails),
			passport.RequireOneOf(passport.TypePassport, passport.TypeIdentityCard).WithSelfie(),
		),
		PublicKey:   linkTestKey,
		Nonce:       "q3Vx0Jd8n7s",
		CallbackURL: "https://example.com/passport/done",
	}
	u, err := l.URL()
	if err != nil {
		fmt.Println(err)
		return
	}
	// The public key is long; show the rest of the link.
	before, after, _ := strings.Cut(u, "&public_key=")
	_, after, _ = strings.Cut(after, "&")
	fmt.Println(before)
	fmt.Println(after)

	back, err := passport.ParseLink(u)
	fmt.Println(err == nil && back.Nonce == l.Nonce && back.Scope.String() == l.Scope.String())
	// Output:
	// tg://resolve?domain=telegrampassport&bot_id=543260180&scope=%7B%22v%22%3A1%2C%22d%22%3A%5B%22pd%22%2C%7B%22_%22%3A%5B%22pp%22%2C%22ic%22%5D%2C%22s%22%3A1%7D%5D%7D
	// nonce=q3Vx0Jd8n7s&callback_url=https%3A%2F%2Fexample.com%2Fpassport%2Fdone
	// true
}
