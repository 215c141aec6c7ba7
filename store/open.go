package store

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis modes of Config.
const (
	ModeSingle   = "single"
	ModeSentinel = "sentinel"
	ModeCluster  = "cluster"
)

// Config says how to reach Redis.
type Config struct {
	// Mode is ModeSingle (default), ModeSentinel or ModeCluster.
	Mode string
	// Addrs are host:port addresses: the server (single), the sentinels
	// (sentinel) or seed nodes (cluster). Default 127.0.0.1:6379.
	Addrs []string
	// MasterName is the master the sentinels watch (sentinel mode only).
	MasterName string
	// Username and Password authenticate with Redis (ACL user; empty
	// Username for the default user). Password never appears in errors or
	// when a Config is printed.
	Username string
	Password string
	// DB is the database number (single and sentinel modes only).
	DB int
	// TLS, when not nil, turns TLS on.
	TLS *tls.Config
}

// String describes c without the password.
func (c Config) String() string {
	pw := ""
	if c.Password != "" {
		pw = "[redacted]"
	}
	return fmt.Sprintf("{Mode:%s Addrs:%v MasterName:%s Username:%s Password:%s DB:%d TLS:%t}",
		c.Mode, c.Addrs, c.MasterName, c.Username, pw, c.DB, c.TLS != nil)
}

// GoString is String, so that %#v hides the password too.
func (c Config) GoString() string { return "store.Config" + c.String() }

// Client settings Open uses, so that an operation fails fast with
// ErrUnavailable when Redis is down or hangs, instead of holding a
// submission for the go-redis defaults (5 s timeouts, 3 retries, 5 dial
// attempts): within DialTimeout or IOTimeout (half a second), at once when
// the connection is refused. The bot keeps the work and retries it later
// (nothing is lost), and the client reconnects by itself once Redis is
// back: there is no need to restart the process.
//
// go-redis's own retries are off: they also repeat a command whose
// answer was lost, which may have run. In sentinel and cluster modes
// Open's client retries, with backoff, for up to FailoverWait, only the
// commands that provably never ran (the connection was refused, or Redis
// answered READONLY, LOADING, MASTERDOWN, CLUSTERDOWN, TRYAGAIN or
// NOREPLICAS, or, in sentinel mode, the server the sentinel named is not
// the master: ErrNotMaster): what a failover looks like. A single server has no
// failover: it fails at once, and the bot retries the work.
// An ErrUnavailable from a write means it may or may not have happened;
// the caller decides what to retry. A client given to New should be set
// up the same way.
const (
	// DialTimeout bounds connecting to Redis (one attempt per connection).
	DialTimeout = 500 * time.Millisecond
	// IOTimeout bounds reading an answer and writing a command. The store
	// sends no blocking command, and its scripts are short.
	IOTimeout = 500 * time.Millisecond
	// PoolTimeout bounds waiting for a free connection of the pool.
	PoolTimeout = time.Second
)

// noRetries is go-redis's way of saying 0 retries (0 means 3).
const noRetries = -1

// Open connects to Redis as c says and checks the connection with a PING
// (within 5 seconds unless ctx has an earlier deadline). The error of an
// unreachable Redis says where it looked and what to do; it never holds
// the password.
func Open(ctx context.Context, c Config) (redis.UniversalClient, error) {
	addrs := c.Addrs
	if len(addrs) == 0 {
		addrs = []string{"127.0.0.1:6379"}
	}
	var client redis.UniversalClient
	switch c.Mode {
	case "", ModeSingle:
		if len(addrs) != 1 {
			return nil, fmt.Errorf("open redis: %w: single mode takes exactly one address in redis.addrs, got %d", ErrInvalid, len(addrs))
		}
		if c.MasterName != "" {
			return nil, fmt.Errorf("open redis: %w: redis.master_name is for sentinel mode only", ErrInvalid)
		}
		client = redis.NewClient(&redis.Options{
			Addr: addrs[0], Username: c.Username, Password: c.Password, DB: c.DB, TLSConfig: c.TLS,
			DialTimeout: DialTimeout, ReadTimeout: IOTimeout, WriteTimeout: IOTimeout,
			MaxRetries: noRetries, DialerRetries: 1, PoolTimeout: PoolTimeout,
		})
	case ModeSentinel:
		if c.MasterName == "" {
			return nil, fmt.Errorf("open redis: %w: sentinel mode needs redis.master_name", ErrInvalid)
		}
		client = redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: c.MasterName, SentinelAddrs: addrs,
			Username: c.Username, Password: c.Password, DB: c.DB, TLSConfig: c.TLS,
			DialTimeout: DialTimeout, ReadTimeout: IOTimeout, WriteTimeout: IOTimeout,
			MaxRetries: noRetries, DialerRetries: 1, PoolTimeout: PoolTimeout,
			OnConnect: masterOnly,
		})
	case ModeCluster:
		if c.DB != 0 {
			return nil, fmt.Errorf("open redis: %w: Redis Cluster has only database 0, redis.db is %d", ErrInvalid, c.DB)
		}
		if c.MasterName != "" {
			return nil, fmt.Errorf("open redis: %w: redis.master_name is for sentinel mode only", ErrInvalid)
		}
		client = redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: addrs, Username: c.Username, Password: c.Password, TLSConfig: c.TLS,
			DialTimeout: DialTimeout, ReadTimeout: IOTimeout, WriteTimeout: IOTimeout,
			MaxRetries: noRetries, DialerRetries: 1, PoolTimeout: PoolTimeout,
		})
	default:
		return nil, fmt.Errorf("open redis: %w: redis.mode must be single, sentinel or cluster", ErrInvalid)
	}
	if c.Mode == ModeSentinel || c.Mode == ModeCluster {
		client.AddHook(retryNotRun{wait: FailoverWait, now: time.Now})
	}

	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		_ = client.Close()
		where := strings.Join(addrs, ", ")
		err = redact(err, c.Password)
		if isAuthError(err) {
			return nil, fmt.Errorf("redis at %s refused the credentials: %w; fix redis.username and redis.password (or KYCBOT_REDIS_PASSWORD)", where, err)
		}
		if unreachable(err) {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return nil, fmt.Errorf("redis at %s is unreachable: %w; start redis-server or fix redis.addrs", where, err)
	}
	return client, nil
}

// ErrNotMaster is the error of a connection that reached a Redis server
// that is not the master (ROLE): in sentinel mode, a sentinel that has not
// yet learnt of a failover can still name the old master, which may be
// back as a replica of the new one, without data until it has synced
// (replica-serve-stale-data answers reads from what it has). Reads there
// would find nothing; writes would be refused. The connection is closed
// before any command runs on it, so the command is retried like one
// refused during a failover (it wraps ErrUnavailable when it surfaces).
var ErrNotMaster = errors.New("store: the Redis server the sentinel named is not the master (a failover is under way)")

// masterOnly is the OnConnect of sentinel mode's connections: it refuses a
// server whose ROLE is not master. go-redis runs it on its connections to
// the sentinels too, which answer ROLE sentinel (and are never named as a
// master).
func masterOnly(ctx context.Context, cn *redis.Conn) error {
	role, err := cn.Do(ctx, "ROLE").Slice()
	if err != nil {
		return fmt.Errorf("ROLE: %w", err)
	}
	if len(role) == 0 || role[0] != "master" && role[0] != "sentinel" {
		return ErrNotMaster // go-redis unwraps what OnConnect returns: no detail survives
	}
	return nil
}

func isAuthError(err error) bool {
	msg := err.Error()
	for _, s := range []string{"WRONGPASS", "NOAUTH", "NOPERM", "invalid password", "invalid username-password", "without any password configured"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// redact hides secret in err's text. The original stays reachable for
// errors.Is but not through Unwrap, whose text would show the secret.
func redact(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), secret, "[redacted]"), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string        { return e.msg }
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }
