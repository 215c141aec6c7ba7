package demo

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/store"
)

// Verdicts tells the bot's answers to a submission, in every language,
// from every other message.
func TestVerdicts(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerdicts(cat)
	for _, lang := range cat.Languages() {
		loc := cat.Language(lang)
		for _, tc := range []struct {
			text, want string
		}{
			{loc.Text(i18n.MsgResultVerified, nil), store.StateVerified},
			{loc.Text(i18n.MsgResultRejected, map[string]any{"Reason": loc.Problem("too_young", "personal_details", "", map[string]string{"min_age": "18"})}), store.StateRejected},
			{loc.Plural(i18n.MsgResultFixHeader, 1, nil) + "\n• one", store.StateNeedsFixes},
			{loc.Plural(i18n.MsgResultFixHeader, 2, nil) + "\n• one\n• two", store.StateNeedsFixes},
			{loc.Text(i18n.MsgSubmissionFailed, nil), Failed},
			{loc.Text(i18n.MsgSubmissionUndecryptable, nil), Failed},
			{loc.Text(i18n.MsgStartGreeting, nil), ""},
			{loc.Plural(i18n.MsgRequestWaiting, 30, nil), ""},
			{loc.Text(i18n.MsgSubmissionReceived, nil), ""},
			{loc.Text(i18n.MsgStatusVerified, map[string]any{"Since": "today"}), ""},
			{loc.Text(i18n.MsgResultVerified, nil) + " (again)", ""},
			{"", ""},
		} {
			if got := v.Of(sandbox.ChatMessage{Text: tc.text}); got != tc.want {
				t.Errorf("%s: Of(%.60q) = %q, want %q", lang, tc.text, got, tc.want)
			}
		}
	}
}

func TestScenarioOf(t *testing.T) {
	var got []Scenario
	for i := range 5 {
		got = append(got, ScenarioOf(Mix, i))
	}
	if want := []Scenario{Happy, Fix, Final, Happy, Fix}; !slices.Equal(got, want) {
		t.Errorf("mix plays %v, want %v", got, want)
	}
	if ScenarioOf(Final, 4) != Final {
		t.Error("a scenario other than mix is every user's")
	}
	if _, err := Scenario("mix").Profile("x", time.Now()); err == nil {
		t.Error("mix has a profile of its own")
	}
}

// The config of a bot in processes of its own: the demo's levels and rules,
// the sandbox's servers, the key file beside it; config.Load accepts it,
// and RemoteFor reaches the sandbox with it.
func TestProcessConfig(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Serve(ctx, ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	server, err := s.Server()
	if err != nil {
		t.Fatal(err)
	}
	pc := ProcessConfig{Header: []string{"made by a test", "", "second line"}, BotToken: s.Account.Token, Server: server,
		PrivateKeyFile: "bot.pem", PublicURL: "http://127.0.0.1:18080", Listen: "127.0.0.1:18080",
		RedisAddr: "127.0.0.1:6390", RedisPrefix: "kycbot-sandbox:test:", BotAPIURL: s.BotAPIURL}
	yml, err := pc.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(yml), "# made by a test\n#\n# second line\n") {
		t.Errorf("the header is not at the top:\n%s", yml)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "sandbox.yaml")
	if err := os.WriteFile(file, yml, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file, config.WithEnv(nil))
	if err != nil {
		t.Fatalf("config.Load refuses the config: %v\n%s", err, yml)
	}
	if err := cfg.RequireTelegram(); err != nil {
		t.Error(err)
	}
	// kycbot run accepts it: its results go nowhere on purpose.
	if err := cfg.RequireDelivery(); err != nil || !cfg.Delivery.None {
		t.Errorf("RequireDelivery: %v, delivery.none %v; want nil and true", err, cfg.Delivery.None)
	}
	dc2 := s.Sandbox.Addr(sandbox.MainDC).String()
	switch {
	case cfg.Telegram.BotToken.Value() != s.Account.Token:
		t.Error("telegram.bot_token is not the account's")
	case cfg.Telegram.Server.DC != sandbox.MainDC || cfg.Telegram.Server.Addresses[sandbox.MainDC] != dc2:
		t.Errorf("telegram.server = %+v, want DC 2 at %s", cfg.Telegram.Server, dc2)
	case cfg.Passport.PrivateKeyFile != filepath.Join(dir, "bot.pem"):
		t.Errorf("passport.private_key_file = %q, want bot.pem beside the config", cfg.Passport.PrivateKeyFile)
	case cfg.Web.Listen != "127.0.0.1:18080" || cfg.Web.PublicURL != "http://127.0.0.1:18080":
		t.Errorf("web = %+v", cfg.Web)
	case !slices.Equal(cfg.Redis.Addrs, []string{"127.0.0.1:6390"}) || cfg.Redis.Prefix != "kycbot-sandbox:test:":
		t.Errorf("redis = %+v", cfg.Redis)
	case cfg.Telegram.BotAPIURL != s.BotAPIURL || !strings.HasPrefix(s.BotAPIURL, "http://127.0.0.1:"):
		t.Errorf("telegram.bot_api_url = %q, want the front's %q", cfg.Telegram.BotAPIURL, s.BotAPIURL)
	}
	// The bot answers getMe on the Bot API front the config names.
	resp, err := http.Get(cfg.Telegram.BotAPIURL + "/bot" + s.Account.Token + "/getMe")
	if err != nil {
		t.Fatal(err)
	}
	var me struct {
		OK     bool `json:"ok"`
		Result struct {
			Username string `json:"username"`
		} `json:"result"`
	}
	err = json.NewDecoder(resp.Body).Decode(&me)
	_ = resp.Body.Close()
	if err != nil || !me.OK || me.Result.Username != BotUsername {
		t.Errorf("getMe on the front: %+v (%v)", me, err)
	}
	demoCfg, err := config.Parse([]byte(strings.NewReplacer("{{BOT_TOKEN}}", s.Account.Token, "{{PUBLIC_URL}}", "https://x.example",
		"{{REDIS_ADDR}}", "127.0.0.1:6379", "{{REDIS_PREFIX}}", "p:").Replace(DefaultConfig())), "demo", config.WithEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.LevelNames(), demoCfg.LevelNames()) || cfg.DefaultLevelName != demoCfg.DefaultLevelName ||
		cfg.DefaultLevel().Policy.Personal.MinAge != demoCfg.DefaultLevel().Policy.Personal.MinAge {
		t.Error("the levels and rules are not the demo's")
	}

	r, err := RemoteFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.DC != sandbox.MainDC || len(r.PublicKeys) != 1 || !r.PublicKeys[0].RSA.Equal(s.Sandbox.PublicKeys()[0].RSA) {
		t.Errorf("RemoteFor = %+v", r)
	}
	cfg.Telegram.Server = config.TelegramServer{DC: 2}
	if _, err := RemoteFor(cfg); err == nil || !strings.Contains(err.Error(), "no addresses") {
		t.Errorf("RemoteFor on Telegram's DCs: %v, want a refusal", err)
	}

	bad := pc
	bad.PublicURL = "http://kyc.example.com"
	var cerr *config.Error
	if _, err := bad.YAML(); !errors.As(err, &cerr) || len(cerr.Problems) != 1 || cerr.Problems[0].Path != "web.public_url" {
		t.Errorf("a public URL over http to another host: %v, want a problem of web.public_url", err)
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// Users who know the sandbox only by its address each play their
// scenario to its verdict, told once, with every message in the report;
// one who cannot reach the bot is reported so.
func TestRunUsers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env, err := Start(ctx, Options{RedisAddr: freeAddr(t)}) // the in-process Redis
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Close() }()
	rc, err := env.Sandbox.Remote().Config()
	if err != nil {
		t.Fatal(err)
	}
	remote, err := rc.Remote()
	if err != nil {
		t.Fatal(err)
	}

	rep, err := RunUsers(ctx, UsersOptions{Remote: remote, Config: env.Config, Users: 3, Scenario: Mix, Settle: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.AsExpected != 3 || len(rep.Users) != 3 || rep.Bot != BotUsername || rep.Scenario != Mix {
		t.Fatalf("report: %+v", rep)
	}
	ids := map[int64]bool{}
	for i, u := range rep.Users {
		sc := Scenarios()[i]
		wantFixes := 0
		if sc == Fix {
			wantFixes = 1
		}
		if u.Index != i || u.Scenario != sc || u.Expected != sc.Expected() || u.Outcome != sc.Expected() || !u.OK ||
			u.VerdictMessages != 1 || u.FixMessages != wantFixes || len(u.VerdictSeconds) != 1+wantFixes {
			t.Errorf("user %d: %+v", i, u)
		}
		if u.UserID == 0 || ids[u.UserID] {
			t.Errorf("user %d has the user ID %d, not a fresh account's", i, u.UserID)
		}
		ids[u.UserID] = true
		st, err := env.Bot().Store().Statuses().Get(ctx, u.UserID, env.Config.DefaultLevelName)
		if err != nil || st.State != u.Expected {
			t.Errorf("user %d: the bot recorded %q (%v), want %q", i, st.State, err, u.Expected)
		}
		if len(u.Messages) < 2 || !strings.Contains(u.Messages[len(u.Messages)-1].Verdict, u.Expected) {
			t.Errorf("user %d: the last message is not the verdict: %+v", i, u.Messages)
		}
		for j, m := range u.Messages {
			if j > 0 && (m.ID < u.Messages[j-1].ID || m.At.IsZero()) {
				t.Errorf("user %d: message %d out of the chat's order or without a time: %+v", i, j, m)
			}
		}
	}

	short, cancel2 := context.WithTimeout(ctx, 20*time.Second)
	defer cancel2()
	rep, err = RunUsers(short, UsersOptions{Remote: remote, Config: env.Config, Users: 1, Bot: "no_such_bot", Settle: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if u := rep.Users[0]; u.OK || rep.AsExpected != 0 || !strings.Contains(u.Outcome, "send /start to @no_such_bot") {
		t.Errorf("a user who cannot reach the bot: %+v", u)
	}

	if _, err := RunUsers(ctx, UsersOptions{Remote: remote, Config: env.Config, Users: 0}); err == nil {
		t.Error("RunUsers with no users")
	}
	if _, err := RunUsers(ctx, UsersOptions{Remote: remote, Config: env.Config, Users: 1, Scenario: "nope"}); err == nil {
		t.Error("RunUsers with an unknown scenario")
	}
}

// The config of a bot process says how to reach Redis as the flags of
// sandbox serve say: a Sentinel setup here.
func TestProcessConfigRedis(t *testing.T) {
	pc := ProcessConfig{BotToken: "7000000001:AAHsecretsecretsecretsecretsecret12", PrivateKeyFile: "bot.pem",
		PublicURL: "http://127.0.0.1:18080", Listen: "127.0.0.1:18080", RedisPrefix: "kycbot-sandbox:test:",
		RedisAddr: "127.0.0.1:26379,127.0.0.1:26380", RedisMode: "sentinel", RedisMasterName: "kyc", RedisWaitReplicas: 1}
	yml, err := pc.YAML()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(yml, "test", config.WithEnv(nil))
	if err != nil {
		t.Fatalf("config.Parse: %v\n%s", err, yml)
	}
	r := cfg.Redis
	if r.Mode != "sentinel" || strings.Join(r.Addrs, ",") != pc.RedisAddr || r.MasterName != "kyc" || r.WaitReplicas != 1 {
		t.Errorf("redis section %+v, want the sentinel settings of %+v\n%s", r, pc, yml)
	}
}
