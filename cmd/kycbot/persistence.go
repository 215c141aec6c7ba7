package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kycbot/kycbot/bot"
	"github.com/kycbot/kycbot/config"
)

// persistence is what a Redis server says of its persistence (CONFIG GET
// save and appendonly).
type persistence struct {
	save       string // RDB snapshot rules; "" when off
	appendonly string // "yes" when AOF is on
}

// durable reports whether the server writes its data to disk (AOF or
// RDB snapshots).
func (p persistence) durable() bool { return p.appendonly == "yes" || strings.TrimSpace(p.save) != "" }

// checkPersistence asks the Redis of r (every master of a cluster)
// whether it keeps its data on disk. It returns what to say, "" when
// every server persists, and whether it could ask at all (checked false:
// Redis did not answer, or refused CONFIG GET).
func checkPersistence(ctx context.Context, r config.Redis) (warning string, checked bool) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	rdb, err := bot.OpenRedis(ctx, r)
	if err != nil {
		return fmt.Sprintf("could not ask Redis whether it keeps its data on disk (%s)", oneLine(err.Error())), false
	}
	defer func() { _ = rdb.Close() }()
	var ps []persistence
	get := func(ctx context.Context, c redis.Cmdable) error {
		m, err := c.ConfigGet(ctx, "save").Result()
		if err != nil {
			return err
		}
		a, err := c.ConfigGet(ctx, "appendonly").Result()
		if err != nil {
			return err
		}
		ps = append(ps, persistence{save: m["save"], appendonly: a["appendonly"]})
		return nil
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		var mu sync.Mutex // ForEachMaster calls at once
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return get(ctx, c)
		})
	} else {
		err = get(ctx, rdb)
	}
	return describePersistence(ps, err)
}

const persistenceAdvice = "the users' statuses, the requests in flight, the queue and the audit trail live there, and a restart without persistence loses them " +
	"(turn on appendonly yes, or RDB snapshots with save; docs/getting-started.md)"

// describePersistence turns what the servers said into a warning ("" when
// each persists); checked is false when CONFIG GET failed (managed Redis
// often disables it).
func describePersistence(ps []persistence, err error) (warning string, checked bool) {
	if err != nil {
		why := oneLine(err.Error())
		if strings.Contains(strings.ToLower(why), "unknown command") || strings.Contains(why, "NOPERM") {
			why = "the server refuses CONFIG GET, as managed Redis services often do"
		}
		var rerr redis.Error
		if !errors.As(err, &rerr) && !strings.Contains(why, "CONFIG") {
			why = "CONFIG GET failed: " + why
		}
		return "could not ask Redis whether it keeps its data on disk (" + why + "); make sure it does: " + persistenceAdvice, false
	}
	for _, p := range ps {
		if !p.durable() {
			return "Redis keeps its data in memory only (appendonly no, save \"\"): " + persistenceAdvice, true
		}
	}
	return "", true
}
