package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
	"github.com/redis/go-redis/v9"
)

// The journal of submissions in progress: an instance processing a
// Passport submission holds an entry for it (HoldSubmission) under a
// lease that it renews while it works (RenewSubmission), and releases it
// once the processing ended in a final way (ReleaseSubmission). When the
// instance is cut short it leaves the entry (LeaveSubmission: the lease
// expires at once); when it dies the lease runs out. Any instance then
// takes the entry over (ClaimSubmissions) and processes the submission
// again, so that nothing depends on one process's memory.
//
// Every key is in the {journal} slot. An entry's name is a keyed hash of
// the user and message IDs (never the IDs themselves), and its content
// (the user and message IDs, the owner of the dedupe mark, the update and
// the user's entity) is sealed with AES-256-GCM under the WithJournalKey
// key.

// JournalEntry is a submission in progress, as the journal keeps it.
type JournalEntry struct {
	// UserID and MsgID name the submission (its message).
	UserID int64
	MsgID  int
	// Owner is the update ID of the delivery that holds the submission's
	// dedupe mark (MarkedBy): the processing taken over resumes under it.
	// 1 to 128 characters of A-Z a-z 0-9 _ . : -.
	Owner string
	// Update is the submission's update. Required.
	Update *tg.UpdateNewMessage
	// User is the user's entity from the update (access hash, language);
	// may be nil.
	User *tg.User
}

// JournalLease is the hold of one instance on a journal entry, which
// RenewSubmission, ReleaseSubmission and LeaveSubmission need. The zero
// value holds nothing.
type JournalLease struct {
	entry  string // the entry's ID
	holder string // random, one per hold or claim
	user   int64  // the user's ID, for the user's entry set
}

// Held reports whether l is a lease (not the zero value).
func (l JournalLease) Held() bool { return l.entry != "" }

// ClaimedSubmission is a journal entry ClaimSubmissions took over.
type ClaimedSubmission struct {
	JournalEntry
	// Lease is the claimer's, until the lease given to ClaimSubmissions
	// runs out.
	Lease JournalLease
}

// holdScript writes an entry and its lease, whoever held it before.
//
// KEYS[1] entry hash, KEYS[2] lease zset, KEYS[3] user's entry set.
// ARGV[1] entry ID, ARGV[2] sealed entry, ARGV[3] holder, ARGV[4] lease
// end (unix ms), ARGV[5] keep ms.
var holdScript = redis.NewScript(`
local keep = tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'd', ARGV[2], 'h', ARGV[3])
redis.call('PEXPIRE', KEYS[1], keep)
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
for i = 2, 3 do
  if redis.call('PTTL', KEYS[i]) < keep then redis.call('PEXPIRE', KEYS[i], keep) end
end
return 1
`)

// leaseScript moves the lease end of an entry its holder still holds.
//
// KEYS[1] entry hash, KEYS[2] lease zset. ARGV[1] entry ID, ARGV[2]
// holder, ARGV[3] lease end (unix ms). Answers 1, or 0 when not held.
var leaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'h') ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
`)

// releaseScript removes an entry its holder still holds.
//
// KEYS[1] entry hash, KEYS[2] lease zset, KEYS[3] user's entry set.
// ARGV[1] entry ID, ARGV[2] holder. Answers 1, or 0 when not held.
var releaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'h') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
return 1
`)

// claimScript takes over an entry whose lease ended: it gets a new holder
// and lease end. An entry that expired meanwhile leaves the lease zset.
//
// KEYS[1] entry hash, KEYS[2] lease zset. ARGV[1] entry ID, ARGV[2] now
// (unix ms), ARGV[3] new holder, ARGV[4] new lease end (unix ms). Answers
// the sealed entry, or false when it is not to be taken.
var claimScript = redis.NewScript(`
local until_ = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not until_ or tonumber(until_) > tonumber(ARGV[2]) then return false end
local d = redis.call('HGET', KEYS[1], 'd')
if not d then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return false
end
redis.call('HSET', KEYS[1], 'h', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return d
`)

// journalAAD binds a sealed entry to its ID.
func journalAAD(entry string) []byte { return []byte("kycbot journal v1\x00" + entry) }

// journalEntryID names the entry of a submission: a keyed hash of the
// user and message IDs.
func (s *Store) journalEntryID(userID int64, msgID int) string {
	m := hmac.New(sha256.New, s.journalID)
	m.Write([]byte(strconv.FormatInt(userID, 10) + ":" + strconv.Itoa(msgID)))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func (s *Store) journalEntryKey(entry string) string { return s.journalKey("e:" + entry) }
func (s *Store) journalUserKey(userID int64) string {
	return s.journalKey("u:" + strconv.FormatInt(userID, 10))
}

// journalReady reports why the journal cannot be used, if it cannot.
func (s *Store) journalReady(what string) error {
	if s.optErr != nil {
		return s.optErr
	}
	if s.journal == nil {
		return fmt.Errorf("%s: %w", what, s.journalErr)
	}
	return nil
}

// HoldSubmission records that this instance processes the submission e,
// under a lease that ends lease from now (the store's clock), and returns
// the lease. The entry replaces any other of the same message (its holder
// then no longer holds it): hold only a submission whose dedupe mark the
// caller owns. The entry expires on its own keep from now, held or not.
func (s *Store) HoldSubmission(ctx context.Context, e JournalEntry, lease, keep time.Duration) (_ JournalLease, err error) {
	defer markUnavailable(&err)
	if err := s.journalReady("hold submission"); err != nil {
		return JournalLease{}, err
	}
	if err := checkUser(e.UserID); err != nil {
		return JournalLease{}, fmt.Errorf("hold submission: %w", err)
	}
	if e.Update == nil || !codeRE.MatchString(e.Owner) {
		return JournalLease{}, fmt.Errorf("hold submission: %w: an entry needs the update and its owner (1 to 128 characters of A-Z a-z 0-9 _ . : -)", ErrInvalid)
	}
	if lease < time.Millisecond || keep < lease {
		return JournalLease{}, fmt.Errorf("hold submission: %w: lease %v must be at least 1ms and keep %v at least the lease", ErrInvalid, lease, keep)
	}
	var b bin.Buffer
	b.PutLong(e.UserID)
	b.PutInt(e.MsgID)
	b.PutString(e.Owner)
	if err := e.Update.Encode(&b); err != nil {
		return JournalLease{}, fmt.Errorf("hold submission: %w: encode the update: %w", ErrInvalid, err)
	}
	b.PutBool(e.User != nil)
	if e.User != nil {
		if err := e.User.Encode(&b); err != nil {
			return JournalLease{}, fmt.Errorf("hold submission: %w: encode the user: %w", ErrInvalid, err)
		}
	}
	l := JournalLease{entry: s.journalEntryID(e.UserID, e.MsgID), user: e.UserID}
	sealed, err := s.seal(s.journal, b.Buf, journalAAD(l.entry))
	if err != nil {
		return JournalLease{}, fmt.Errorf("hold submission: %w", err)
	}
	if l.holder, err = s.newHolder(); err != nil {
		return JournalLease{}, fmt.Errorf("hold submission: %w", err)
	}
	err = holdScript.Run(ctx, s.rdb,
		[]string{s.journalEntryKey(l.entry), s.journalKey("lease"), s.journalUserKey(e.UserID)},
		l.entry, sealed, l.holder, s.clock().Add(lease).UnixMilli(), ms(keep)).Err()
	if err != nil {
		return JournalLease{}, fmt.Errorf("hold submission %d of user %d: %w", e.MsgID, e.UserID, err)
	}
	return l, nil
}

// newHolder returns a random holder ID.
func (s *Store) newHolder() (string, error) {
	b, err := s.randomBytes(12)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// RenewSubmission moves the end of the lease l to lease from now. It
// answers ErrNotFound when l no longer holds its entry (released, expired,
// or taken over by another instance after the lease ran out).
func (s *Store) RenewSubmission(ctx context.Context, l JournalLease, lease time.Duration) (err error) {
	defer markUnavailable(&err)
	if err := s.journalReady("renew submission"); err != nil {
		return err
	}
	if !l.Held() || lease < time.Millisecond {
		return fmt.Errorf("renew submission: %w: needs a lease and a duration of at least 1ms", ErrInvalid)
	}
	return s.moveLease(ctx, "renew submission", l, s.clock().Add(lease))
}

// LeaveSubmission ends the lease l now, keeping the entry: the next
// ClaimSubmissions of any instance takes it over. For a processing cut
// short. It answers ErrNotFound when l no longer holds its entry.
func (s *Store) LeaveSubmission(ctx context.Context, l JournalLease) (err error) {
	defer markUnavailable(&err)
	if err := s.journalReady("leave submission"); err != nil {
		return err
	}
	if !l.Held() {
		return fmt.Errorf("leave submission: %w: no lease", ErrInvalid)
	}
	return s.moveLease(ctx, "leave submission", l, s.clock())
}

func (s *Store) moveLease(ctx context.Context, what string, l JournalLease, until time.Time) error {
	n, err := leaseScript.Run(ctx, s.rdb, []string{s.journalEntryKey(l.entry), s.journalKey("lease")},
		l.entry, l.holder, until.UnixMilli()).Int()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: not held any more: %w", what, ErrNotFound)
	}
	return nil
}

// ReleaseSubmission removes the entry of l, once its processing ended in
// a final way. An entry that l no longer holds stays (another instance
// took it over): that is not an error.
func (s *Store) ReleaseSubmission(ctx context.Context, l JournalLease) (err error) {
	defer markUnavailable(&err)
	if err := s.journalReady("release submission"); err != nil {
		return err
	}
	if !l.Held() {
		return fmt.Errorf("release submission: %w: no lease", ErrInvalid)
	}
	err = releaseScript.Run(ctx, s.rdb,
		[]string{s.journalEntryKey(l.entry), s.journalKey("lease"), s.journalUserKey(l.user)},
		l.entry, l.holder).Err()
	if err != nil {
		return fmt.Errorf("release submission: %w", err)
	}
	return nil
}

// ClaimSubmissions takes over up to count journal entries whose lease
// ended (by the store's clock), each under a new lease that ends lease
// from now, and returns them decoded, with the owner of their dedupe
// mark. Several instances may claim at once: an entry goes to one of
// them. Entries that do not decrypt or decode (another journal key,
// tampering) are not returned: ClaimSubmissions returns the others with
// an error wrapping ErrJournalDecrypt; they stay, under the new lease.
func (s *Store) ClaimSubmissions(ctx context.Context, lease time.Duration, count int) (_ []ClaimedSubmission, err error) {
	defer markUnavailable(&err)
	if err := s.journalReady("claim submissions"); err != nil {
		return nil, err
	}
	if lease < time.Millisecond || count < 1 || count > 1000 {
		return nil, fmt.Errorf("claim submissions: %w: lease %v must be at least 1ms and count %d between 1 and 1000", ErrInvalid, lease, count)
	}
	now := s.clock()
	ids, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: s.journalKey("lease"), Start: "-inf", Stop: strconv.FormatInt(now.UnixMilli(), 10), ByScore: true, Count: int64(count),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("claim submissions: %w", err)
	}
	var out []ClaimedSubmission
	var bad error
	for _, id := range ids {
		holder, err := s.newHolder()
		if err != nil {
			return out, fmt.Errorf("claim submissions: %w", err)
		}
		sealed, err := claimScript.Run(ctx, s.rdb, []string{s.journalEntryKey(id), s.journalKey("lease")},
			id, now.UnixMilli(), holder, now.Add(lease).UnixMilli()).Text()
		if errors.Is(err, redis.Nil) {
			continue // taken by another instance, or expired
		}
		if err != nil {
			return out, fmt.Errorf("claim submissions: %w", err)
		}
		e, err := s.openJournalEntry(id, []byte(sealed))
		if err != nil {
			bad = errors.Join(bad, err)
			continue
		}
		out = append(out, ClaimedSubmission{JournalEntry: e, Lease: JournalLease{entry: id, holder: holder, user: e.UserID}})
	}
	if bad != nil {
		return out, fmt.Errorf("claim submissions: %w", bad)
	}
	return out, nil
}

// openJournalEntry decrypts and decodes the sealed entry id.
func (s *Store) openJournalEntry(id string, sealed []byte) (JournalEntry, error) {
	plain, err := openSealed(s.journal, sealed, journalAAD(id))
	if err != nil {
		return JournalEntry{}, fmt.Errorf("journal entry %s: wrong journal key or tampered entry: %w", id, ErrJournalDecrypt)
	}
	var e JournalEntry
	b := &bin.Buffer{Buf: plain}
	if e.UserID, err = b.Long(); err == nil {
		if e.MsgID, err = b.Int(); err == nil {
			e.Owner, err = b.String()
		}
	}
	if err == nil {
		e.Update = &tg.UpdateNewMessage{}
		err = e.Update.Decode(b)
	}
	var hasUser bool
	if err == nil {
		hasUser, err = b.Bool()
	}
	if err == nil && hasUser {
		e.User = &tg.User{}
		err = e.User.Decode(b)
	}
	if err != nil || s.journalEntryID(e.UserID, e.MsgID) != id {
		return JournalEntry{}, fmt.Errorf("journal entry %s: does not decode: %w", id, ErrJournalDecrypt)
	}
	return e, nil
}

// deleteJournal removes the user's journal entries (DeleteUser).
func (s *Store) deleteJournal(ctx context.Context, userID int64) (int, error) {
	set := s.journalUserKey(userID)
	ids, err := s.rdb.SMembers(ctx, set).Result()
	if err != nil {
		return 0, fmt.Errorf("read journal entries: %w", err)
	}
	var dels []*redis.IntCmd
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			dels = append(dels, p.Del(ctx, s.journalEntryKey(id)))
			p.ZRem(ctx, s.journalKey("lease"), id)
		}
		dels = append(dels, p.Del(ctx, set))
		return nil
	}); err != nil {
		return 0, fmt.Errorf("delete journal entries: %w", err)
	}
	n := 0
	for _, d := range dels {
		n += int(d.Val())
	}
	return n, nil
}
