package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"

	"github.com/kycbot/kycbot/config"
)

// ErrReloadRefused is wrapped by Reload's error when the new config
// changes settings that cannot change while the bot runs.
var ErrReloadRefused = errors.New("settings that cannot change while the bot runs differ")

// Reload puts a new config in force without dropping work: the levels
// (scopes and rules), the default level, the texts (i18n: default
// language and overrides, unless WithCatalog gave them), the admins,
// passport.request_ttl and privacy_policy_url,
// delivery.include_data and include_files, and screening (the lists, read
// again in full even when unchanged, and their settings; a list that
// fails to load keeps its previous version, logged). It builds new handlers (and a
// new request page server) from cfg and swaps them in at once: updates
// being handled finish with the old ones, the next ones get the new. When
// the bot runs (Run), the commands are registered with Telegram again for
// the new admins and texts; a failure there is logged, not returned.
//
// Settings that cannot change at runtime are compared with those in
// force: telegram (app_id, app_hash, bot_token, server),
// passport.private_key_file, redis, web (listen, public_url, ops_listen),
// delivery.webhook_url, webhook_secret, give_up_after, min_backoff,
// max_backoff, reclaim_after and file_link_ttl, and retention.
// When one differs nothing changes and the error (wrapping
// ErrReloadRefused) names them all; restart the bot to change them. Any
// other error (bad texts, a level the rules refuse) also leaves the
// config in force as it was.
//
// cfg must come from config.Load, Parse or New; do not change it
// afterwards. Reload is safe to call at any time, concurrently with
// everything else.
func (b *Bot) Reload(ctx context.Context, cfg *config.Config) error {
	if err := checkLevels(cfg); err != nil {
		return fmt.Errorf("bot: reload: %w", err)
	}
	w, err := b.swap(cfg)
	if err != nil {
		return err
	}
	b.reconfigureScreening(ctx, cfg.Screening)
	b.log.InfoContext(ctx, "bot: config reloaded", slog.Int("levels", len(cfg.Levels)), slog.Int("admins", len(cfg.Admins)))
	if w != nil && b.o.everything {
		if err := w.chat.SetCommands(ctx); err != nil {
			b.log.WarnContext(ctx, "bot: config reloaded, but the commands could not be registered with Telegram again", slog.String("error", err.Error()))
		}
	}
	return nil
}

// swap checks cfg against the config in force, builds its settings and,
// once registered, its handlers, and puts them in place. It returns the
// new wiring (nil before Register).
func (b *Bot) swap(cfg *config.Config) (*wiring, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if fixed := fixedChanges(b.current().cfg, cfg); len(fixed) > 0 {
		return nil, fmt.Errorf("bot: reload refused: %w: %s (restart the bot to change them); the config in force stays",
			ErrReloadRefused, strings.Join(fixed, ", "))
	}
	set, err := newSettings(cfg, b.o)
	if err != nil {
		return nil, fmt.Errorf("bot: reload: %w; the config in force stays", err)
	}
	w := b.wiring()
	if w == nil {
		b.set.Store(set)
		return nil, nil
	}
	nw, err := b.build(set, w.t, w.self)
	if err != nil {
		return nil, fmt.Errorf("bot: reload: %w; the config in force stays", err)
	}
	b.set.Store(set)
	b.wired.Store(nw)
	return nw, nil
}

// fixedChanges lists the YAML paths of the settings that differ between
// old and next and cannot change while the bot runs (see Reload), in
// config order; none when a reload may go ahead. Secrets are named, never
// shown.
func fixedChanges(old, next *config.Config) []string {
	var out []string
	diffPaths("telegram", reflect.ValueOf(old.Telegram), reflect.ValueOf(next.Telegram), &out)
	diffPaths("passport.private_key_file", reflect.ValueOf(old.Passport.PrivateKeyFile), reflect.ValueOf(next.Passport.PrivateKeyFile), &out)
	diffPaths("passport.previous_private_key_files", reflect.ValueOf(old.Passport.PreviousPrivateKeyFiles), reflect.ValueOf(next.Passport.PreviousPrivateKeyFiles), &out)
	oldWeb, nextWeb := old.Web, next.Web
	oldWeb.Brand, nextWeb.Brand = config.Brand{}, config.Brand{} // web.brand reloads: the pages are built anew
	diffPaths("web", reflect.ValueOf(oldWeb), reflect.ValueOf(nextWeb), &out)
	diffPaths("redis", reflect.ValueOf(old.Redis), reflect.ValueOf(next.Redis), &out)
	for _, f := range []struct {
		path string
		a, b any
	}{
		{"delivery.webhook_url", old.Delivery.WebhookURL, next.Delivery.WebhookURL},
		{"delivery.webhook_secret", old.Delivery.WebhookSecret, next.Delivery.WebhookSecret},
		{"delivery.previous_webhook_secret", old.Delivery.PreviousWebhookSecret, next.Delivery.PreviousWebhookSecret},
		{"delivery.give_up_after", old.Delivery.GiveUpAfter, next.Delivery.GiveUpAfter},
		{"delivery.min_backoff", old.Delivery.MinBackoff, next.Delivery.MinBackoff},
		{"delivery.max_backoff", old.Delivery.MaxBackoff, next.Delivery.MaxBackoff},
		{"delivery.reclaim_after", old.Delivery.ReclaimAfter, next.Delivery.ReclaimAfter},
		{"delivery.file_link_ttl", old.Delivery.FileLinkTTL, next.Delivery.FileLinkTTL},
	} {
		diffPaths(f.path, reflect.ValueOf(f.a), reflect.ValueOf(f.b), &out)
	}
	diffPaths("retention", reflect.ValueOf(old.Retention), reflect.ValueOf(next.Retention), &out)
	return out
}

// diffPaths appends to out the YAML path of every leaf that differs
// between a and b (values of the same type), going into structs by their
// yaml tags.
func diffPaths(path string, a, b reflect.Value, out *[]string) {
	if a.Kind() != reflect.Struct {
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			*out = append(*out, path)
		}
		return
	}
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		diffPaths(path+"."+name, a.Field(i), b.Field(i), out)
	}
}
