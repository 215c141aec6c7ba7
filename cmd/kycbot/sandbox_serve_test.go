package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/i18n"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

// freeLoopback returns a 127.0.0.1 address nothing listens on.
func freeLoopback(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// served is a 'kycbot sandbox serve' running in the test process.
type served struct {
	config, key    string
	stdout, stderr *testkit.Logs
	stop           context.CancelFunc
	code           chan int
}

// startServe runs 'kycbot sandbox serve' in-process with args and
// --config-out file (kycbot-sandbox.yaml in a folder of the test when
// empty), and returns once its config is written. It is stopped when the
// test ends, if the test did not.
func startServe(t *testing.T, file string, args ...string) *served {
	t.Helper()
	if file == "" {
		file = filepath.Join(t.TempDir(), "kycbot-sandbox.yaml")
	}
	s := &served{config: file, key: strings.TrimSuffix(file, filepath.Ext(file)) + ".pem",
		stdout: &testkit.Logs{}, stderr: &testkit.Logs{}, code: make(chan int, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go func() {
		s.code <- run(ctx, append([]string{"sandbox", "serve", "--config-out", s.config}, args...), nil, s.stdout, s.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.code:
		case <-time.After(30 * time.Second):
			t.Error("sandbox serve did not stop")
		}
	})
	deadline := time.After(2 * time.Minute)
	for {
		if strings.Contains(s.stdout.String(), "Stopping removes") {
			return s
		}
		select {
		case code := <-s.code:
			t.Fatalf("sandbox serve exited %d before it was ready:\n%s%s", code, s.stdout, s.stderr)
		case <-deadline:
			t.Fatalf("sandbox serve not ready after 2 minutes:\n%s%s", s.stdout, s.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stopServe stops it as Ctrl-C does and returns its exit status.
func (s *served) stopServe(t *testing.T) int {
	t.Helper()
	s.stop()
	select {
	case code := <-s.code:
		s.code <- code // for the cleanup
		return code
	case <-time.After(30 * time.Second):
		t.Fatal("sandbox serve did not stop within 30s")
		return -1
	}
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// 'sandbox serve' writes a config that config.Load accepts, that reaches
// the sandbox's servers (at --addr), with the key beside it (0600), and
// that check-config summarises with those servers; it refuses to replace
// a file that is not its own, or its own while the sandbox runs; it
// removes both files and its Redis keys when stopped.
func TestSandboxServeWritesConfig(t *testing.T) {
	clearSecretEnv(t)
	rdb := testkit.Need(t)
	dcAddr := freeLoopback(t)
	web := freeLoopback(t)
	front := freeLoopback(t)
	s := startServe(t, "", "--addr", dcAddr, "--listen", web, "--public-url", "http://"+web, "--redis", testkit.Addr, "--bot-api-listen", front)

	for _, f := range []string{s.config, s.key} {
		if m := fileMode(t, f); m != 0o600 {
			t.Errorf("%s has mode %o, want 0600", f, m)
		}
	}
	cfg, err := config.Load(s.config, config.WithEnv(nil))
	if err != nil {
		t.Fatalf("config.Load refuses the config: %v", err)
	}
	if err := cfg.RequireTelegram(); err != nil {
		t.Error(err)
	}
	srv := cfg.Telegram.Server
	if srv.DC != 2 || len(srv.Addresses) != 1 || srv.Addresses[2] != dcAddr || srv.Test {
		t.Errorf("telegram.server = %+v, want DC 2 at %s only", srv, dcAddr)
	}
	if cfg.Web.Listen != web || cfg.Web.PublicURL != "http://"+web {
		t.Errorf("web = %+v, want listen %s and public_url http://%s", cfg.Web, web, web)
	}
	if len(cfg.Redis.Addrs) != 1 || cfg.Redis.Addrs[0] != testkit.Addr || !strings.HasPrefix(cfg.Redis.Prefix, "kycbot-sandbox:") {
		t.Errorf("redis = %+v", cfg.Redis)
	}
	if cfg.Passport.PrivateKeyFile != s.key {
		t.Errorf("passport.private_key_file = %q, want %q", cfg.Passport.PrivateKeyFile, s.key)
	}
	// Without --bot-verifier the bot is not an approved verifier, and the
	// config does not ask for badges.
	if cfg.Badge.Enabled || strings.Contains(s.stdout.String(), "approved as a verifier") {
		t.Errorf("badge.enabled %v without --bot-verifier; stdout:\n%s", cfg.Badge.Enabled, s.stdout.String())
	}
	// The Bot API front answers where the config says, as the bot.
	if cfg.Telegram.BotAPIURL != "http://"+front {
		t.Errorf("telegram.bot_api_url = %q, want http://%s", cfg.Telegram.BotAPIURL, front)
	}
	resp, err := http.Get(cfg.Telegram.BotAPIURL + "/bot" + cfg.Telegram.BotToken.Value() + "/getMe")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"username":"`+demo.BotUsername+`"`) {
		t.Errorf("getMe on the Bot API front: %s %s", resp.Status, body)
	}
	pem, err := os.ReadFile(s.key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := passport.ParsePrivateKey(pem); err != nil {
		t.Errorf("the key file: %v", err)
	}
	if strings.Contains(s.stdout.String(), cfg.Telegram.BotToken.Value()) || strings.Contains(s.stdout.String(), "PRIVATE KEY") {
		t.Error("serve printed the bot token or the key")
	}
	for _, want := range []string{"DC 2 at " + dcAddr, "Bot API   http://" + front, "@" + demo.BotUsername, "kycbot run --config " + s.config,
		"kycbot sandbox users --config " + s.config, cfg.Redis.Prefix} {
		if !strings.Contains(s.stdout.String(), want) {
			t.Errorf("serve's output lacks %q:\n%s", want, s.stdout)
		}
	}

	// check-config summarises the sandbox's servers and key.
	keys, err := sandbox.ParsePublicKeys([]byte(srv.PublicKeys))
	if err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "check-config", "--config", s.config)
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("check-config: exit %d, stderr %q", r.code, r.stderr)
	}
	fp := fmt.Sprintf("%016x", uint64(keys[0].Fingerprint()))
	// What a client other than gotd needs: the key's fingerprint and the layer.
	for _, want := range []string{"server key fingerprint " + fp, fmt.Sprintf("layer %d;", tg.Layer)} {
		if !strings.Contains(s.stdout.String(), want) {
			t.Errorf("serve's output lacks %q:\n%s", want, s.stdout)
		}
	}
	for _, want := range []string{"is valid.", "servers of your own, not Telegram's: DC 2 at " + dcAddr, "fingerprint " + fp, "full (Full KYC)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check-config's summary lacks %q:\n%s", want, r.stdout)
		}
	}

	// A second serve does not take over the files of the running one, nor
	// a file it did not write.
	again := runCLI(t, nil, "sandbox", "serve", "--config-out", s.config, "--redis", testkit.Addr)
	wantOneLineError(t, again, exitFailure, "still runs")
	foreign := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(foreign, []byte("levels: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantOneLineError(t, runCLI(t, nil, "sandbox", "serve", "--config-out", foreign), exitFailure, "not written by 'kycbot sandbox serve'")
	if b, _ := os.ReadFile(foreign); string(b) != "levels: {}\n" {
		t.Error("serve changed a file it did not write")
	}

	// Something of the bot in Redis, as a bot would leave there.
	ctx := context.Background()
	if err := rdb.Set(ctx, cfg.Redis.Prefix+"test-key", "x", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if code := s.stopServe(t); code != exitOK {
		t.Fatalf("serve exited %d after Ctrl-C:\n%s", code, s.stderr)
	}
	for _, f := range []string{s.config, s.key} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s is still there after serve stopped (%v)", f, err)
		}
	}
	if n, err := rdb.Exists(ctx, cfg.Redis.Prefix+"test-key").Result(); err != nil || n != 0 {
		t.Errorf("the bot's keys are still in Redis after serve stopped (%d, %v)", n, err)
	}
	if !strings.Contains(s.stdout.String(), "stopped; removed") || s.stderr.String() != "" {
		t.Errorf("after the stop: stdout %q, stderr %q", s.stdout, s.stderr)
	}
	// The files of a serve that did not stop cleanly (killed) are
	// replaced by the next one.
	stale := filepath.Join(t.TempDir(), "stale.yaml")
	if err := os.WriteFile(stale, []byte("# "+serveMarker+" at some time\ntelegram: {server: {addresses: {2: "+dcAddr+"}}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(strings.TrimSuffix(stale, ".yaml")+".pem", []byte("old key"), 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := startServe(t, stale, "--redis", testkit.Addr, "--listen", freeLoopback(t))
	if _, err := config.Load(s2.config, config.WithEnv(nil)); err != nil {
		t.Errorf("the replaced config does not load: %v", err)
	}
	if pem, err := os.ReadFile(s2.key); err != nil || bytes.Equal(pem, []byte("old key")) {
		t.Errorf("the stale key was not replaced (%v)", err)
	}
	if code := s2.stopServe(t); code != exitOK {
		t.Fatalf("a second serve exited %d:\n%s", code, s2.stderr)
	}
}

// buildKycbot builds the CLI into a folder of the test, for running it as
// a process of its own.
func buildKycbot(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kycbot")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startRun runs 'kycbot run' (the binary bin) as a process of its own
// with args and returns once it says it runs; it is stopped (SIGTERM)
// when the test ends, and must then exit 0.
func startRun(t *testing.T, bin string, args ...string) *testkit.Logs {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"run"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log testkit.Logs
	ready := make(chan struct{})
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			fmt.Fprintln(&log, sc.Text())
			if strings.HasPrefix(sc.Text(), "kycbot run: @") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	exited := make(chan error, 1)
	go func() {
		<-copied
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("kycbot run %v: %v after SIGTERM:\n%s", args, err, log.String())
			}
		case <-time.After(40 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("kycbot run %v did not stop within 40s of SIGTERM", args)
		}
	})
	select {
	case <-ready:
	case err := <-exited:
		exited <- err
		t.Fatalf("kycbot run %v exited before it ran (%v):\n%s", args, err, log.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("kycbot run %v did not run within 2 minutes:\n%s", args, log.String())
	}
	return &log
}

// The three-process setup: 'sandbox serve' (here in the test process),
// two 'kycbot run' processes on its config (one receives the updates,
// both process them), and 'sandbox users': three users of the mixed
// scenarios each end as expected, told their verdict exactly once. The
// bot is an approved verifier (--bot-verifier): the verified users carry
// its mark, the rejected one does not.
func TestSandboxUsersAgainstBotProcesses(t *testing.T) {
	clearSecretEnv(t)
	testkit.Need(t)
	web := freeLoopback(t)
	s := startServe(t, "", "--listen", web, "--public-url", "http://"+web, "--redis", testkit.Addr, "--bot-verifier")
	if cfg, err := config.Load(s.config, config.WithEnv(nil)); err != nil || !cfg.Badge.Enabled {
		t.Fatalf("--bot-verifier: the config does not turn badge.enabled on (%v)", err)
	}
	if !strings.Contains(s.stdout.String(), "approved as a verifier") {
		t.Errorf("serve --bot-verifier does not say the bot is a verifier:\n%s", s.stdout.String())
	}
	bin := buildKycbot(t)
	logA := startRun(t, bin, "--config", s.config, "--instance", "a")
	// The sandbox's config has no admins: run says how to find one's
	// user ID (on the line after the one startRun waits for).
	if want := "no admins in the config: to find your Telegram user ID, send /start to @"; !testkit.Eventually(10*time.Second, func() bool { return strings.Contains(logA.String(), want) }) {
		t.Errorf("kycbot run does not say %q:\n%s", want, logA.String())
	}
	startRun(t, bin, "--config", s.config, "--instance", "b", "--listen", freeLoopback(t))

	reportFile := filepath.Join(t.TempDir(), "report.json")
	r := runCLI(t, nil, "sandbox", "users", "--config", s.config, "--users", "3", "--scenario", "mix", "--report", reportFile, "--timeout", "4m")
	if r.code != exitOK || r.stderr != "" {
		t.Fatalf("sandbox users: exit %d, stderr %q, stdout:\n%s", r.code, r.stderr, r.stdout)
	}
	if !strings.Contains(r.stdout, "3 of 3 users ended as expected.") {
		t.Errorf("the summary lacks the total:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "2 of them carry the bot's verification mark") {
		t.Errorf("the summary does not count the two verified users' marks:\n%s", r.stdout)
	}
	b, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	var rep demo.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("the report is not JSON: %v", err)
	}
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	en := cat.Language("en")
	want := []struct {
		scenario demo.Scenario
		outcome  string
	}{{demo.Happy, store.StateVerified}, {demo.Fix, store.StateVerified}, {demo.Final, store.StateRejected}}
	if len(rep.Users) != len(want) || rep.AsExpected != len(want) {
		t.Fatalf("report of %d users, %d as expected:\n%s", len(rep.Users), rep.AsExpected, b)
	}
	ids := map[int64]bool{}
	for i, u := range rep.Users {
		if u.Index != i || u.Scenario != want[i].scenario || u.Expected != want[i].outcome || u.Outcome != want[i].outcome || !u.OK {
			t.Errorf("user %d: %s expected %s ended %q (ok %v), want %s ending %s", i, u.Scenario, u.Expected, u.Outcome, u.OK, want[i].scenario, want[i].outcome)
		}
		if u.UserID <= 0 || ids[u.UserID] {
			t.Errorf("user %d: user ID %d is not a fresh account's", i, u.UserID)
		}
		ids[u.UserID] = true
		// The mark is on the verified users' profiles, with the default
		// description (the level and the end of the validity).
		if verified := want[i].outcome == store.StateVerified; verified != strings.HasPrefix(u.Badge, "Identity verified: Full KYC, valid until ") {
			t.Errorf("user %d (%s) has the mark %q on their profile", i, want[i].outcome, u.Badge)
		}
		// Exactly one message tells the verdict, in the bot's words; the
		// fix user got one list of problems before it.
		var verdicts, fixes []demo.Message
		for _, m := range u.Messages {
			switch {
			case m.Text == en.Text(i18n.MsgResultVerified, nil):
				verdicts = append(verdicts, m)
			case strings.HasPrefix(m.Text, "We are sorry, but we cannot verify your identity."):
				verdicts = append(verdicts, m)
			case strings.HasPrefix(m.Text, "Please fix"):
				fixes = append(fixes, m)
			}
		}
		wantFixes := 0
		if u.Scenario == demo.Fix {
			wantFixes = 1
		}
		if len(verdicts) != 1 || verdicts[0].Verdict != u.Expected || u.VerdictMessages != 1 {
			t.Errorf("user %d got %d verdict messages (report: %d), want exactly one saying %s: %+v", i, len(verdicts), u.VerdictMessages, u.Expected, u.Messages)
		}
		if len(fixes) != wantFixes || u.FixMessages != wantFixes {
			t.Errorf("user %d got %d lists of problems, want %d", i, len(fixes), wantFixes)
		}
		if len(u.Messages) < 2 || u.Messages[0].Buttons == nil && u.Messages[1].Buttons == nil {
			t.Errorf("user %d: no request button among the first messages: %+v", i, u.Messages)
		}
		if u.Seconds <= 0 || u.SignUpSeconds <= 0 || len(u.VerdictSeconds) != 1+wantFixes {
			t.Errorf("user %d: durations %v, %v, %v", i, u.SignUpSeconds, u.Seconds, u.VerdictSeconds)
		}
	}

	// --report - puts the JSON alone on stdout.
	r = runCLI(t, nil, "sandbox", "users", "--config", s.config, "--users", "1", "--scenario", "final", "--report", "-", "--lang", "de")
	if r.code != exitOK {
		t.Fatalf("sandbox users --report -: exit %d, stderr %q", r.code, r.stderr)
	}
	var one demo.Report
	if err := json.Unmarshal([]byte(r.stdout), &one); err != nil || len(one.Users) != 1 || !one.Users[0].OK || one.Lang != "de" {
		t.Errorf("stdout is not the report of one German user who ended as expected (%v):\n%s", err, r.stdout)
	}

	// A user who does not end as expected fails the run with a summary.
	r = runCLI(t, nil, "sandbox", "users", "--config", s.config, "--users", "1", "--bot", "nobody_here_bot", "--timeout", "30s")
	if r.code != exitFailure || !strings.Contains(r.stderr, "1 of 1 users did not end as expected") ||
		!strings.Contains(r.stderr, "@nobody_here_bot") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("users against a bot that does not exist: exit %d, stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "NOT as expected") {
		t.Errorf("the summary does not show the user who failed:\n%s", r.stdout)
	}
}

// 'sandbox users' says what is wrong with a config it cannot play on.
func TestSandboxUsersConfigErrors(t *testing.T) {
	clearSecretEnv(t)
	dir := t.TempDir()
	key := writeKey(t, dir, "bot.pem", testKeys()[0], 0o600)
	serverPEM, err := passport.MarshalPublicKey(&testKeys()[1].PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	// A sandbox config whose sandbox is not running.
	dead := freeLoopback(t)
	yml, err := demo.ProcessConfig{BotToken: "7000000001:AAHsecretsecretsecretsecretsecret12",
		Server:         config.TelegramServer{DC: 2, Addresses: map[int]string{2: dead}, PublicKeys: string(serverPEM)},
		PrivateKeyFile: key, PublicURL: "http://127.0.0.1:8080", Listen: "127.0.0.1:8080", RedisAddr: "127.0.0.1:6379", RedisPrefix: "p:"}.YAML()
	if err != nil {
		t.Fatal(err)
	}
	stopped := writeConfig(t, string(yml))
	for _, tc := range []struct {
		name, config string
		want         []string
	}{
		{"no such file", filepath.Join(dir, "nope.yaml"), []string{"nope.yaml", "sandbox serve"}},
		{"Telegram's servers", "../../config.example.yaml", []string{"no addresses", "local sandbox only"}},
		{"the sandbox is not running", stopped, []string{"nothing answers at " + dead, "is 'kycbot sandbox serve' running"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantOneLineError(t, runCLI(t, nil, "sandbox", "users", "--config", tc.config, "--users", "1"), exitFailure, tc.want...)
		})
	}
}

func TestSandboxSubcommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "sandbox", "serve"}, "Usage: kycbot sandbox serve"},
		{[]string{"help", "sandbox", "users"}, "Usage: kycbot sandbox users"},
		{[]string{"sandbox", "serve", "-h"}, "--config-out FILE"},
		{[]string{"sandbox", "users", "--help"}, "--report FILE"},
		{[]string{"help", "sandbox"}, "kycbot sandbox serve"},
	} {
		r := runCLI(t, nil, tc.args...)
		if r.code != exitOK || r.stderr != "" || !strings.Contains(r.stdout, tc.want) {
			t.Errorf("kycbot %v: exit %d, stderr %q, stdout lacks %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

func TestSandboxSubcommandUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"sandbox", "frob"}, []string{`unexpected argument "frob"`, "serve and users", "kycbot help sandbox"}},
		{[]string{"help", "sandbox", "frob"}, []string{`unknown command "sandbox frob"`}},
		{[]string{"sandbox", "serve", "--nope"}, []string{"-nope", "kycbot help sandbox serve"}},
		{[]string{"sandbox", "serve", "extra"}, []string{`unexpected argument "extra"`, "kycbot help sandbox serve"}},
		{[]string{"sandbox", "serve", "--config-out", "-"}, []string{"--config-out must name a file"}},
		{[]string{"sandbox", "serve", "--config-out", "bot.pem"}, []string{"ends in .pem"}},
		{[]string{"sandbox", "serve", "--addr", "localhost:4000"}, []string{"--addr", "IPv4 address"}},
		{[]string{"sandbox", "serve", "--addr", "0.0.0.0:4000"}, []string{"--addr", "not 0.0.0.0"}},
		{[]string{"sandbox", "serve", "--addr", "127.0.0.1"}, []string{"--addr", "HOST:PORT"}},
		{[]string{"sandbox", "serve", "--public-url", "http://kyc.example.com"}, []string{"--public-url: must use https"}},
		{[]string{"sandbox", "serve", "--listen", "nowhere"}, []string{"--listen:"}},
		{[]string{"sandbox", "serve", "--redis", "redis://127.0.0.1:6379"}, []string{"--redis:"}},
		{[]string{"sandbox", "serve", "--redis", "a:1,b:2"}, []string{"--redis:", "set mode to sentinel or cluster"}},
		{[]string{"sandbox", "serve", "--redis-mode", "sentinel"}, []string{"--redis-master:", "required in sentinel mode"}},
		{[]string{"sandbox", "serve", "--redis-mode", "cluster", "--redis-wait-replicas", "1"}, []string{"--redis-wait-replicas:", "sentinel and single modes"}},
		{[]string{"sandbox", "serve", "--transport", "http"}, []string{`--transport "http"`, "mtproto or botapi"}},
		{[]string{"sandbox", "serve", "--receive", "webhook"}, []string{"--receive goes with --transport botapi"}},
		{[]string{"sandbox", "serve", "--transport", "botapi", "--receive", "push"}, []string{`--receive "push"`, "polling or webhook"}},
		{[]string{"sandbox", "users"}, []string{"--users N is required"}},
		{[]string{"sandbox", "users", "--users", "0"}, []string{"--users N is required", "from 1 to 1000"}},
		{[]string{"sandbox", "users", "--users", "1001"}, []string{"from 1 to 1000"}},
		{[]string{"sandbox", "users", "--users", "x"}, []string{"-users", "kycbot help sandbox users"}},
		{[]string{"sandbox", "users", "--users", "1", "--scenario", "nope"}, []string{`unknown scenario "nope"`, "or mix"}},
		{[]string{"sandbox", "users", "--users", "1", "--lang", "xx"}, []string{`--lang "xx"`}},
		{[]string{"sandbox", "users", "--users", "1", "--timeout", "0s"}, []string{"--timeout 0s", "positive duration"}},
		{[]string{"sandbox", "users", "--users", "1", "--timeout", "soon"}, []string{"-timeout"}},
		{[]string{"sandbox", "users", "--users", "1", "--bot", "@"}, []string{"--bot"}},
		{[]string{"sandbox", "users", "--users", "1", "more"}, []string{`unexpected argument "more"`}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			wantOneLineError(t, runCLI(t, nil, tc.args...), exitUsage, tc.want...)
		})
	}
}

// The private key and the config of serve are never readable by others,
// even when they replace a file that was.
func TestWriteFileAtomic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" || fileMode(t, p) != 0o600 {
		t.Errorf("after writeFileAtomic: %q, mode %o; want \"new\" and 0600", b, fileMode(t, p))
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := writeFileAtomic(filepath.Join(p, "below-a-file"), nil); err == nil {
		t.Error("writing below a file succeeded")
	}
}
