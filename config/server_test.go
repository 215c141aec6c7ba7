package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/gotd/td/exchange"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/dcs"
	"github.com/gotd/td/tg"
)

// rsaKey generates an RSA key of bits for the test.
func rsaKey(t *testing.T, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pkcs1PEM is the PEM "RSA PUBLIC KEY" block of k's public key.
func pkcs1PEM(k *rsa.PrivateKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.PublicKey)}))
}

// pkixPEM is the PEM "PUBLIC KEY" block of a public key.
func pkixPEM(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// indent indents every line of s by n spaces, for a YAML block scalar.
func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+pad) + "\n"
}

// serverYAML is a config whose telegram.server section is server (a YAML
// mapping indented by 4 spaces).
func serverYAML(server string) string {
	return level + "telegram:\n  server:\n" + server
}

// Left out, telegram.server is Telegram's production DCs with gotd's
// keys: Options gives gotd's defaults and Apply changes nothing.
func TestTelegramServerDefault(t *testing.T) {
	for name, s := range map[string]TelegramServer{
		"from a file":    loadExample(t, noEnv).Telegram.Server,
		"from New":       mustNew(t, Config{Levels: map[string]*Level{"a": {Scope: scope(req("email"))}}}).Telegram.Server,
		"the zero value": {},
	} {
		t.Run(name, func(t *testing.T) {
			dc, list, keys, err := s.Options()
			if err != nil || dc != 2 || !list.Zero() || keys != nil {
				t.Errorf("Options() = %d, %+v, %v, %v; want 2, the zero list, no keys", dc, list, keys, err)
			}
			var o telegram.Options
			if err := s.Apply(&o); err != nil || !reflect.DeepEqual(o, telegram.Options{}) {
				t.Errorf("Apply changed the options: %+v, %v", o, err)
			}
		})
	}
	// Written out at its defaults, it is the same (and a reload sees no
	// change).
	cfg, err := Parse([]byte(serverYAML("    dc: 2\n    addresses: {}\n    public_keys: \"\"\n    test: false\n")), "", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Telegram.Server, Default().Telegram.Server; !reflect.DeepEqual(got, want) {
		t.Errorf("server written at its defaults = %#v, want %#v", got, want)
	}
	sum := loadExample(t, noEnv).Summary()
	if want := "\nTelegram servers: Telegram's production DCs, with gotd's built-in keys.\n"; !strings.Contains(sum, want) {
		t.Errorf("summary lacks %q:\n%s", want, sum)
	}
}

func mustNew(t *testing.T, c Config) *Config {
	t.Helper()
	cfg, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Servers of one's own: the addresses and keys reach gotd's options, and
// the summary says where the bot connects. The same settings built in Go
// give the same config.
func TestTelegramServerOwn(t *testing.T) {
	k1, k2 := rsaKey(t, 2048), rsaKey(t, 2048)
	src := serverYAML(`    dc: 4
    addresses:
      2: 127.0.0.1:40001
      4: "[::1]:40002"
      1: sandbox.internal:443
    public_keys: |
` + indent(pkcs1PEM(k1)+pkixPEM(t, &k2.PublicKey), 6))
	cfg, err := Parse([]byte(src), "config.yaml", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	dc, list, keys, err := cfg.Telegram.Server.Options()
	if err != nil {
		t.Fatal(err)
	}
	wantList := dcs.List{Options: []tg.DCOption{
		{ID: 1, IPAddress: "sandbox.internal", Port: 443},
		{ID: 2, IPAddress: "127.0.0.1", Port: 40001},
		{ID: 4, IPAddress: "::1", Port: 40002, Ipv6: true},
	}}
	wantKeys := []exchange.PublicKey{{RSA: &k1.PublicKey}, {RSA: &k2.PublicKey}}
	if dc != 4 || !reflect.DeepEqual(list, wantList) || !reflect.DeepEqual(keys, wantKeys) {
		t.Errorf("Options() = %d, %+v, %d keys; want 4, %+v, the two keys", dc, list, len(keys), wantList)
	}
	o := telegram.Options{DC: 5, NoUpdates: true}
	if err := cfg.Telegram.Server.Apply(&o); err != nil {
		t.Fatal(err)
	}
	if o.DC != 4 || !reflect.DeepEqual(o.DCList, wantList) || !reflect.DeepEqual(o.PublicKeys, wantKeys) || !o.NoUpdates {
		t.Errorf("Apply: DC %d, DCList %+v, %d keys, NoUpdates %v", o.DC, o.DCList, len(o.PublicKeys), o.NoUpdates)
	}
	want := fmt.Sprintf("\nTelegram servers: servers of your own, not Telegram's: DC 1 at sandbox.internal:443, DC 2 at 127.0.0.1:40001, DC 4 at [::1]:40002; "+
		"connects to DC 4 first, trusting the 2 public keys given (fingerprints %016x, %016x).\n",
		uint64(wantKeys[0].Fingerprint()), uint64(wantKeys[1].Fingerprint()))
	if sum := cfg.Summary(); !strings.Contains(sum, want) {
		t.Errorf("summary lacks %q:\n%s", want, sum)
	}
	if len(cfg.Warnings()) != 6 { // the Telegram credentials, the private key, the URLs
		t.Errorf("warnings: %v", cfg.Warnings())
	}

	fromGo := mustNew(t, Config{
		Telegram: Telegram{Server: TelegramServer{
			DC:         4,
			Addresses:  map[int]string{1: "sandbox.internal:443", 2: "127.0.0.1:40001", 4: "[::1]:40002"},
			PublicKeys: pkcs1PEM(k1) + pkixPEM(t, &k2.PublicKey),
		}},
		Levels: map[string]*Level{"basic": {Scope: scope(req("personal_details"))}},
	})
	if got, want := fromGo.Telegram.Server, cfg.Telegram.Server; !reflect.DeepEqual(got, want) {
		t.Errorf("built in Go: %+v\nfrom the file: %+v", got, want)
	}
}

// Telegram's test DCs: gotd's list, DC 2 unless dc says otherwise.
func TestTelegramServerTest(t *testing.T) {
	cfg, err := Parse([]byte(serverYAML("    test: true\n    dc: 1\n")), "", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	var o telegram.Options
	if err := cfg.Telegram.Server.Apply(&o); err != nil {
		t.Fatal(err)
	}
	if o.DC != 1 || !reflect.DeepEqual(o.DCList, dcs.Test()) || o.PublicKeys != nil {
		t.Errorf("Apply: DC %d, DCList %+v, keys %v; want 1 and gotd's test DCs", o.DC, o.DCList, o.PublicKeys)
	}
	want := "\nTelegram servers: Telegram's test DCs (for a bot made on the test servers); connects to DC 1 first, with gotd's built-in keys.\n"
	if sum := cfg.Summary(); !strings.Contains(sum, want) {
		t.Errorf("summary lacks %q:\n%s", want, sum)
	}
	// Production, another first DC.
	cfg, err = Parse([]byte(serverYAML("    dc: 5\n")), "", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	o = telegram.Options{}
	if err := cfg.Telegram.Server.Apply(&o); err != nil || o.DC != 5 || !o.DCList.Zero() || o.PublicKeys != nil {
		t.Errorf("Apply: DC %d, DCList %+v, keys %v, %v; want DC 5 only", o.DC, o.DCList, o.PublicKeys, err)
	}
	if sum := cfg.Summary(); !strings.Contains(sum, "Telegram servers: Telegram's production DCs; connects to DC 5 first, with gotd's built-in keys.") {
		t.Errorf("summary:\n%s", sum)
	}
}

// Every mistake in telegram.server is a problem at its path, the same from
// a file and from Go, and the same from Options; nothing of a private key
// pasted by mistake is repeated.
func TestTelegramServerProblems(t *testing.T) {
	key := rsaKey(t, 2048)
	good := pkcs1PEM(key)
	private := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	short := rsaKey(t, 1024)
	lines := strings.Split(strings.TrimSuffix(good, "\n"), "\n")
	truncated := strings.Join(lines[:len(lines)-1], "\n") + "\n"

	tests := []struct {
		name string
		s    TelegramServer
		want []want // line 0: the position is not checked
	}{
		{"dc out of range", TelegramServer{DC: 7}, []want{{"telegram.server.dc", 0, "7 is not a DC: Telegram's DCs are numbered 1 to 5 (default 2)"}}},
		{"negative dc", TelegramServer{DC: -1}, []want{{"telegram.server.dc", 0, "-1 is not a DC"}}},
		{"bad addresses", TelegramServer{Addresses: map[int]string{2: "127.0.0.1:40001", 9: "127.0.0.1:1", 4: "sandbox", 5: "127.0.0.1:0"}, PublicKeys: good}, []want{
			{"telegram.server.addresses.4", 0, `"sandbox" is not host:port, such as 127.0.0.1:40001`},
			{"telegram.server.addresses.5", 0, `"127.0.0.1:0" has no valid port: use a number from 1 to 65535`},
			{"telegram.server.addresses.9", 0, "9 is not a DC: Telegram's DCs are numbered 1 to 5; give each address under the number of the DC it serves"},
		}},
		{"a port alone", TelegramServer{Addresses: map[int]string{2: "40001"}, PublicKeys: good}, []want{
			{"telegram.server.addresses.2", 0, `40001 is not host:port: did you mean "127.0.0.1:40001"?`},
		}},
		{"the first DC has no address", TelegramServer{DC: 3, Addresses: map[int]string{2: "a:1", 4: "b:2"}, PublicKeys: good}, []want{
			{"telegram.server.dc", 0, "3 has no address: add DC 3's host:port under addresses, or set dc to 2 or 4, the DC the bot connects to first (default 2)"},
		}},
		{"addresses without keys", TelegramServer{Addresses: map[int]string{2: "127.0.0.1:40001"}}, []want{
			{"telegram.server.public_keys", 0, "is required with addresses: paste the RSA public key(s) of those servers in PEM"},
		}},
		{"test with addresses", TelegramServer{Test: true, Addresses: map[int]string{2: "127.0.0.1:40001"}, PublicKeys: good}, []want{
			{"telegram.server.test", 0, "cannot be used with addresses: test connects to Telegram's test DCs at the addresses gotd knows, addresses to servers of your own; keep one of them"},
		}},
		{"not a test DC", TelegramServer{Test: true, DC: 5}, []want{
			{"telegram.server.dc", 0, "5 is not one of Telegram's test DCs: use 1, 2 or 3 (default 2)"},
		}},
		{"not PEM", TelegramServer{PublicKeys: "MIIBCgKCAQEA"}, []want{{"telegram.server.public_keys", 0, "holds no PEM key: paste each key whole"}}},
		{"a private key", TelegramServer{PublicKeys: private}, []want{{"telegram.server.public_keys", 0, "key 1 is a private key: give the servers' public keys only, and keep the private key secret"}}},
		{"a certificate", TelegramServer{PublicKeys: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
			[]want{{"telegram.server.public_keys", 0, `block 1 is "CERTIFICATE", not a public key`}}},
		{"an EC key", TelegramServer{PublicKeys: good + pkixPEM(t, &ec.PublicKey)}, []want{{"telegram.server.public_keys", 0, "key 2 is an ECDSA key, not RSA"}}},
		{"a 1024-bit key", TelegramServer{PublicKeys: pkcs1PEM(short)}, []want{{"telegram.server.public_keys", 0, "key 1 has 1024 bits: MTProto servers use 2048-bit RSA keys"}}},
		{"garbage in a block", TelegramServer{PublicKeys: "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n"},
			[]want{{"telegram.server.public_keys", 0, "key 1 does not parse as an RSA public key (PKCS #1 or PKIX)"}}},
		{"a key twice", TelegramServer{PublicKeys: good + pkixPEM(t, &key.PublicKey)}, []want{{"telegram.server.public_keys", 0, "key 2 repeats key 1: list each key once"}}},
		{"a cut block", TelegramServer{PublicKeys: truncated}, []want{{"telegram.server.public_keys", 0, "key 1 is not a complete PEM block"}}},
		{"text before", TelegramServer{PublicKeys: "Telegram's key:\n" + good}, []want{{"telegram.server.public_keys", 0, "has text before key 1"}}},
		{"text after", TelegramServer{PublicKeys: good + "and more\n"}, []want{{"telegram.server.public_keys", 0, "has text after key 1: keep only the PEM blocks"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fromGo := goProblems(t, Config{Telegram: Telegram{Server: tt.s}, Levels: map[string]*Level{"basic": {Scope: scope(req("personal_details"))}}})
			checkProblems(t, fromGo, tt.want)

			_, fromFile := parseProblems(t, serverYAML(serverSection(tt.s)), noEnv)
			if a, b := pathsAndMessages(fromFile), pathsAndMessages(fromGo); !reflect.DeepEqual(a, b) {
				t.Errorf("from YAML:\n  %s\nfrom Go:\n  %s", strings.Join(a, "\n  "), strings.Join(b, "\n  "))
			}
			for _, p := range fromFile {
				if p.Line < 3 {
					t.Errorf("%v is not located in telegram.server", p)
				}
			}

			_, _, _, err := tt.s.Options()
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Options() = %v, want a *config.Error", err)
			}
			checkProblems(t, cerr.Problems, tt.want)
			if err := tt.s.Apply(&telegram.Options{}); err == nil {
				t.Error("Apply accepted it")
			}
			for _, p := range append(fromFile, cerr.Problems...) {
				if strings.Contains(p.Message, "MII") {
					t.Errorf("%v repeats a key", p)
				}
			}
		})
	}
}

// serverSection writes s as the YAML mapping of telegram.server.
func serverSection(s TelegramServer) string {
	var b strings.Builder
	if s.DC != 0 {
		fmt.Fprintf(&b, "    dc: %d\n", s.DC)
	}
	if len(s.Addresses) > 0 {
		b.WriteString("    addresses:\n")
		for _, id := range sortedDCs(s.Addresses) {
			fmt.Fprintf(&b, "      %d: %q\n", id, s.Addresses[id])
		}
	}
	if s.PublicKeys != "" {
		b.WriteString("    public_keys: |\n" + indent(s.PublicKeys, 6))
	}
	if s.Test {
		b.WriteString("    test: true\n")
	}
	return b.String()
}

// Mistakes only a file can make: a zero written, a DC key that is not a
// number, values of the wrong type.
func TestTelegramServerFileProblems(t *testing.T) {
	_, got := parseProblems(t, serverYAML(`    dc: 0
    addresses:
      two: 127.0.0.1:40001
      4: [127.0.0.1, 40002]
    test: yes
    public_keys: 5
`), noEnv)
	checkProblems(t, got, []want{
		{"telegram.server.dc", 4, "0 is not a DC: Telegram's DCs are numbered 1 to 5 (default 2)"},
		{"telegram.server.addresses.two", 6, `the key "two" is not a whole number: the keys here are numbers`},
		{"telegram.server.addresses.4", 7, "must be a single value, not a list"},
		{"telegram.server.test", 8, `must be true or false, not the text "yes"`},
		{"telegram.server.public_keys", 9, "holds no PEM key"}, // the text "5"
	})
	// Keys without addresses replace gotd's: a warning.
	cfg, err := Parse([]byte(serverYAML("    public_keys: |\n"+indent(pkcs1PEM(rsaKey(t, 2048)), 6))), "", WithEnv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	var warned []Problem
	for _, w := range cfg.Warnings() {
		if strings.HasPrefix(w.Path, "telegram.server") {
			warned = append(warned, w)
		}
	}
	checkProblems(t, warned, []want{{"telegram.server.public_keys", 4, "is set without addresses: these keys replace the keys of Telegram's production DCs built into gotd"}})
}

// The telegram.server section config.example.yaml shows, commented out,
// is valid once uncommented (with a real key in place of the elided one).
func TestExampleServerSection(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	start := -1
	for i, l := range lines {
		if l == "  # server:" {
			start = i
		}
	}
	if start < 0 {
		t.Fatal("config.example.yaml has no commented-out telegram.server section")
	}
	var out []string
	out = append(out, lines[:start]...)
	i := start
	for ; i < len(lines) && strings.HasPrefix(lines[i], "  # "); i++ {
		l := "  " + strings.TrimPrefix(lines[i], "  # ")
		switch strings.TrimSpace(l) {
		case "-----BEGIN RSA PUBLIC KEY-----":
			out = append(out, strings.Split(strings.TrimSuffix(indent(pkcs1PEM(rsaKey(t, 2048)), 6), "\n"), "\n")...)
			continue
		case "MIIBCgKCAQEA...", "-----END RSA PUBLIC KEY-----":
			continue
		}
		out = append(out, l)
	}
	out = append(out, lines[i:]...)
	cfg, err := Parse([]byte(strings.Join(out, "\n")), "config.example.yaml", WithEnv(noEnv))
	if err != nil {
		t.Fatalf("the uncommented section has problems:\n%v\n%s", err, strings.Join(out[start:i+2], "\n"))
	}
	s := cfg.Telegram.Server
	if s.DC != 2 || !reflect.DeepEqual(s.Addresses, map[int]string{2: "127.0.0.1:40001", 4: "127.0.0.1:40002"}) || s.Test {
		t.Errorf("server = %+v", s)
	}
	if _, _, keys, err := s.Options(); err != nil || len(keys) != 1 {
		t.Errorf("Options: %d keys, %v", len(keys), err)
	}
}

// telegram.bot_api_url defaults to Telegram's Bot API; an http URL (a
// self-hosted server, the sandbox's front) is accepted.
func TestBotAPIURL(t *testing.T) {
	for src, want := range map[string]string{
		"levels: {basic: {scope: [pd]}}\n": DefaultBotAPIURL,
		"levels: {basic: {scope: [pd]}}\ntelegram: {bot_api_url: \"http://127.0.0.1:8081\"}\n":       "http://127.0.0.1:8081",
		"levels: {basic: {scope: [pd]}}\ntelegram: {bot_api_url: \"https://bots.example.com/tg\"}\n": "https://bots.example.com/tg",
	} {
		cfg, err := Parse([]byte(src), "t.yaml", WithEnv(noEnv))
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if cfg.Telegram.BotAPIURL != want {
			t.Errorf("%s: bot_api_url %q, want %q", src, cfg.Telegram.BotAPIURL, want)
		}
	}
}
