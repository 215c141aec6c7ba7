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

// Nonce states kept in the nonce key of a user.
const (
	nonceLive       = "live"
	nonceUsed       = "used"
	nonceSuperseded = "superseded"
	nonceExpired    = "expired"
	nonceCancelled  = "cancelled"
)

// issueScript installs a new request for a user, superseding the current
// one. It is a compare-and-set on the current request's nonce hash, so that
// the old nonce key can be passed in KEYS (Redis Cluster wants every key
// declared): when another instance changed the request meanwhile it answers
// "retry".
//
// KEYS[1] request hash, KEYS[2] new nonce state, KEYS[3] index zset,
// KEYS[4] old nonce state (KEYS[2] when there is none).
// ARGV[1] expected current nonce hash ("" for none), ARGV[2] request TTL ms,
// ARGV[3] nonce state TTL ms, ARGV[4] now ms, ARGV[5] and ARGV[6] index
// members, ARGV[7...] request fields and values.
var issueScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'nh')
if not cur then cur = '' end
if cur ~= ARGV[1] then return 'retry' end
if not redis.call('SET', KEYS[2], 'live', 'PX', ARGV[3], 'NX') then return 'collision' end
if cur ~= '' and redis.call('GET', KEYS[4]) == 'live' then
  redis.call('SET', KEYS[4], 'superseded', 'KEEPTTL')
end
redis.call('DEL', KEYS[1])
local fields = {}
for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local now = tonumber(ARGV[4])
local keep = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
redis.call('ZADD', KEYS[3], now + keep, ARGV[5], now + keep, ARGV[6])
if redis.call('PTTL', KEYS[3]) < keep then redis.call('PEXPIRE', KEYS[3], keep) end
return 'ok'
`)

// consumeScript burns a nonce exactly once.
//
// KEYS[1] nonce state, KEYS[2] request hash. ARGV[1] nonce hash, ARGV[2]
// now ms, ARGV[3] the consumer's token ("" for none). Answers {"ok",
// request fields} or {state}. With a token, the used state keeps the
// token and the request (without the nonce) as JSON, so that the same
// consumer asking again gets the same answer.
var consumeScript = redis.NewScript(`
local st = redis.call('GET', KEYS[1])
if not st then return {'unknown'} end
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
if req['nh'] ~= ARGV[1] or tonumber(req['exp']) <= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], 'expired', 'KEEPTTL')
  if req['nh'] == ARGV[1] then redis.call('DEL', KEYS[2]) end
  return {'expired'}
end
if ARGV[3] ~= '' then
  local kept = {}
  for i = 1, #flat, 2 do
    if flat[i] ~= 'nonce' then kept[#kept + 1] = flat[i]; kept[#kept + 1] = flat[i + 1] end
  end
  redis.call('SET', KEYS[1], 'used|' .. ARGV[3] .. '|' .. cjson.encode(kept), 'KEEPTTL')
else
  redis.call('SET', KEYS[1], 'used', 'KEEPTTL')
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

// Requests is the view of verification requests and their nonces. It
// owns the user's live request (P{u:<uid>}:request), what became of each
// nonce issued to the user (P{u:<uid>}:nonce:<nh>), the index of both
// that DeleteUser reads (P{u:<uid>}:index), and the routing keys that
// lead from a nonce or a request ID to its user (P nidx:<nh>, P
// ridx:<requestID>). Get it from Store.Requests.
type Requests struct{ s *Store }

// Requests returns the view of verification requests and nonces.
func (s *Store) Requests() Requests { return Requests{s} }

// Issue issues a verification request valid for ttl: a fresh
// request ID and nonce bound to p.UserID. A user has at most one live
// request: issuing a new one supersedes the previous one, whose ID stops
// working for Get and whose nonce then fails with ErrNonceSuperseded.
func (rq Requests) Issue(ctx context.Context, p RequestParams, ttl time.Duration) (_ Request, err error) {
	defer markUnavailable(&err)
	s := rq.s
	if err := s.issueCheck(p, ttl); err != nil {
		return Request{}, fmt.Errorf("issue request: %w", err)
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

	reqKey := s.userKey(p.UserID, "request")
	newNonceKey := s.userKey(p.UserID, "nonce:"+nh)
	args := []any{
		"", ms(ttl), keep, now.UnixMilli(), "n:" + nh, "r:" + r.ID,
		"id", r.ID,
		"nonce", r.Nonce,
		"nh", nh,
		"uid", r.UserID,
		"chat", r.ChatID,
		"level", r.Level,
		"lang", r.Lang,
		"ref", r.Ref,
		"iat", r.IssuedAt.UnixMilli(),
		"exp", r.ExpiresAt.UnixMilli(),
	}
	installed := false
	for range 16 {
		cur, err := s.rdb.HGet(ctx, reqKey, "nh").Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return Request{}, fmt.Errorf("issue request for user %d: read current request: %w", p.UserID, err)
		}
		if cur == nh {
			// An earlier run of the script installed it and its answer
			// was lost (a client that retries commands).
			installed = true
			break
		}
		oldNonceKey := newNonceKey
		if cur != "" {
			oldNonceKey = s.userKey(p.UserID, "nonce:"+cur)
		}
		args[0] = cur
		res, err := issueScript.Run(ctx, s.rdb, []string{reqKey, newNonceKey, s.userKey(p.UserID, "index"), oldNonceKey}, args...).Text()
		if err != nil {
			return Request{}, fmt.Errorf("issue request for user %d: %w", p.UserID, err)
		}
		switch res {
		case "ok":
			installed = true
		case "retry":
			continue
		default:
			return Request{}, fmt.Errorf("issue request for user %d: the random source repeated a nonce", p.UserID)
		}
		break
	}
	if !installed {
		return Request{}, fmt.Errorf("issue request for user %d: %w", p.UserID, ErrContention)
	}

	// Route the nonce and the request ID to the user's slot. These keys
	// are written once and never change, so that reading them and then
	// running a script in the user's slot is race free.
	uid := strconv.FormatInt(p.UserID, 10)
	var nonceSet, idSet *redis.BoolCmd
	if _, err := s.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		nonceSet = pipe.SetNX(ctx, s.key("nidx:"+nh), uid, time.Duration(keep)*time.Millisecond)
		idSet = pipe.SetNX(ctx, s.key("ridx:"+r.ID), uid, time.Duration(keep)*time.Millisecond)
		return nil
	}); err != nil {
		return Request{}, fmt.Errorf("issue request for user %d: index: %w", p.UserID, err)
	}
	if !nonceSet.Val() || !idSet.Val() {
		return Request{}, fmt.Errorf("issue request for user %d: the random source repeated a request ID or nonce", p.UserID)
	}
	return r, nil
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
// ErrNonceCancelled.
// Errors name the nonce only by the first 12 hex digits of its SHA-256.
// With ByMessage, the same message consuming the same nonce again gets the
// same request back (see ByMessage).
func (rq Requests) Consume(ctx context.Context, nonce string, userID int64, opts ...ConsumeOption) (_ Request, err error) {
	defer markUnavailable(&err)
	s := rq.s
	if s.optErr != nil {
		return Request{}, s.optErr
	}
	nh := hashHex(nonce)
	where := fmt.Sprintf("consume nonce %s for user %d", nh[:12], userID)
	if !nonceRE.MatchString(nonce) {
		return Request{}, fmt.Errorf("%s: malformed nonce: %w", where, ErrNonceUnknown)
	}
	ownerText, err := s.rdb.Get(ctx, s.key("nidx:"+nh)).Result()
	if errors.Is(err, redis.Nil) {
		return Request{}, fmt.Errorf("%s: %w", where, ErrNonceUnknown)
	}
	if err != nil {
		return Request{}, fmt.Errorf("%s: %w", where, err)
	}
	if ownerText != strconv.FormatInt(userID, 10) {
		return Request{}, fmt.Errorf("%s: %w", where, ErrNonceOtherUser)
	}
	var o consumeOptions
	for _, opt := range opts {
		opt(&o)
	}
	res, err := consumeScript.Run(ctx, s.rdb,
		[]string{s.userKey(userID, "nonce:"+nh), s.userKey(userID, "request")},
		nh, s.clock().UnixMilli(), o.token,
	).Slice()
	if err != nil {
		return Request{}, fmt.Errorf("%s: %w", where, err)
	}
	state, _ := res[0].(string)
	switch state {
	case "ok":
	case "unknown":
		return Request{}, fmt.Errorf("%s: %w", where, ErrNonceUnknown)
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
	flat, _ := res[1].([]any)
	fields := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		k, _ := flat[i].(string)
		v, _ := flat[i+1].(string)
		fields[k] = v
	}
	fields["nonce"] = nonce // a repeated consume does not keep the nonce in Redis
	r, err := parseRequest(fields)
	if err != nil {
		return Request{}, fmt.Errorf("%s: %w", where, err)
	}
	return r, nil
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
