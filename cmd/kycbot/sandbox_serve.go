package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kycbot/kycbot/config"
	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/sandbox"
	"github.com/kycbot/kycbot/sandbox/demo"
	"github.com/kycbot/kycbot/store"
)

const sandboxServeUsage = `Usage: kycbot sandbox serve [--config-out FILE] [--redis ADDR[,ADDR...]] [--redis-mode MODE]
                           [--redis-master NAME] [--redis-wait-replicas N] [--public-url URL] [--listen ADDR] [--addr HOST:PORT]
                           [--bot-api-listen HOST:PORT] [--transport mtproto|botapi]
                           [--receive polling|webhook] [--bot-verifier]

Run a local Telegram (MTProto servers on this machine) until Ctrl-C or
SIGTERM, with the account of the demo bot @kycbot_demo_bot and a fresh
Passport key, and write a config with which 'kycbot run' reaches it: the
bot then runs in processes of its own, as in production, as many
instances as you like sharing one Redis. 'kycbot sandbox users' plays
simulated users against it.

The same Telegram also speaks the Bot API (HTTP and JSON, as
api.telegram.org does) on a port of its own, for bots written on the Bot
API: getUpdates or a webhook, sendMessage, Passport data and files.
'kycbot run' itself runs on either: the config holds what both need, and
telegram.transport (--transport) says which one it uses.

The config is the demo's (the levels and rules of 'kycbot sandbox') with
the bot's token, telegram.server (the local servers' addresses and public
keys), telegram.bot_api_url (the Bot API front), passport.private_key_file,
web and redis filled in; pointed at
Telegram's test DCs (telegram.server: {test: true}) with a bot made there,
the same settings run there. The config (it holds the bot's token) and the
key are written with mode 0600; both are removed when this command stops,
and so are the bot's keys in Redis (under a fresh redis.prefix). An
existing file is replaced only when an earlier 'sandbox serve' wrote it.

Flags:
  --config-out FILE  where to write the config (default kycbot-sandbox.yaml);
                     the key goes beside it, with the extension .pem
                     (kycbot-sandbox.pem)
  --redis ADDR       the Redis the bot is to use, host:port (default
                     127.0.0.1:6379); the sentinels or the cluster's
                     nodes, comma-separated, with --redis-mode
  --redis-mode MODE  redis.mode: single (default), sentinel or cluster
  --redis-master NAME
                     redis.master_name: the master the sentinels watch
                     (sentinel mode)
  --redis-wait-replicas N
                     redis.wait_replicas: replicas that must have the
                     writes that must survive a failover (default 0)
  --public-url URL   web.public_url: where users' browsers reach the bot's
                     request page (default http://127.0.0.1:8080)
  --listen ADDR      web.listen: where the bot's web server listens
                     (default 127.0.0.1:8080; 'kycbot run --listen' changes
                     it per instance)
  --addr HOST:PORT   where DC 2 listens, so that a config written before
                     stays right (default: a free port of 127.0.0.1)
  --bot-api-listen HOST:PORT
                     where the Bot API front listens (default: a free port
                     of 127.0.0.1)
  --transport T      telegram.transport of the config: mtproto (default;
                     'kycbot run' logs in over MTProto) or botapi ('kycbot
                     run' talks to the Bot API front with the token alone)
  --receive R        telegram.bot_api.receive with --transport botapi:
                     polling (default) or webhook (the front posts the
                     updates to --public-url)
  --bot-verifier     approve the demo bot as a verifier, as Telegram approves
                     organisations, and turn badge.enabled on in the config:
                     verified users then carry the bot's verification mark
                     on their profile ('sandbox users' reports it). Without
                     it the bot is not approved, as most bots are: with
                     badge.enabled set by hand, the admins get the
                     BOT_VERIFIER_FORBIDDEN alarm instead

Exit status: 0 after a clean stop, 1 when the sandbox cannot start or its
files cannot be written, 2 on bad flags.
`

// serveMarker starts every config sandbox serve writes: a file that starts
// with it may be replaced by the next run.
const serveMarker = "Written by 'kycbot sandbox serve'"

func runSandboxServe(e *env, args []string) int {
	const name = "sandbox serve"
	flags := newFlagSet(name)
	out := flags.String("config-out", "kycbot-sandbox.yaml", "")
	redisAddr := flags.String("redis", demo.DefaultRedisAddr, "")
	redisMode := flags.String("redis-mode", "", "")
	redisMaster := flags.String("redis-master", "", "")
	redisWait := flags.Int("redis-wait-replicas", 0, "")
	publicURL := flags.String("public-url", "http://127.0.0.1:8080", "")
	listen := flags.String("listen", "127.0.0.1:8080", "")
	addr := flags.String("addr", "", "")
	botAPIListen := flags.String("bot-api-listen", "", "")
	transport := flags.String("transport", config.TransportMTProto, "")
	receive := flags.String("receive", "", "")
	verifier := flags.Bool("bot-verifier", false, "")
	positional, code, done := e.parseCommandFlags(name, flags, args)
	if done {
		return code
	}
	keyFile := strings.TrimSuffix(*out, filepath.Ext(*out)) + ".pem"
	switch {
	case len(positional) > 0:
		return e.usageError(name, fmt.Sprintf("unexpected argument %q (the config file goes in --config-out)", positional[0]))
	case *out == "" || *out == "-":
		return e.usageError(name, "--config-out must name a file: the config holds the bot's token and is never written to stdout")
	case keyFile == *out:
		return e.usageError(name, fmt.Sprintf("--config-out %q ends in .pem, the key's name: give the config a name such as kycbot-sandbox.yaml", *out))
	}
	if *addr != "" {
		if msg := checkDCAddr(*addr); msg != "" {
			return e.usageError(name, "--addr "+msg)
		}
	}
	switch {
	case *transport != config.TransportMTProto && *transport != config.TransportBotAPI:
		return e.usageError(name, fmt.Sprintf("--transport %q: use %s or %s", *transport, config.TransportMTProto, config.TransportBotAPI))
	case *receive != "" && *transport != config.TransportBotAPI:
		return e.usageError(name, "--receive goes with --transport botapi")
	case *receive != "" && *receive != config.ReceivePolling && *receive != config.ReceiveWebhook:
		return e.usageError(name, fmt.Sprintf("--receive %q: use %s or %s", *receive, config.ReceivePolling, config.ReceiveWebhook))
	}
	if *botAPIListen != "" {
		if msg := checkDCAddr(*botAPIListen); msg != "" {
			return e.usageError(name, "--bot-api-listen "+msg)
		}
	}
	pc := demo.ProcessConfig{
		Header: []string{serveMarker}, PrivateKeyFile: filepath.Base(keyFile),
		PublicURL: *publicURL, Listen: *listen, RedisAddr: *redisAddr, RedisPrefix: demo.NewPrefix(),
		RedisMode: *redisMode, RedisMasterName: *redisMaster, RedisWaitReplicas: *redisWait,
		Transport: *transport, Receive: *receive, Badge: *verifier,
	}
	redisCfg := store.Config{Mode: *redisMode, Addrs: strings.Split(*redisAddr, ","), MasterName: *redisMaster}
	// The settings of the flags first, before starting anything.
	if _, err := pc.YAML(); err != nil {
		return e.usageError(name, flagProblems(err))
	}
	if err := checkReplace(e.ctx, *out, keyFile); err != nil {
		return e.fail(name, err)
	}

	sopts := sandbox.Options{}
	if *addr != "" {
		sopts.Listen = map[int]string{sandbox.MainDC: *addr}
	}
	served, err := demo.Serve(e.ctx, demo.ServeOptions{Sandbox: sopts, BotAPIListen: *botAPIListen, Verifier: *verifier})
	if err != nil {
		return e.fail(name, err)
	}
	defer func() { _ = served.Close() }()
	if pc.Server, err = served.Server(); err != nil {
		return e.fail(name, err)
	}
	pc.BotToken = served.Account.Token
	pc.BotAPIURL = served.BotAPIURL
	dcAddr := served.Sandbox.Addr(sandbox.MainDC).String()
	pc.Header = []string{
		serveMarker + " at " + time.Now().Format(time.RFC3339) + ": the demo bot",
		"on a local Telegram (DC 2 at " + dcAddr + "), for as long as that command runs;",
		"it removes this file when it stops. The bot token and the key are throwaway.",
		"",
		"Run the bot:  kycbot run --config " + shellQuote(*out) + " (on " + transportName(*transport) + ";",
		"set telegram.transport to " + otherTransport(*transport) + " for " + transportName(otherTransport(*transport)) + ")",
		"Play users:   kycbot sandbox users --config " + shellQuote(*out) + " --users 10 --scenario mix",
		"",
		"The same settings reach Telegram's test DCs with telegram.server set to",
		"{test: true} and the token and key of a bot made on the test servers.",
	}
	yml, err := pc.YAML()
	if err != nil {
		return e.fail(name, err)
	}
	if err := writeFileAtomic(keyFile, passport.MarshalPrivateKey(served.Key)); err != nil {
		return e.fail(name, err)
	}
	if err := writeFileAtomic(*out, yml); err != nil {
		_ = os.Remove(keyFile)
		return e.fail(name, err)
	}

	fmt.Fprintf(e.stdout, "kycbot sandbox serve: a local Telegram runs on this machine until Ctrl-C.\n\n")
	fmt.Fprintf(e.stdout, "  Telegram  DC 2 at %s (MTProto; every phone number logs in with the code %s)\n", dcAddr, sandbox.DefaultLoginCode)
	for _, k := range served.Sandbox.PublicKeys() {
		fmt.Fprintf(e.stdout, "            server key fingerprint %016x (the PEM is telegram.server.public_keys in the config)\n", uint64(k.Fingerprint()))
	}
	fmt.Fprintf(e.stdout, "            layer %s; every transport, plain or obfuscated (docs/sandbox-clients.md)\n", layerList(sandbox.Layers()))
	fmt.Fprintf(e.stdout, "  Bot API   %s (HTTP and JSON, for bots on the Bot API: %s/bot<token>/getMe)\n", served.BotAPIURL, served.BotAPIURL)
	fmt.Fprintf(e.stdout, "  Bot       @%s, a new account with a new Passport key\n", served.Account.Username)
	if *verifier {
		fmt.Fprintf(e.stdout, "            approved as a verifier: verified users get its mark (badge.enabled: true)\n")
	}
	fmt.Fprintf(e.stdout, "  Config    %s (mode 0600: it holds the bot's token)\n", *out)
	fmt.Fprintf(e.stdout, "  Key       %s (mode 0600)\n", keyFile)
	fmt.Fprintf(e.stdout, "  Web       the bot listens on %s; users open %s\n", *listen, *publicURL)
	fmt.Fprintf(e.stdout, "  Redis     %s, keys under %s\n", *redisAddr, pc.RedisPrefix)
	fmt.Fprintf(e.stdout, "  Transport 'kycbot run' talks to Telegram %s (telegram.transport: %s)\n", transportWay(*transport, *receive), *transport)
	fmt.Fprintf(e.stdout, "            the other way in: telegram.transport: %s in the config, or 'sandbox serve --transport %s'\n",
		otherTransport(*transport), otherTransport(*transport))
	if err := pingRedis(e.ctx, redisCfg); err != nil {
		fmt.Fprintf(e.stdout, "            nothing answers there yet: start Redis before the bot\n")
	}
	fmt.Fprintf(e.stdout, "\nNext, in other terminals, run the bot (as many instances as you like):\n")
	fmt.Fprintf(e.stdout, "  kycbot run --config %s --instance a\n", shellQuote(*out))
	if next := nextPort(*listen); next != "" {
		fmt.Fprintf(e.stdout, "  kycbot run --config %s --instance b --listen %s\n", shellQuote(*out), next)
	}
	fmt.Fprintf(e.stdout, "then play simulated users against it:\n")
	fmt.Fprintf(e.stdout, "  kycbot sandbox users --config %s --users 10 --scenario mix --report -\n\n", shellQuote(*out))
	fmt.Fprintf(e.stdout, "Stopping removes %s, %s and the bot's keys in Redis; stop the bots first.\n", *out, keyFile)

	<-e.ctx.Done()

	err = served.Close()
	removed := []string{}
	for _, f := range []string{*out, keyFile} {
		if rerr := os.Remove(f); rerr == nil {
			removed = append(removed, f)
		} else if !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, fmt.Errorf("remove %s: %w", f, rerr))
		}
	}
	left := ""
	ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 10*time.Second)
	defer cancel()
	rdb, rerr := store.Open(ctx, redisCfg)
	if rerr == nil {
		var n int
		if n, rerr = demo.DeleteKeys(ctx, rdb, pc.RedisPrefix); rerr == nil {
			removed = append(removed, fmt.Sprintf("the %d keys under %s from Redis", n, pc.RedisPrefix))
		}
		_ = rdb.Close()
	}
	if rerr != nil {
		left = fmt.Sprintf("; Redis did not answer (%s), so any keys under %s are left there", oneLine(rerr.Error()), pc.RedisPrefix)
	}
	if err != nil {
		return e.fail(name, fmt.Errorf("stopping: %w", err))
	}
	what := "nothing"
	if n := len(removed); n > 0 {
		what = removed[n-1]
		if n > 1 {
			what = strings.Join(removed[:n-1], ", ") + " and " + what
		}
	}
	fmt.Fprintf(e.stdout, "kycbot sandbox serve: stopped; removed %s%s.\n", what, left)
	return exitOK
}

// checkDCAddr checks --addr; it returns what is wrong, or "".
func checkDCAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("%q is not HOST:PORT, such as 127.0.0.1:44302", addr)
	}
	ip, err := netip.ParseAddr(host)
	ip = ip.Unmap()
	if err != nil || !ip.Is4() || ip.IsUnspecified() {
		return fmt.Sprintf("%q: the host must be an IPv4 address the bot and the users can reach, such as 127.0.0.1 (not a name, not 0.0.0.0)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Sprintf("%q: the port must be a number from 0 (any free port) to 65535", addr)
	}
	return ""
}

// flagProblems turns the problems of the config made of the flags into
// the flags' names.
func flagProblems(err error) string {
	var cerr *config.Error
	if !errors.As(err, &cerr) {
		return err.Error()
	}
	flagOf := map[string]string{"web.public_url": "--public-url", "web.listen": "--listen", "redis.addrs": "--redis",
		"redis.mode": "--redis-mode", "redis.master_name": "--redis-master", "redis.wait_replicas": "--redis-wait-replicas"}
	var msgs []string
	for _, p := range cerr.Problems {
		what := p.Path
		for path, flag := range flagOf {
			if p.Path == path || strings.HasPrefix(p.Path, path+"[") {
				what = flag
			}
		}
		msgs = append(msgs, what+": "+p.Message)
	}
	return strings.Join(msgs, "; ")
}

// checkReplace refuses to replace a config or key file that an earlier
// sandbox serve did not write.
func checkReplace(ctx context.Context, cfgFile, keyFile string) error {
	f, err := os.Open(cfgFile)
	ours := false
	switch {
	case err == nil:
		head := make([]byte, 256)
		n, _ := io.ReadFull(f, head)
		_ = f.Close()
		ours = bytes.HasPrefix(head[:n], []byte("# "+serveMarker))
		if !ours {
			return fmt.Errorf("%s exists and was not written by 'kycbot sandbox serve': choose another --config-out, or remove it if you are sure it is not needed", cfgFile)
		}
		if addr := liveSandbox(ctx, cfgFile); addr != "" {
			return fmt.Errorf("%s belongs to a 'kycbot sandbox serve' that still runs (its DC 2 at %s answers): stop that one first, or choose another --config-out", cfgFile, addr)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("check %s: %w", cfgFile, err)
	}
	if _, err := os.Lstat(keyFile); err == nil && !ours {
		return fmt.Errorf("%s exists and was not written by 'kycbot sandbox serve' (is it a key in use?): choose another --config-out, or remove it if you are sure it is not needed", keyFile)
	}
	return nil
}

// liveSandbox returns the address of the main DC of the config at file
// when something answers there, or "".
func liveSandbox(ctx context.Context, file string) string {
	cfg, err := config.Load(file, config.WithEnv(nil))
	if err != nil {
		return ""
	}
	addr := cfg.Telegram.Server.Addresses[cfg.Telegram.Server.DC]
	if addr == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return ""
	}
	_ = conn.Close()
	return addr
}

// writeFileAtomic writes b to path with mode 0600 through a temporary file
// in the same folder renamed over it: a reader sees the whole file or
// none.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(b)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// pingRedis reports whether the Redis of c answers.
func pingRedis(ctx context.Context, c store.Config) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	rdb, err := store.Open(ctx, c)
	if err != nil {
		return err
	}
	return rdb.Close()
}

// nextPort returns host:port+1 of a host:port, or "".
func nextPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n <= 0 || n >= 65535 {
		return ""
	}
	return net.JoinHostPort(host, strconv.Itoa(n+1))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+@%,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// otherTransport returns the transport that is not t.
func otherTransport(t string) string {
	if t == config.TransportBotAPI {
		return config.TransportMTProto
	}
	return config.TransportBotAPI
}

// transportName names a transport for people.
func transportName(t string) string {
	if t == config.TransportBotAPI {
		return "the Bot API front, with the token alone"
	}
	return "MTProto, with app_id, app_hash and the token"
}

// transportWay says how 'kycbot run' talks to the sandbox with transport
// t and receive r.
func transportWay(t, r string) string {
	switch {
	case t != config.TransportBotAPI:
		return "over MTProto (the DC above)"
	case r == config.ReceiveWebhook:
		return "over the Bot API front; the front posts the updates to the bot's web server (a webhook at the public URL)"
	}
	return "over the Bot API front; the bot receives by long polling (getUpdates)"
}

// layerList renders the schema layers the sandbox speaks.
func layerList(layers []int) string {
	out := make([]string, len(layers))
	for i, l := range layers {
		out[i] = strconv.Itoa(l)
	}
	return strings.Join(out, ", ")
}
