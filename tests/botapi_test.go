package tests

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/botapi"
	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/store"
	"github.com/kycbot/kycbot/tests/testkit"
)

// startUsers starts n simulated users of scenario (`kycbot sandbox
// users`, as a process) against the bot of cfgFile, over ramp; their
// report goes to the file it returns.
func startUsers(t testing.TB, bin, cfgFile string, n int, scenario string, ramp time.Duration) (*process, string) {
	t.Helper()
	report := filepath.Join(t.TempDir(), "report.json")
	users := startProcess(t, bin, "users", "", "sandbox", "users", "--config", cfgFile, "--users", strconv.Itoa(n),
		"--scenario", scenario, "--report", report, "--ramp", ramp.String(), "--timeout", "3m")
	return users, report
}

// usersReport waits for the users to finish, wants their process to exit
// 0 (every user as expected) and returns their report of n users.
func usersReport(t testing.TB, users *process, report string, n int) demo.Report {
	t.Helper()
	select {
	case <-users.exited:
	case <-time.After(5 * time.Minute):
		users.kill()
		t.Fatal("the users did not finish")
	}
	if code := users.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("sandbox users exited %d:\n%s", code, users.logs.String())
	}
	return readReport(t, report, n)
}

// readReport reads the report of `kycbot sandbox users` at file, of n
// users.
func readReport(t testing.TB, file string, n int) demo.Report {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rep demo.Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Users) != n {
		t.Fatalf("the report has %d users, want %d", len(rep.Users), n)
	}
	return rep
}

// runUsers plays n users of scenario at once and returns their report.
func runUsers(t *testing.T, bin, cfgFile string, n int, scenario string) demo.Report {
	t.Helper()
	users, report := startUsers(t, bin, cfgFile, n, scenario, 0)
	return usersReport(t, users, report, n)
}

// wantAsExpected wants every user of rep ended as expected: the
// scenario's outcome, one verdict message, the problems to fix listed
// once in the fix scenario.
func wantAsExpected(t *testing.T, rep demo.Report) {
	t.Helper()
	for _, u := range rep.Users {
		if !u.OK {
			t.Errorf("user %d (%s): outcome %q (want %q), %d verdict messages, %d fix messages",
				u.Index, u.Scenario, u.Outcome, u.Expected, u.VerdictMessages, u.FixMessages)
		}
	}
}

// wantTransportLogged wants the JSON logs of `kycbot run` to say it runs
// on the Bot API with receive, and never to hold the bot token.
func wantTransportLogged(t *testing.T, name, logs string, receive, token string) {
	t.Helper()
	if !strings.Contains(logs, `"transport":"botapi"`) || !strings.Contains(logs, `"receive":"`+receive+`"`) {
		t.Errorf("%s does not log that it runs on the Bot API with %s:\n%s", name, receive, problemLines(logs, 20))
	}
	_, secret, _ := strings.Cut(token, ":")
	if secret == "" || strings.Contains(logs, secret) {
		t.Errorf("%s logged the bot token", name)
	}
}

// serveInProcess starts the local Telegram with the demo bot (the tests'
// key) and its Bot API front in the test's process, and writes the bot's
// key in dir: it returns them, telegram.server and the key file.
func serveInProcess(tb testing.TB, ctx context.Context, dir string) (*demo.Served, config.TelegramServer, string) {
	tb.Helper()
	key, err := botKey()
	if err != nil {
		tb.Fatal(err)
	}
	served, err := demo.Serve(ctx, demo.ServeOptions{Key: key})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = served.Close() })
	server, err := served.Server()
	if err != nil {
		tb.Fatal(err)
	}
	keyFile := filepath.Join(dir, "bot.pem")
	if err := os.WriteFile(keyFile, passport.MarshalPrivateKey(served.Key), 0o600); err != nil {
		tb.Fatal(err)
	}
	return served, server, keyFile
}

// writeServedConfig writes in dir, as name.yaml, the config of the demo
// bot of served on transport and receive (empty: MTProto), its web server
// on a free port, under a fresh Redis prefix of topology top (its keys
// removed when the test ends); it returns the file.
func writeServedConfig(tb testing.TB, dir, name string, served *demo.Served, server config.TelegramServer, keyFile string,
	rdb redis.UniversalClient, top testkit.Topology, transport, receive string) string {
	tb.Helper()
	prefix := demo.NewPrefix()
	tb.Cleanup(func() { _, _ = demo.DeleteKeys(context.Background(), rdb, prefix) })
	web := freeAddr(tb)
	raw, err := demo.ProcessConfig{BotToken: served.Account.Token, Server: server, PrivateKeyFile: keyFile,
		BotAPIURL: served.BotAPIURL, Transport: transport, Receive: receive, PublicURL: "http://" + web, Listen: web,
		RedisAddr: strings.Join(top.Addrs, ","), RedisMode: top.Mode, RedisMasterName: top.MasterName, RedisPrefix: prefix}.YAML()
	if err != nil {
		tb.Fatal(err)
	}
	cfgFile := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(cfgFile, raw, 0o600); err != nil {
		tb.Fatal(err)
	}
	return cfgFile
}

// TestBotAPIPolling runs `kycbot run` as a process on the Bot API
// (telegram.transport botapi, long polling) against `kycbot sandbox
// serve --transport botapi`, with the README demo's scenarios: verified,
// verified after a fix, rejected. Then a second instance starts and the
// receiver (the holder of the receiver's lease, running getUpdates) is
// killed with SIGKILL: the other one takes over, and the next users are
// served as well.
func TestBotAPIPolling(t *testing.T) {
	t.Parallel()
	rdb := testkit.Need(t)
	top := testkit.RedisTopology()
	bin, err := kycbotBinary()
	if err != nil {
		t.Fatalf("build kycbot: %v", err)
	}
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "kycbot.yaml")
	lb := newBalancer(t) // the request pages of both instances
	serve := startProcess(t, bin, "serve", "Next, in other terminals", append([]string{"sandbox", "serve", "--config-out", cfgFile,
		"--transport", "botapi", "--public-url", "http://" + lb.addr, "--listen", "127.0.0.1:0"}, serveRedisFlags(top)...)...)
	defer serve.stop(t)
	if !strings.Contains(serve.logs.String(), "over the Bot API front") || !strings.Contains(serve.logs.String(), "telegram.transport: mtproto") {
		t.Errorf("sandbox serve does not name both ways in:\n%s", serve.logs.String())
	}
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Telegram.OnBotAPI() || cfg.Telegram.BotAPI.Receive != config.ReceivePolling {
		t.Fatalf("sandbox serve --transport botapi wrote transport %q, receive %q", cfg.Telegram.Transport, cfg.Telegram.BotAPI.Receive)
	}
	botID, err := passport.BotIDFromToken(cfg.Telegram.BotToken.Value())
	if err != nil {
		t.Fatal(err)
	}

	logsA, logsB := &testkit.Logs{}, &testkit.Logs{}
	webA, webB := freeAddr(t), freeAddr(t)
	lb.add(webA)
	lb.add(webB)
	a := startProcessLogs(t, bin, "poll-a", "is running as instance", logsA, "run", "--config", cfgFile, "--instance", "poll-a",
		"--listen", webA, "--log-format", "json")
	defer a.stop(t)
	rep := runUsers(t, bin, cfgFile, 3, "mix")
	wantAsExpected(t, rep)

	// A second instance; the receiver dies; the other one receives.
	b := startProcessLogs(t, bin, "poll-b", "is running as instance", logsB, "run", "--config", cfgFile, "--instance", "poll-b",
		"--listen", webB, "--log-format", "json")
	defer b.stop(t)
	holder, err := rdb.Get(context.Background(), cfg.Redis.Prefix+"lease:receiver:"+strconv.FormatInt(botID, 10)).Result()
	if err != nil || !strings.HasPrefix(holder, "poll-a:") {
		t.Fatalf("the receiver's lease is held by %q (%v), want poll-a", holder, err)
	}
	a.kill()
	rep = runUsers(t, bin, cfgFile, 3, "mix")
	wantAsExpected(t, rep)
	if !strings.Contains(logsB.String(), "receiving Telegram's updates for every instance") {
		t.Errorf("poll-b never took the receiver's lease over:\n%s", problemLines(logsB.String(), 20))
	}
	wantTransportLogged(t, "poll-a", logsA.String(), config.ReceivePolling, cfg.Telegram.BotToken.Value())
	wantTransportLogged(t, "poll-b", logsB.String(), config.ReceivePolling, cfg.Telegram.BotToken.Value())
}

// TestBotAPIWebhookInstances runs two `kycbot run` processes on the Bot
// API with a webhook (telegram.bot_api.receive webhook), each on a web
// port of its own behind one load balancer at web.public_url, so that
// the sandbox's Bot API front posts each update to either. While the
// users share their documents one instance is killed with SIGKILL. Every
// user is verified exactly once: one verdict message, one verified
// status, one verified audit event, one webhook event.
func TestBotAPIWebhookInstances(t *testing.T) {
	t.Parallel()
	rdb := testkit.Need(t)
	top := testkit.RedisTopology()
	bin, err := kycbotBinary()
	if err != nil {
		t.Fatalf("build kycbot: %v", err)
	}
	const n = 8
	dir := t.TempDir()
	lb := newBalancer(t)
	hook := newReceiver(t, time.Now)
	cfgFile := filepath.Join(dir, "kycbot.yaml")
	serve := startProcess(t, bin, "serve", "Next, in other terminals", append([]string{"sandbox", "serve", "--config-out", cfgFile,
		"--transport", "botapi", "--receive", "webhook", "--public-url", "http://" + lb.addr, "--listen", "127.0.0.1:0"}, serveRedisFlags(top)...)...)
	defer serve.stop(t)
	cfg := deliverToHook(t, cfgFile, hook)
	if !cfg.Telegram.OnBotAPI() || cfg.Telegram.BotAPI.Receive != config.ReceiveWebhook {
		t.Fatalf("sandbox serve --receive webhook wrote transport %q, receive %q", cfg.Telegram.Transport, cfg.Telegram.BotAPI.Receive)
	}
	auditFrom, err := bot.LoadPrivateKey(cfg.Passport.PrivateKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(rdb, store.WithPrefix(cfg.Redis.Prefix), bot.AuditKeys(auditFrom))

	logs := map[string]*testkit.Logs{}
	procs := map[string]*process{}
	for _, name := range []string{"hook-a", "hook-b"} {
		addr := freeAddr(t)
		lb.add(addr)
		logs[name] = &testkit.Logs{}
		procs[name] = startProcessLogs(t, bin, name, "is running as instance", logs[name], "run", "--config", cfgFile,
			"--instance", name, "--listen", addr, "--log-format", "json")
		defer procs[name].stop(t)
	}
	defer func() {
		if t.Failed() {
			for name, l := range logs {
				t.Logf("the warnings and errors of %s:\n%s", name, problemLines(l.String(), 40))
			}
		}
	}()

	// The users over a while; hook-a dies once a third is verified.
	users, report := startUsers(t, bin, cfgFile, n, "happy", 12*time.Second)
	for {
		stats, err := st.Statuses().Stats(context.Background(), time.Now())
		if verified := stats.Total[cfg.DefaultLevelName][store.StateVerified]; err == nil && verified >= n/3 {
			procs["hook-a"].kill()
			t.Logf("hook-a killed with %d of %d users verified", verified, n)
			break
		}
		select {
		case <-users.exited:
			t.Fatal("the users were done before an instance was killed")
		case <-time.After(50 * time.Millisecond):
		}
	}
	rep := usersReport(t, users, report, n)
	lost, dup := wantEachVerifiedOnce(t, rep, st, cfg.DefaultLevelName, hook)
	t.Logf("%d users, %d lost (no verdict), %d with duplicate verdicts", n, lost, dup)
	received := 0
	for name, l := range logs {
		wantTransportLogged(t, name, l.String(), config.ReceiveWebhook, cfg.Telegram.BotToken.Value())
		received += strings.Count(l.String(), "webhook set: receiving Telegram's updates")
	}
	if received != 2 {
		t.Errorf("%d instances set the webhook, want both", received)
	}
}

// TestBotAPIFloodWait runs `kycbot run` on the Bot API against the
// sandbox's Bot API front, which answers sendMessage with 429 Too Many
// Requests (retry_after 1) three times: the bot waits each out and sends
// again, and the users end as they would without it.
func TestBotAPIFloodWait(t *testing.T) {
	t.Parallel()
	rdb := testkit.Need(t)
	top := testkit.RedisTopology()
	bin, err := kycbotBinary()
	if err != nil {
		t.Fatalf("build kycbot: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	served, server, keyFile := serveInProcess(t, ctx, dir)
	cfgFile := writeServedConfig(t, dir, "kycbot", served, server, keyFile, rdb, top, config.TransportBotAPI, "")
	logs := &testkit.Logs{}
	p := startProcessLogs(t, bin, "flood", "is running as instance", logs, "run", "--config", cfgFile, "--instance", "flood", "--log-format", "json")
	defer p.stop(t)

	const refusals = 3
	served.BotAPI.FloodWait("sendMessage", refusals, 1)
	rep := runUsers(t, bin, cfgFile, 3, "mix")
	wantAsExpected(t, rep)
	if waits := strings.Count(logs.String(), "botapi: flood control: waiting before calling again"); waits != refusals {
		t.Errorf("the bot waited out %d 429s of sendMessage, want %d:\n%s", waits, refusals, problemLines(logs.String(), 20))
	}
	// Each user got a verdict message at least, sent after the refusals.
	if calls := served.BotAPI.Calls("sendMessage"); calls < len(rep.Users)+refusals {
		t.Errorf("sendMessage called %d times for %d users and %d refusals", calls, len(rep.Users), refusals)
	}
	wantTransportLogged(t, "flood", logs.String(), config.ReceivePolling, served.Account.Token)
}

// BenchmarkSharingToVerdictTransports measures, in one run, the time
// from sharing to the verdict (the sandbox users' own timing: from the
// tap on "Share" to the bot's answer) with `kycbot run` as a process on
// MTProto, on the Bot API with long polling and on the Bot API with a
// webhook, against one local Telegram (in this process) and its Bot API
// front. Each transport serves benchUsers happy users at once, in rounds
// that alternate the order; it reports the median and the slowest of
// each. Run it with
//
//	go test ./tests -run XXX -bench SharingToVerdictTransports -benchtime 1x
func BenchmarkSharingToVerdictTransports(b *testing.B) {
	const benchUsers, rounds = 10, 2
	rdb := testkit.Need(b)
	top := testkit.RedisTopology()
	bin, err := kycbotBinary()
	if err != nil {
		b.Fatalf("build kycbot: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	dir := b.TempDir()
	served, server, keyFile := serveInProcess(b, ctx, dir)
	api := botapi.NewClient(served.Account.Token, botapi.WithBaseURL(served.BotAPIURL))
	type way struct{ name, transport, receive string }
	ways := []way{{"mtproto", "", ""}, {"botapi-polling", config.TransportBotAPI, config.ReceivePolling},
		{"botapi-webhook", config.TransportBotAPI, config.ReceiveWebhook}}
	times := map[string][]float64{}
	for range b.N {
		for round := range rounds {
			order := slices.Clone(ways)
			if round%2 == 1 {
				slices.Reverse(order)
			}
			for _, w := range order {
				// What the Bot API front kept from the phase before is
				// dropped, and its webhook removed.
				if err := api.DeleteWebhook(ctx, true); err != nil {
					b.Fatal(err)
				}
				cfgFile := writeServedConfig(b, dir, w.name, served, server, keyFile, rdb, top, w.transport, w.receive)
				p := startProcess(b, bin, w.name, "is running as instance", "run", "--config", cfgFile, "--instance", "bench-"+w.name)
				users, report := startUsers(b, bin, cfgFile, benchUsers, "happy", 0)
				rep := usersReport(b, users, report, benchUsers)
				p.stop(b)
				for _, u := range rep.Users {
					if !u.OK {
						b.Fatalf("%s: user %d: %s", w.name, u.Index, u.Outcome)
					}
					times[w.name] = append(times[w.name], u.VerdictSeconds...)
				}
			}
		}
	}
	for _, w := range ways {
		ts := times[w.name]
		slices.Sort(ts)
		b.ReportMetric(ts[len(ts)/2]*1000, w.name+"-median-ms")
		b.ReportMetric(ts[len(ts)-1]*1000, w.name+"-max-ms")
	}
}
