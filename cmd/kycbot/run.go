package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/bot/runner"
	"github.com/kycbot/kycbot/config"
)

const runUsage = `Usage: kycbot run [--config FILE] [--instance NAME] [--listen ADDR] [--local-addr IP] [--log-level LEVEL] [--log-format FORMAT]

Run the bot against the real Telegram: log in with the bot token, answer
/start and /verify, serve the request page on web.listen and process every
Telegram Passport submission. Stop it with Ctrl-C or SIGTERM: the
submissions being processed are finished first, or handed over to the
other instances.

Run as many instances as you like with one config and one Redis: each
logs in with its own Telegram authorization (kept sealed in Redis under
its instance name, so a restart does not log in again; on the Bot API the
token is all), one of them receives Telegram's updates (on the Bot API
with a webhook, any of them) and every one of them processes them. Give
each a stable name of its own (--instance); a second process with a name
in use is refused.

SIGHUP reloads the config file without dropping work: the levels (scopes
and rules), default_level, the texts (i18n), the admins, request_ttl,
privacy_policy_url and delivery.include_data/include_files. A reload that
changes telegram, passport.private_key_file, redis, web, the webhook and
its retry settings (give_up_after, min_backoff, max_backoff,
reclaim_after), file_link_ttl or retention is refused (restart for those), and a file that does
not load is refused too: the bot logs why and keeps its config.

A second server, on web.ops_listen (default 127.0.0.1:9090, reached from
this host only), answers GET /healthz (the process is up), GET /readyz
(Redis answers and Telegram updates flow) and GET /metrics (Prometheus);
web.listen answers them 404. Instances on one machine each need a port of
their own (127.0.0.1:0: a free one, printed when the bot runs);
ops_listen "public" serves them on web.listen instead. See
docs/operations.md.

The config needs telegram.app_id, app_hash and bot_token (or
KYCBOT_APP_HASH and KYCBOT_BOT_TOKEN); with telegram.transport: botapi the
bot talks to the Bot API (telegram.bot_api_url) with bot_token alone and
receives by long polling (one instance at a time) or, with
telegram.bot_api.receive: webhook, on <web.public_url>/telegram/... served
by every instance. It also needs passport.private_key_file (a file
only its owner can read: chmod 600; kycbot refuses it otherwise) and
web.public_url, and says where verified results go: delivery.webhook_url
(your backend; docs/webhook.md), or delivery.none: true to run without
delivering them on purpose. Without either, run refuses to start: kycbot
keeps no copy of the data it verified. Check it first with
'kycbot check-config'.

Flags:
  --config FILE        the config file (default config.yaml)
  --instance NAME      this process's name among the bot's instances: 1 to
                       64 characters of A-Z a-z 0-9 _ . - (default
                       $KYCBOT_INSTANCE, else the host name)
  --listen ADDR        the address of the web server, instead of web.listen
                       (several instances on one host)
  --local-addr IP      the local address to connect to Telegram from (a
                       host with several addresses); default: any
  --log-level LEVEL    debug, info (default), warn or error
  --log-format FORMAT  text (default) or json; logs go to stderr and never
                       hold personal data

Exit status: 0 after a clean stop, 1 when the bot cannot start or fails,
2 on bad flags.
`

func runRun(e *env, args []string) int {
	const name = "run"
	flags := newFlagSet(name)
	file := flags.String("config", "config.yaml", "")
	instance := flags.String("instance", os.Getenv("KYCBOT_INSTANCE"), "")
	localAddr := flags.String("local-addr", "", "")
	listen := flags.String("listen", "", "")
	level := flags.String("log-level", "info", "")
	format := flags.String("log-format", "text", "")
	positional, code, done := e.parseCommandFlags(name, flags, args)
	if done {
		return code
	}
	if len(positional) > 0 {
		return e.usageError(name, fmt.Sprintf("unexpected argument %q (the file goes in --config)", positional[0]))
	}
	logger, err := newLogger(e, *level, *format)
	if err != nil {
		return e.usageError(name, err.Error())
	}
	if e.redisLog != nil {
		e.redisLog.to.Store(logger)
	}
	cfg, err := config.Load(*file, config.WithEnv(os.LookupEnv))
	if err != nil {
		return e.fail(name, fmt.Errorf("%w (run 'kycbot check-config --config %s' for every problem)", err, *file))
	}
	if err := cfg.RequireTelegram(); err != nil {
		return e.fail(name, err)
	}
	// kycbot run installs no Go hook: without a webhook, verified results
	// would go nowhere, which the config must say on purpose.
	if err := cfg.RequireDelivery(); err != nil {
		return e.fail(name, err)
	}
	if warning, _ := checkPersistence(e.ctx, cfg.Redis); warning != "" {
		logger.WarnContext(e.ctx, "kycbot run: "+warning)
	}
	var bopts []bot.Option
	if *instance != "" {
		bopts = append(bopts, bot.WithInstance(*instance))
	}
	r, err := runner.New(e.ctx, cfg, runner.Options{Logger: logger, Bot: bopts, LocalAddr: *localAddr, Listen: *listen,
		OnReady: func(i runner.Info) {
			ops := ""
			if i.OpsAddr != nil {
				ops = fmt.Sprintf("; health checks and metrics on %s", i.OpsAddr)
			}
			fmt.Fprintf(e.stderr, "kycbot run: @%s is running as instance %q; request pages on %s (public URL %s)%s\n",
				i.Username, i.Instance, i.WebAddr, cfg.Web.PublicURL, ops)
			if len(cfg.Admins) == 0 {
				fmt.Fprintf(e.stderr, "kycbot run: no admins in the config: to find your Telegram user ID, send /start to @%s; "+
					"the log line \"chat: message\" of it shows your user_id. Put it in admins and reload (kill -HUP %d)\n", i.Username, os.Getpid())
			}
		}})
	if err != nil {
		return e.fail(name, err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go watchReload(ctx, hup, func(ctx context.Context) {
		_ = reloadConfig(ctx, r.Bot(), *file, os.LookupEnv, logger)
	})
	if err := r.Run(e.ctx); err != nil {
		return e.fail(name, err)
	}
	return exitOK
}

// newLogger builds the stderr logger of --log-level and --log-format.
func newLogger(e *env, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	o := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, o)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}
