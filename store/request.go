package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// RequestParams describe a verification request to issue.
type RequestParams struct {
	// UserID is the Telegram user the request is bound to.
	UserID int64
	// ChatID is the chat to answer in.
	ChatID int64
	// Level is the verification level (config level name).
	Level string
	// Lang is the user's language tag, such as "en" or "pt-BR"; optional.
	Lang string
	// Ref is the business's own reference for the user, from
	// "/start <ref>": at most 64 characters of A-Z a-z 0-9 _ - (the deep
	// link payload alphabet); optional. Not personal data by contract.
	Ref string
}

// Request is an issued verification request.
type Request struct {
	// ID identifies the request in the request page URL: 16 random bytes
	// in unpadded base64url (22 characters).
	ID string
	// Nonce goes into the Passport deep link and comes back inside the
	// encrypted credentials: 32 random bytes in unpadded base64url (43
	// characters). Redis keys only ever name its SHA-256.
	Nonce string
	// UserID, ChatID, Level, Lang and Ref are those of RequestParams.
	UserID int64
	ChatID int64
	Level  string
	Lang   string
	Ref    string
	// IssuedAt and ExpiresAt come from the store's clock (millisecond
	// precision, UTC).
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// NonceHash returns the hex SHA-256 of the request's nonce: what logs and
// Redis key names show instead of the nonce.
func (r Request) NonceHash() string { return hashHex(r.Nonce) }

// Nonce states kept in the nonces hash of a user.
const (
	nonceLive       = "live"
	nonceUsed       = "used"
	nonceSuperseded = "superseded"
	nonceExpired    = "expired"
	nonceCancelled  = "cancelled"
)

// luaNonce reads a field of the nonces hash, "<until>|<state>": until is
// when the store's clock forgets the nonce (unix ms: the request's expiry
// plus NonceTombstoneTTL; Redis 7.0 has no TTL per field), state what
// became of it. nonce(v) answers until (a number), the state, and the
// "<until>|" head to write a new state with.
const luaNonce = `
local function nonce(v)
  local sep = string.find(v, '|', 1, true)
  return tonumber(string.sub(v, 1, sep - 1)), string.sub(v, sep + 1), string.sub(v, 1, sep)
end
`

// issueScript installs a new request for a user, superseding the current
// one, or with a source answers the live request issued for that source.
// Every nonce state of the user is a field of one hash, so the script
// touches fixed keys only (Redis Cluster wants every key declared) and
// needs no read before it. It also forgets the nonces whose time is over.
//
// KEYS[1] request hash, KEYS[2] nonces hash, KEYS[3] index zset. ARGV[1]
// now ms, ARGV[2] request TTL ms, ARGV[3] keep ms (request TTL plus
// NonceTombstoneTTL), ARGV[4] the new nonce hash, ARGV[5] the new nonce
// field ("<until>|live"), ARGV[6] the hash of the source ("" for none),
// ARGV[7] and ARGV[8] index members, ARGV[9...] request fields and
// values. Answers {"ok"}, {"same", fields of the live request} or
// {"collision"} (the nonce was issued to the user before).
var issueScript = redis.NewScript(luaNonce + `
local now, keep = tonumber(ARGV[1]), tonumber(ARGV[3])
local cur = redis.call('HMGET', KEYS[1], 'nh', 'exp', 'src')
if cur[1] == ARGV[4] then return {'ok'} end
if ARGV[6] ~= '' and cur[3] == ARGV[6] and tonumber(cur[2]) > now then
  return {'same', redis.call('HGETALL', KEYS[1])}
end
local all = redis.call('HGETALL', KEYS[2])
local gone = {}
for i = 1, #all, 2 do
  if nonce(all[i + 1]) <= now then gone[#gone + 1] = all[i] end
end
if #gone > 0 then redis.call('HDEL', KEYS[2], unpack(gone)) end
if redis.call('HEXISTS', KEYS[2], ARGV[4]) == 1 then return {'collision'} end
if cur[1] then
  local old = redis.call('HGET', KEYS[2], cur[1])
  if old then
    local _, st, head = nonce(old)
    if st == 'live' then redis.call('HSET', KEYS[2], cur[1], head .. 'superseded') end
  end
end
redis.call('DEL', KEYS[1])
local fields = {}
for i = 9, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
if redis.call('PTTL', KEYS[2]) < keep then redis.call('PEXPIRE', KEYS[2], keep) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
redis.call('ZADD', KEYS[3], now + keep, ARGV[7], now + keep, ARGV[8])
if redis.call('PTTL', KEYS[3]) < keep then redis.call('PEXPIRE', KEYS[3], keep) end
return {'ok'}
`)

// consumeScript burns a nonce exactly once.
//
// KEYS[1] nonces hash, KEYS[2] request hash, KEYS[3] the nonce's key of
// the layout before the nonces hash (a string holding the state, with a
// TTL), moved into the hash when found. ARGV[1] nonce hash, ARGV[2] now
// ms, ARGV[3] the consumer's token ("" for none). Answers {"ok", request
// fields} or {state}, "unknown" when the user has no such nonce. With a
// token, the used state keeps the token and the request (without the
// nonce) as JSON, so that the same consumer asking again gets the same
// answer.
var consumeScript = redis.NewScript(luaNonce + `
local now = tonumber(ARGV[2])
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then
  local legacy = redis.call('GET', KEYS[3])
  if not legacy then return {'unknown'} end
  local ttl = redis.call('PTTL', KEYS[3])
  v = string.format('%d', now + math.max(ttl, 0)) .. '|' .. legacy
  redis.call('HSET', KEYS[1], ARGV[1], v)
  if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
  redis.call('DEL', KEYS[3])
end
local untilMs, st, head = nonce(v)
if untilMs <= now then return {'unknown'} end
if string.sub(st, 1, 5) == 'used|' then
  local sep = string.find(st, '|', 6, true)
  if ARGV[3] ~= '' and sep and string.sub(st, 6, sep - 1) == ARGV[3] then
    return {'ok', cjson.decode(string.sub(st, sep + 1))}
  end
  return {'used'}
end
if st ~= 'live' then return {st} end
local flat = redis.call('HGETALL', KEYS[2])
local req = {}
for i = 1, #flat, 2 do req[flat[i]] = flat[i + 1] end
if req['nh'] ~= ARGV[1] or tonumber(req['exp']) <= now then
  redis.call('HSET', KEYS[1], ARGV[1], head .. 'expired')
  if req['nh'] == ARGV[1] then redis.call('DEL', KEYS[2]) end
  return {'expired'}
end
if ARGV[3] ~= '' then
  local kept = {}
  for i = 1, #flat, 2 do
    if flat[i] ~= 'nonce' then kept[#kept + 1] = flat[i]; kept[#kept + 1] = flat[i + 1] end
  end
  redis.call('HSET', KEYS[1], ARGV[1], head .. 'used|' .. ARGV[3] .. '|' .. cjson.encode(kept))
else
  redis.call('HSET', KEYS[1], ARGV[1], head .. 'used')
end
redis.call('DEL', KEYS[2])
return {'ok', flat}
`)

// ConsumeOption configures Requests.Consume.
type ConsumeOption func(*consumeOptions)

type consumeOptions struct {
	token string
}

// ByMessage makes a consume repeatable by the update that carried the
// submission: the same user consuming the same nonce again for the same
// message ID gets the same request back instead of ErrNonceUsed, so a
// submission whose processing failed after the consume (a lost reply, a
// failed download, a stopped process) can be retried by redelivering its
// update. Any other message still gets ErrNonceUsed.
func ByMessage(msgID int) ConsumeOption {
	return func(o *consumeOptions) { o.token = "m" + strconv.Itoa(msgID) }
}

// IssueOption configures Requests.Issue.
type IssueOption func(*issueOptions)

type issueOptions struct {
	src    string
	hasSrc bool
}

// IssuedFor makes an issue idempotent by its source: when the user's
// live request was issued for the same src, Issue returns that request
// (whatever the params now) instead of superseding it with a new one.
// Give it the ID of the work that issues, such as the queue entry being
// processed, so that the same work done twice (a worker that died after
// issuing, its entry taken over by another) gives the user the request
// they may already have a button for, not a second one that voids it.
// src is an opaque code of 1 to 128 characters of A-Z a-z 0-9 _ . : -;
// Redis only sees its SHA-256. A request that was used, cancelled,
// superseded or has expired is not live: Issue then issues a new one.
func IssuedFor(src string) IssueOption {
	return func(o *issueOptions) { o.src, o.hasSrc = src, true }
}

// Requests is the view of verification requests and their nonces. It
// owns the user's live request (P{u:<uid>}:request), what became of each
// nonce issued to the user (P{u:<uid>}:nonces), the index of both that
// DeleteUser reads (P{u:<uid>}:index), and the routing keys that lead
// from a nonce or a request ID to its user (P nidx:<nh>, P
// ridx:<requestID>). Get it from Store.Requests.
type Requests struct{ s *Store }

// Requests returns the view of verification requests and nonces.
func (s *Store) Requests() Requests { return Requests{s} }

// Issue issues a verification request valid for ttl: a fresh
// request ID and nonce bound to p.UserID. A user has at most one live
// request: issuing a new one supersedes the previous one, whose ID stops
// working for Get and whose nonce then fails with ErrNonceSuperseded.
// With IssuedFor, the live request issued for the same source is
// returned instead (see IssuedFor). It takes two round trips to Redis
// (three when IssuedFor answers the live request); with WithReplicas each
// waits for the replicas before the next. The first writes the routing
// keys, so that a request that is live can always be found by its ID.
func (rq Requests) Issue(ctx context.Context, p RequestParams, ttl time.Duration, opts ...IssueOption) (_ Request, err error) {
	defer markUnavailable(&err)
	s := rq.s
	if err := s.issueCheck(p, ttl); err != nil {
		return Request{}, fmt.Errorf("issue request: %w", err)
	}
	var o issueOptions
	for _, opt := range opts {
		opt(&o)
	}
	srcHash := ""
	if o.hasSrc {
		if !codeRE.MatchString(o.src) {
			return Request{}, fmt.Errorf("issue request: %w: the source must be 1 to 128 characters of A-Z a-z 0-9 _ . : -", ErrInvalid)
		}
		srcHash = hashHex(o.src)
	}
	idRaw, err := s.randomBytes(16)
	if err != nil {
		return Request{}, fmt.Errorf("issue request: %w", err)
	}
	nonceRaw, err := s.randomBytes(32)
	if err != nil {
		return Request{}, fmt.Errorf("issue request: %w", err)
	}
	now := s.clock()
	r := Request{
		ID:        base64.RawURLEncoding.EncodeToString(idRaw),
		Nonce:     base64.RawURLEncoding.EncodeToString(nonceRaw),
		UserID:    p.UserID,
		ChatID:    p.ChatID,
		Level:     p.Level,
		Lang:      p.Lang,
		Ref:       p.Ref,
		IssuedAt:  now,
		ExpiresAt: time.UnixMilli(now.UnixMilli() + ms(ttl)).UTC(),
	}
	nh := r.NonceHash()
	keep := ms(ttl) + ms(NonceTombstoneTTL)
	uid := strconv.FormatInt(p.UserID, 10)

	// Route the nonce and the request ID to the user's slot first, and
	// only then install the request: a request the user can be shown (the
	// live one, which the bot reminds) always has its routing keys, even
	// when Redis fails over between the two steps and the caller gives up.
	// The keys are written once and never change, so that reading them and
	// then running a script in the user's slot is race free; routing keys
	// whose request never got installed name a request ID and nonce that
	// were never shown and expire with keep.
	if err := s.route(ctx, p.UserID, nh, r.ID, keep); err != nil {
		return Request{}, fmt.Errorf("issue request for user %d: index: %w", p.UserID, err)
	}
	res, err := s.runDurable(ctx, issueScript,
		[]string{s.userKey(p.UserID, "request"), s.userKey(p.UserID, "nonces"), s.userKey(p.UserID, "index")},
		now.UnixMilli(), ms(ttl), keep, nh, strconv.FormatInt(now.UnixMilli()+keep, 10)+"|"+nonceLive, srcHash,
		"n:"+nh, "r:"+r.ID,
		"id", r.ID,
		"nonce", r.Nonce,
		"nh", nh,
		"uid", uid,
		"chat", r.ChatID,
		"level", r.Level,
		"lang", r.Lang,
		"ref", r.Ref,
		"iat", r.IssuedAt.UnixMilli(),
		"exp", r.ExpiresAt.UnixMilli(),
		"src", srcHash,
	).Slice()
	if err != nil {
		return Request{}, fmt.Errorf("issue request for user %d: %w", p.UserID, err)
	}
	answer, _ := res[0].(string)
	switch answer {
	case "ok":
		return r, nil
	case "same":
		if r, err = parseRequest(flatToMap(res[1])); err != nil {
			return Request{}, fmt.Errorf("issue request for user %d: %w", p.UserID, err)
		}
		// The routing keys of the live request, in case it was installed
		// by a version of kycbot that wrote them after the request and
		// stopped in between.
		keep = r.ExpiresAt.UnixMilli() - now.UnixMilli() + ms(NonceTombstoneTTL)
		if err := s.route(ctx, p.UserID, r.NonceHash(), r.ID, keep); err != nil {
			return Request{}, fmt.Errorf("issue request for user %d: index: %w", p.UserID, err)
		}
		return r, nil
	case "collision":
		return Request{}, fmt.Errorf("issue request for user %d: the random source repeated a nonce", p.UserID)
	default:
		return Request{}, fmt.Errorf("issue request for user %d: unexpected script answer %q", p.UserID, answer)
	}
}

// route writes the routing keys of a request (nonce hash nh and request
// ID id to userID), kept for keep ms, unless they are there already. One
// that names another user means the random source repeated.
func (s *Store) route(ctx context.Context, userID int64, nh, id string, keep int64) error {
	uid := strconv.FormatInt(userID, 10)
	var nonceRoute, idRoute *redis.Cmd
	if err := s.durable(ctx, func(pipe redis.Pipeliner) {
		nonceRoute = pipe.Do(ctx, "set", s.key("nidx:"+nh), uid, "px", keep, "nx", "get")
		idRoute = pipe.Do(ctx, "set", s.key("ridx:"+id), uid, "px", keep, "nx", "get")
	}); err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	for _, c := range []*redis.Cmd{nonceRoute, idRoute} {
		if c.Err() == nil && c.Val() != uid {
			return errors.New("the random source repeated a request ID or nonce")
		}
	}
	return nil
}

func (s *Store) issueCheck(p RequestParams, ttl time.Duration) error {
	if s.optErr != nil {
		return s.optErr
	}
	if err := checkUser(p.UserID); err != nil {
		return err
	}
	if err := checkLevel(p.Level); err != nil {
		return err
	}
	if err := checkLang(p.Lang); err != nil {
		return err
	}
	if err := checkRef(p.Ref); err != nil {
		return err
	}
	return checkTTL(ttl)
}

// Get returns the live request with the given ID, for the request
// page. It answers ErrNotFound when the ID is unknown, expired, superseded
// by a newer request, or already used.
func (rq Requests) Get(ctx context.Context, id string) (_ Request, err error) {
	defer markUnavailable(&err)
	s := rq.s
	if s.optErr != nil {
		return Request{}, s.optErr
	}
	if !idRE.MatchString(id) {
		return Request{}, fmt.Errorf("request: malformed ID: %w", ErrNotFound)
	}
	uidText, err := s.rdb.Get(ctx, s.key("ridx:"+id)).Result()
	if errors.Is(err, redis.Nil) {
		return Request{}, fmt.Errorf("request %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Request{}, fmt.Errorf("request %s: %w", id, err)
	}
	uid, err := strconv.ParseInt(uidText, 10, 64)
	if err != nil {
		return Request{}, fmt.Errorf("request %s: corrupt index: %w", id, err)
	}
	fields, err := s.rdb.HGetAll(ctx, s.userKey(uid, "request")).Result()
	if err != nil {
		return Request{}, fmt.Errorf("request %s: %w", id, err)
	}
	if fields["id"] != id {
		return Request{}, fmt.Errorf("request %s: superseded, used or expired: %w", id, ErrNotFound)
	}
	r, err := parseRequest(fields)
	if err != nil {
		return Request{}, fmt.Errorf("request %s: %w", id, err)
	}
	if !s.clock().Before(r.ExpiresAt) {
		return Request{}, fmt.Errorf("request %s: expired: %w", id, ErrNotFound)
	}
	return r, nil
}

// Consume burns nonce for userID exactly once, even across instances
// racing on the same submission, and returns the request it was issued
// with. Errors: ErrNonceUnknown, ErrNonceOtherUser (the nonce stays
// usable by its user), ErrNonceExpired, ErrNonceUsed, ErrNonceSuperseded,
// ErrNonceCancelled; ErrInvalid for a userID that is not a Telegram
// user ID.
// Errors name the nonce only by the first 12 hex digits of its SHA-256.
// With ByMessage, the same message consuming the same nonce again gets the
// same request back (see ByMessage). It takes one round trip to Redis,
// and one more to tell ErrNonceOtherUser from ErrNonceUnknown when the
// user has no such nonce. With WithReplicas it returns once the replicas
// have the burn.
func (rq Requests) Consume(ctx context.Context, nonce string, userID int64, opts ...ConsumeOption) (_ Request, err error) {
	defer markUnavailable(&err)
	s := rq.s
	if s.optErr != nil {
		return Request{}, s.optErr
	}
	nh := hashHex(nonce)
	where := fmt.Sprintf("consume nonce %s for user %d", nh[:12], userID)
	if err := checkUser(userID); err != nil {
		return Request{}, fmt.Errorf("%s: %w", where, err)
	}
	if !nonceRE.MatchString(nonce) {
		return Request{}, fmt.Errorf("%s: malformed nonce: %w", where, ErrNonceUnknown)
	}
	var o consumeOptions
	for _, opt := range opts {
		opt(&o)
	}
	res, err := s.runDurable(ctx, consumeScript,
		[]string{s.userKey(userID, "nonces"), s.userKey(userID, "request"), s.userKey(userID, "nonce:"+nh)},
		nh, s.clock().UnixMilli(), o.token,
	).Slice()
	if err != nil {
		return Request{}, fmt.Errorf("%s: %w", where, err)
	}
	state, _ := res[0].(string)
	switch state {
	case "ok":
	case "unknown":
		return Request{}, fmt.Errorf("%s: %w", where, s.unknownNonce(ctx, nh, userID))
	case nonceUsed:
		return Request{}, fmt.Errorf("%s: %w", where, ErrNonceUsed)
	case nonceSuperseded:
		return Request{}, fmt.Errorf("%s: %w", where, ErrNonceSuperseded)
	case nonceExpired:
		return Request{}, fmt.Errorf("%s: %w", where, ErrNonceExpired)
	case nonceCancelled:
		return Request{}, fmt.Errorf("%s: %w", where, ErrNonceCancelled)
	default:
		return Request{}, fmt.Errorf("%s: unexpected script answer %q", where, state)
	}
	fields := flatToMap(res[1])
	fields["nonce"] = nonce // a repeated consume does not keep the nonce in Redis
	r, err := parseRequest(fields)
	if err != nil {
		return Request{}, fmt.Errorf("%s: %w", where, err)
	}
	return r, nil
}

// unknownNonce tells why the user userID has no nonce of hash nh: it was
// issued to another user (ErrNonceOtherUser, as its routing key says),
// or never, or long ago (ErrNonceUnknown). The routing key is only read
// on this refusal path.
func (s *Store) unknownNonce(ctx context.Context, nh string, userID int64) error {
	owner, err := s.rdb.Get(ctx, s.key("nidx:"+nh)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return ErrNonceUnknown
	case err != nil:
		return err
	case owner != strconv.FormatInt(userID, 10):
		return ErrNonceOtherUser
	}
	return ErrNonceUnknown
}

func parseRequest(f map[string]string) (Request, error) {
	var (
		r    Request
		errs []error
	)
	num := func(name string) int64 {
		v, err := strconv.ParseInt(f[name], 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("field %s: %w", name, err))
		}
		return v
	}
	r.ID = f["id"]
	r.Nonce = f["nonce"]
	r.UserID = num("uid")
	r.ChatID = num("chat")
	r.Level = f["level"]
	r.Lang = f["lang"]
	r.Ref = f["ref"]
	r.IssuedAt = time.UnixMilli(num("iat")).UTC()
	r.ExpiresAt = time.UnixMilli(num("exp")).UTC()
	if len(errs) > 0 {
		return Request{}, fmt.Errorf("corrupt request record: %w", errors.Join(errs...))
	}
	return r, nil
}
