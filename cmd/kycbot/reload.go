package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/kycbot/kycbot/config"
)

// reloader is what SIGHUP reloads: *bot.Bot.
type reloader interface {
	Reload(ctx context.Context, cfg *config.Config) error
}

// reloadConfig loads file again (with the environment of lookup, as at
// start) and puts it in force in r. The outcome is logged: Info when the
// config was reloaded, Error otherwise; the bot then keeps the config it
// had. It returns the error it logged.
func reloadConfig(ctx context.Context, r reloader, file string, lookup func(string) (string, bool), log *slog.Logger) error {
	cfg, err := config.Load(file, config.WithEnv(lookup))
	if err == nil {
		err = cfg.RequireTelegram()
	}
	if err == nil {
		err = cfg.RequireDelivery()
	}
	if err == nil {
		err = r.Reload(ctx, cfg)
	}
	if err != nil {
		err = fmt.Errorf("config %s not reloaded, the bot keeps the one it has: %w", file, err)
		log.ErrorContext(ctx, "kycbot run: "+oneLine(err.Error()))
		return err
	}
	log.InfoContext(ctx, "kycbot run: config reloaded", slog.String("file", file))
	return nil
}

// watchReload calls reload for every signal received on sigs until ctx
// ends.
func watchReload(ctx context.Context, sigs <-chan os.Signal, reload func(context.Context)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sigs:
			reload(ctx)
		}
	}
}
