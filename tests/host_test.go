package tests

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotd/td/session"
	"github.com/gotd/td/telegram"
	"github.com/gotd/td/telegram/message"
	"github.com/gotd/td/telegram/updates"
	updhook "github.com/gotd/td/telegram/updates/hook"
	"github.com/gotd/td/tg"
	"github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v3"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/gotd"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

// hostBotEnv, set to a config file, makes the test binary run the example
// host bot (hostBot) instead of the tests: TestEmbeddedHostBot starts it
// as a process of its own, to kill it.
const hostBotEnv = "KYCBOT_TEST_HOST_BOT"

func TestMain(m *testing.M) {
	if cfg := os.Getenv(hostBotEnv); cfg != "" {
		os.Exit(hostBot(cfg))
	}
	os.Exit(m.Run())
}

// hostBot is a gotd bot of its own (it answers /ping with "pong") that
// embeds kycbot through gotd.Hook, as a business would: its updates
// manager (state in memory) calls the hook, which gives kycbot its updates
// and the rest to the bot's own dispatcher; gotd.Run works kycbot's queue.
// Its session is a file beside the config. It prints "ready" once it
// receives updates, logs JSON to stderr and runs until SIGTERM or SIGKILL.
func hostBot(cfgPath string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fail := func(err error) int {
		log.Error("host bot failed", slog.String("error", err.Error()))
		return 1
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return fail(err)
	}
	kyc, err := bot.New(ctx, cfg, bot.WithInstance("host"), bot.WithLogger(log), bot.WithClaimAfter(2*time.Second))
	if err != nil {
		return fail(err)
	}
	defer func() { _ = kyc.Close() }()

	// The host's own bot: its dispatcher, its updates manager, its client.
	d := tg.NewUpdateDispatcher()
	gaps := updates.New(updates.Config{Handler: gotd.Hook(kyc, d)})
	opts := telegram.Options{
		UpdateHandler:  gaps,
		SessionStorage: &session.FileStorage{Path: filepath.Join(filepath.Dir(cfgPath), "host.session")},
		Middlewares:    []telegram.Middleware{updhook.UpdateHook(gaps.Handle)},
	}
	if err := cfg.Telegram.Server.Apply(&opts); err != nil {
		return fail(err)
	}
	client := telegram.NewClient(cfg.Telegram.AppID, cfg.Telegram.AppHash.Value(), opts)
	d.OnNewMessage(func(ctx context.Context, e tg.Entities, u *tg.UpdateNewMessage) error {
		if m, ok := u.Message.(*tg.Message); ok && !m.Out && m.Message == "/ping" {
			_, err := message.NewSender(client.API()).Answer(e, u).Text(ctx, "pong")
			return err
		}
		return nil
	})
	ln, err := net.Listen("tcp", cfg.Web.Listen)
	if err != nil {
		return fail(err)
	}
	srv := &http.Server{Handler: kyc.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	err = client.Run(ctx, func(ctx context.Context) error {
		status, err := client.Auth().Status(ctx)
		if err != nil {
			return err
		}
		if !status.Authorized {
			if _, err := client.Auth().Bot(ctx, cfg.Telegram.BotToken.Value()); err != nil {
				return err
			}
		}
		self, err := client.Self(ctx)
		if err != nil {
			return err
		}
		working := make(chan error, 1)
		go func() { working <- gotd.Run(ctx, kyc, client.API()) }()
		err = gaps.Run(ctx, client.API(), self.ID, updates.AuthOptions{IsBot: true, OnStart: func(context.Context) {
			fmt.Println("ready")
		}})
		if werr := <-working; err == nil {
			err = werr
		}
		return err
	})
	if err != nil && ctx.Err() == nil {
		return fail(err)
	}
	return 0
}

// hostProcess is a running host bot.
type hostProcess struct {
	cmd  *exec.Cmd
	logs *testkit.Logs
	done chan error
}

// startHost starts the host bot on cfgPath and waits until it receives
// updates.
func startHost(t *testing.T, cfgPath string, logs *testkit.Logs) *hostProcess {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), hostBotEnv+"="+cfgPath)
	cmd.Stderr = logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &hostProcess{cmd: cmd, logs: logs, done: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				close(ready)
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { p.kill() })
	select {
	case <-ready:
		return p
	case err := <-p.done:
		t.Fatalf("the host bot stopped before it was ready: %v\n%s", err, logs.String())
	case <-time.After(90 * time.Second):
		t.Fatalf("the host bot did not start receiving updates\n%s", logs.String())
	}
	return nil
}

// kill ends the host bot with SIGKILL (no cleanup runs in it) and waits.
func (p *hostProcess) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	p.done <- nil // a later kill returns at once
}

// TestEmbeddedHostBot: a host bot with handlers of its own embeds kycbot
// through gotd.Hook. Its own command (/ping) keeps working and kycbot's
// (/start) is kycbot's; killed with SIGKILL while it downloads a user's
// scans and started again, it finishes the submission, once: one verdict
// message, one verified status and audit event.
func TestEmbeddedHostBot(t *testing.T) {
	t.Parallel()
	rdb := testkit.Need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	skey, err := serverKey()
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(context.Background(), sandbox.Options{ServerKey: skey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	key, err := botKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := passport.MarshalPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	account, err := sb.AddBot(sandbox.BotSpec{Username: "acme_host_bot", PublicKeyPEM: string(pub), PrivacyPolicyURL: "https://example.com/privacy"})
	if err != nil {
		t.Fatal(err)
	}

	// The host's config: the demo's levels, the sandbox as Telegram.
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "bot.pem")
	if err := os.WriteFile(keyFile, passport.MarshalPrivateKey(key), 0o600); err != nil {
		t.Fatal(err)
	}
	remote, err := sb.Remote().Config()
	if err != nil {
		t.Fatal(err)
	}
	var tok [6]byte
	_, _ = rand.Read(tok[:])
	prefix := "kycbot-host:" + hex.EncodeToString(tok[:]) + ":"
	t.Cleanup(func() { deleteKeys(rdb, prefix) })
	web := freeAddr(t)
	yml := strings.NewReplacer("{{BOT_TOKEN}}", account.Token, "{{PUBLIC_URL}}", "http://"+web,
		"{{REDIS_ADDR}}", testkit.Addr, "{{REDIS_PREFIX}}", prefix, "  listen: 127.0.0.1:0", "  listen: "+web).Replace(demo.DefaultConfig())
	server, err := yaml.Marshal(map[string]any{"server": map[string]any{"dc": remote.DC, "addresses": remote.Addrs, "public_keys": remote.PublicKeys}})
	if err != nil {
		t.Fatal(err)
	}
	yml = strings.Replace(yml, "telegram:\n", "telegram:\n"+indent(string(server), "  "), 1)
	yml = strings.Replace(yml, "passport:\n", "passport:\n  private_key_file: "+keyFile+"\n", 1)
	cfgPath := filepath.Join(dir, "host.yaml")
	if err := os.WriteFile(cfgPath, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatalf("the host's config: %v\n%s", err, yml)
	}

	logs := &testkit.Logs{}
	host := startHost(t, cfgPath, logs)
	u, err := sb.NewSimUser(ctx, sandbox.UserSpec{Phone: "4915700000001", FirstName: "Ada", CloudPassword: "pw", LangCode: "en"},
		sandbox.SimUserOptions{Profile: sandbox.SampleProfile("4915700000001")})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()

	// kycbot's command is kycbot's: a greeting, then the request button.
	if _, err := u.Start(ctx, account.Username, ""); err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	en := cat.Language("en")
	// (The two messages may reach the app in either order, as pushes do.)
	greeting := en.Text(i18n.MsgStartGreeting, nil)
	var req sandbox.ChatMessage
	greeted := false
	for range 2 {
		m, err := u.WaitMessage(ctx, nil)
		switch {
		case err != nil:
			t.Fatalf("kycbot's /start: %v", err)
		case m.Text == greeting:
			greeted = true
		case len(m.Buttons) > 0:
			req = m
		default:
			t.Fatalf("kycbot's /start: %q, neither the greeting nor the request", m.Text)
		}
	}
	if !greeted || len(req.Buttons) == 0 {
		t.Fatalf("kycbot's /start: greeting %v, request %+v", greeted, req)
	}
	// The host's own command is the host's.
	if err := u.Send(ctx, account.ID, "/ping"); err != nil {
		t.Fatal(err)
	}
	if m, err := u.WaitMessage(ctx, nil); err != nil || m.Text != "pong" {
		t.Fatalf("the host's /ping: %q, %v", m.Text, err)
	}
	link, err := u.OpenURL(ctx, req.Buttons[0][0].URL)
	if err != nil {
		t.Fatal(err)
	}

	// The share arrives and kycbot downloads the scans, slowly; the host
	// is killed in the middle.
	sb.SetBandwidth(1 << 10)
	t.Cleanup(func() { sb.SetBandwidth(0) })
	before := sb.Calls(tg.UploadGetFileRequestTypeID)
	if err := u.FillForm(ctx, link); err != nil {
		t.Fatal(err)
	}
	for sb.Calls(tg.UploadGetFileRequestTypeID) == before {
		if ctx.Err() != nil {
			t.Fatalf("the host did not start downloading the scans\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	host.kill()
	sb.SetBandwidth(0)
	if m := u.Messages(); len(m) > 0 && m[len(m)-1].Text == en.Text(i18n.MsgResultVerified, nil) {
		t.Fatal("the verdict came before the kill: the test did not kill the host mid-submission")
	}

	// Started again, it finishes the submission, once.
	startHost(t, cfgPath, logs)
	verified := en.Text(i18n.MsgResultVerified, nil)
	received := en.Text(i18n.MsgSubmissionReceived, nil)
	// The verdict is edited into the "received" message: pass it over.
	notReceived := func(m sandbox.ChatMessage) bool { return !m.Out && (m.Edited || m.Text != received) }
	if m, err := u.WaitMessage(ctx, notReceived); err != nil || m.Text != verified {
		t.Fatalf("after the restart: %q, %v\n%s", m.Text, err, logs.String())
	}
	if err := u.Send(ctx, account.ID, "/ping"); err != nil {
		t.Fatal(err)
	}
	if m, err := u.WaitMessage(ctx, nil); err != nil || m.Text != "pong" {
		t.Fatalf("the host's /ping after the restart: %q, %v", m.Text, err)
	}
	quiet, cancelQuiet := context.WithTimeout(ctx, 3*time.Second)
	defer cancelQuiet()
	if extra, err := u.WaitMessage(quiet, nil); err == nil {
		t.Fatalf("a message after the verdict: %q", extra.Text)
	}
	n := 0
	for _, m := range u.Messages() {
		if !m.Out && m.Text == verified {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the verdict came %d times, want once", n)
	}
	st := store.New(rdb, store.WithPrefix(prefix), bot.AuditKeys(key))
	status, err := st.Statuses().Get(ctx, u.User.ID, cfg.DefaultLevelName)
	if err != nil || status.State != store.StateVerified {
		t.Fatalf("status %+v, %v", status, err)
	}
	verifiedEvents := 0
	if err := st.Audit().Events(ctx, func(ev store.RecordedEvent) error {
		if ev.UserID == u.User.ID && ev.Kind == "verified" {
			verifiedEvents++
		}
		return nil
	}, u.User.ID); err != nil {
		t.Fatal(err)
	}
	if verifiedEvents != 1 {
		t.Fatalf("%d verified audit events, want 1", verifiedEvents)
	}
	if !strings.Contains(logs.String(), "waiting for it") && !strings.Contains(logs.String(), "working the queue") {
		t.Errorf("the restarted host did not log that it works the queue\n%s", logs.String())
	}
}

// indent prefixes every line of s with p.
func indent(s, p string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(p + l)
		}
	}
	return b.String()
}

// deleteKeys removes the keys under prefix.
func deleteKeys(rdb redis.UniversalClient, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		_ = rdb.Unlink(ctx, iter.Val()).Err()
	}
}
