// Package store keeps what kycbot instances share in Redis: the queue of
// updates, the leases, verification requests and their nonces, the gotd
// sessions (one per instance, sealed) and updates state, verification
// statuses and their counters, claims of identity documents, the outbox
// of deliveries to the business, and the audit trail.
//
// Several bot processes may share one Redis: every operation that must
// happen once (queueing an update, issuing a request, burning a nonce,
// changing a status, claiming a delivery, appending to the audit chain) is
// a single Lua script or transaction, so they get one outcome.
//
// # Views
//
// The Store's operations are grouped in views, one per domain, each a
// small value the Store returns and that owns some of the keys below:
// Store.Queue (the updates to handle), Store.Leases (named leases),
// Store.Requests (requests and nonces), Store.Statuses (statuses and
// their counters), Store.Prefs (the users' preferences), Store.Documents
// (claims of identity documents), Store.Reviews (submissions waiting for
// an admin's decision), Store.Outbox (deliveries to the business),
// Store.ScanLinks (the one-time links to scans), Store.Audit (the audit
// trail), Store.Sent (the messages the Bot API transport
// sent, so that none is sent twice) and Store.Sessions (what gotd
// keeps: each instance's sealed session, updates state and access
// hashes). A consumer defines an interface with exactly the calls it
// makes, on the views it uses. DeleteUser, which erases a user across
// every domain, stays on the Store, as do Client and Prefix.
//
// # No personal data
//
// Nothing in Redis is personal data in clear. Keys and values hold
// Telegram user, chat and message IDs, level names, states, the
// business's ref (a deep link payload: not personal data by contract),
// problem codes, random request IDs and nonces, and times. Strings that
// end up in statuses, audit events or park reasons must be codes (the
// store rejects anything else), which a name, an address or a document
// number does not fit. The personal data that passes through the store
// never reaches Redis in clear: outbox payloads and the queue's updates
// are sealed with AES-256-GCM, and identity
// documents are recorded as a keyed hash (HMAC-SHA256). Neither do
// secrets: the gotd sessions, which hold the MTProto auth keys that let
// whoever has one act as the bot, are sealed with AES-256-GCM
// (WithSessionKey), each bound to its bot and instance; nor do the
// records of the one-time scan links, which fetch and decrypt a scan
// (WithScanLinkKey), each bound to the hash of its token. Audit events
// name users by pseudonyms and hold refs sealed (see Audit trail).
// Errors never hold a nonce, a payload, a document number, a session or
// a password.
//
// # Key rotation
//
// WithQueueKey, WithSessionKey and WithOutboxKey take the keys used before
// a rotation after the current one: the current key seals, and a value is
// opened with the key whose key id it records (queue and outbox entries)
// or with each key in turn (sessions, and queue entries of older
// versions). A value that no configured key opens fails as with a single
// key (ErrQueueDecrypt, ErrSessionDecrypt, ErrOutboxDecrypt), naming the
// key id, never a key. The queue's dedupe marks and user digests are
// checked under every key of the ring, so that an update appended before
// the rotation is still a repeat, and DeleteUser still finds the user's
// entries.
//
// Nonces never appear in key names: keys show up in monitoring (MONITOR,
// SLOWLOG, keyspace notifications, latency and memory tools, SCAN
// output), and a nonce in clear there could be replayed by whoever reads
// it. Keys name the SHA-256 (hex) of the nonce instead; logs can show the
// same hash. The request record itself holds the nonce as a value,
// because the request page needs it for the Passport link; the record is
// deleted as soon as the nonce is used or superseded.
//
// # Keys
//
// Every key starts with the prefix (WithPrefix, default "kycbot:"),
// written P below. In Redis Cluster, keys that one script or transaction
// touches together share a hash tag, the part in braces: {u:<userID>} for
// everything about a chat user, {s:<selfID>} for the gotd state of a bot
// user, and {queue}, {outbox}, {audit}, {stats} and {validity}. Keys without a tag are only
// ever used one at a time. <nh> is the hex SHA-256 of a nonce, <eh> the
// hex SHA-256 of an outbox event ID, <dh> the hex HMAC-SHA256 of an
// identity document (see Documents.Claim), <k> a queue dedupe digest (the
// first 16 bytes, in hex, of an HMAC-SHA256 of the update's key under a
// key derived from the queue key); TTL "keep" is the QueueItem's Keep (the
// bot's: 7 days for a submission, a day for other updates); TTL "req" is the request's TTL,
// "tomb" is NonceTombstoneTTL (7 days), and "status" is the status
// retention (WithStatusRetention, none by default), counted from the last
// Statuses.Set for the status hash, from the last SetLanguage or SetRef
// (Preferences) for the preferences, and from the last Documents.Claim
// for the document keys.
//
//	key                           type    TTL          holds                                                written by
//	P{u:<uid>}:request            hash    req          the user's live request: id, nonce, nh, uid, chat,   Requests.Issue; deleted by Requests.Consume
//	                                                   level, lang, ref, iat, exp (unix ms), src (SHA-256   (when used or expired), Requests.Cancel,
//	                                                   of the IssuedFor source, or empty)                   DeleteUser
//	P{u:<uid>}:nonces             hash    req + tomb   <nh> -> "<until>|<state>": what became of each nonce Requests.Issue, Requests.Consume,
//	                                                   issued to the user, until when it is remembered      Requests.Cancel; deleted by DeleteUser
//	                                                   (unix ms, the store's clock: the request's expiry +
//	                                                   tomb; Requests.Issue prunes the fields past it);
//	                                                   states: live, used, superseded, expired, cancelled
//	                                                   (the tombstone); consumed ByMessage:
//	                                                   used|m<msgID>|<the request as JSON, no nonce>; the
//	                                                   hash's TTL covers the longest
//	P{u:<uid>}:nonce:<nh>         string  req + tomb   a nonce's state, from before the nonces hash (an     (none any more); Requests.Consume,
//	                                                   older version): moved into the hash by the first     DeleteUser delete it
//	                                                   Requests.Consume of the nonce
//	P{u:<uid>}:index              zset    req + tomb   "n:<nh>" and "r:<requestID>" of every request        Requests.Issue; read by DeleteUser
//	                                                   issued, scored by when their routing keys expire
//	P{u:<uid>}:updates            zset    a week       dedupe marks of versions before the queue            (none any more); deleted by DeleteUser
//	P{u:<uid>}:status             hash    status       <level> -> JSON {state, ref, codes, updated},        Statuses.Set, Statuses.Reset
//	                                                   <level>#created -> unix ms; #t -> unix ms of the
//	                                                   last Statuses.Set, #v -> version, #r and #l while
//	                                                   written with a retention (see statsScript)
//	P{u:<uid>}:prefs              hash    status       lang (the language chosen with /language), ref       Preferences.SetLanguage, SetRef; deleted by
//	                                                   (from the last /start <ref>), #t (unix ms of the     DeleteUser
//	                                                   last write, from which the TTL runs)
//	P{u:<uid>}:reviews            hash    review       review ID -> a submission kept for manual review,   Reviews.Put; emptied by Reviews.Delete,
//	                                                   sealed (nonce + AES-256-GCM under WithReviewKey,     the key deleted by DeleteUser
//	                                                   its expiry inside), or "" once decided; TTL: the
//	                                                   longest Put
//	P rlink:<h>                   string  the link's   SHA-256 of a spent review link token (one-time)      Reviews.UseLink
//	                                      life
//	P{reviews}:waiting            zset    none         "<uid>:<review ID>" of each review kept and not      Reviews.Put, Remind; Reviews.Delete
//	                                                   decided, by the unix ms since when it waits (or      and Forget remove
//	                                                   was last reminded of)
//	P{u:<uid>}:docs               set     status       <dh> of every document the user claimed              Documents.Claim; read and deleted by
//	                                                                                                        DeleteUser
//	P doc:<dh>                    string  status       the user ID that claimed the document or person      Documents.Claim, ClaimAll; deleted by
//	                                                   (never the number, a name or a date)                 DeleteUser
//	P nidx:<nh>                   string  req + tomb   the user ID the nonce was issued to (routing to the  Requests.Issue
//	                                                   user's slot; never changes); read by
//	                                                   Requests.Consume only when the user has no such
//	                                                   nonce
//	P ridx:<requestID>            string  req + tomb   the user ID the request was issued to (routing)      Requests.Issue
//	P{u:<uid>}:reminders          hash    end + 400 d  "<level>:<end ms>:<what>" -> claim time: reminders  Validities.Claim; Unclaim; deleted by
//	                                                   and expiries sent (each once)                        DeleteUser
//	P{validity}:due               zset    none         "<uid>|<level>" scored by when the verification      Validities.Schedule; ZREM by DeleteUser
//	                                                   ends (ms)
//	P{erasure}:open               zset    none         "<uid>" of each erasure begun and not finished,      Erasures.Begin; removed by Erasures.Done
//	                                                   scored by when it began (ms): one cut short is
//	                                                   finished by the bot's sweep
//	P{stats}:total                hash    none         "<level>|<state>" -> users now in that state         Statuses.Set, Statuses.Reset, DeleteUser,
//	                                                                                                        Statuses.Stats (expired statuses)
//	P{stats}:day:<YYYY-MM-DD>     hash    400 days     "<level>|<state>" -> transitions into the state      Statuses.Set
//	                                                   that UTC day
//	P{stats}:held                 hash    none         <uid> -> "<version>;<level>|<state>,..." counted     Statuses.Set, Statuses.Reset (with a status
//	                                                   in the totals for a user whose statuses expire       retention); Statuses.Stats, DeleteUser
//	P{stats}:expiry               zset    none         <uid> scored by when their statuses expire (ms)      as P{stats}:held
//	P{outbox}:stream              stream  none         undelivered entries: eid, uid, kind, kid (key id),   Outbox.Enqueue; entries removed by
//	                                                   p (nonce + AES-256-GCM ciphertext), at (unix ms);    Outbox.Ack, Outbox.Park, DeleteUser
//	                                                   consumer group "deliveries"; a pending entry's
//	                                                   idle time counts from its last claim or Retry
//	P{outbox}:parked              stream  none         entries given up on: the same fields plus reason,    Outbox.Park; entries removed by DeleteUser
//	                                                   attempts, parked_at, from (original stream ID)
//	P{outbox}:attempts            hash    none         n:<eventID> -> failed or abandoned deliveries,       Outbox.Claim, Retry, RetryAfter, Release;
//	                                                   r:<eventID> -> 1 when Retry or Release counted       fields removed by Outbox.Ack, Park, DeleteUser
//	P{outbox}:due                 zset    none         stream IDs of entries paused by RetryAfter (or       Outbox.RetryAfter, Release; members removed by
//	                                                   handed back by Release, due at once), scored
//	                                                   by when they are due again (unix ms, the store's     Outbox.Claim (when due), Retry, Ack, Park;
//	                                                   clock)                                               one whose entry DeleteUser removed, by the
//	                                                                                                        first Claim after its due time
//	P{outbox}:event:<eh>          string  7 days       stream ID of the event (Enqueue is idempotent)       Outbox.Enqueue; deleted by DeleteUser
//	P{queue}:stream               stream  none         updates to handle: k (dedupe digest), u (a keyed     Queue.Append; entries removed by Queue.Ack,
//	                                                   digest of the user ID), at (unix ms), kid (key id;   DeleteUser
//	                                                   absent in entries of older versions), d (nonce +
//	                                                   AES-256-GCM ciphertext of the update, k as
//	                                                   associated data); consumer group "workers"; a
//	                                                   pending entry's idle time counts from its last
//	                                                   read, Claim or Touch (Release sets it past any
//	                                                   Claim's minimum)
//	P{queue}:seen:<k>             string  keep         the stream ID the update of that key got (Append     Queue.Append
//	                                                   drops a repeat)
//	P{queue}:tries                hash    none         stream ID -> times the entry was handed out again    Queue.Tried; fields removed by Queue.Ack,
//	                                                                                                        DeleteUser
//	P scan:<th>                   string  the link's   a one-time scan link's record (opaque: the scan's      ScanLinks.Put; deleted by ScanLinks.Take
//	                                      TTL          description and location), sealed: nonce +          (GETDEL)
//	                                                   AES-256-GCM ciphertext under the WithScanLinkKey key,
//	                                                   "kycbot scan link", <th> as associated data; <th> is
//	                                                   the hex SHA-256 of the link's token
//	P{sent}:<d>                   string  lock, then   a message the Bot API transport sent, by the keyed     SentMessages.Claim (the lock), Record;
//	                                      keep         digest <d> of its idempotency key: "L" and the     the lock deleted by SentMessages.Release
//	                                                   sender's token while one sends it, then "R" and
//	                                                   its message ID sealed under the queue key (nonce
//	                                                   + AES-256-GCM ciphertext, <d> as associated data)
//	P lease:<name>                string  the lease    the holder of the lease (receiver:<botID>: the       Leases.Acquire, Renew; deleted by
//	                                                   instance that receives; instance:<botID>:<name>:     Leases.Release
//	                                                   the process that runs under that name)
//	P{audit}:stream               stream  trimmed      e (canonical JSON of the event, with prev, the key   AuditTrail.Append, DeleteUser; trimmed by
//	                                                   id, the pseudonyms of the user and actor, the        Append (WithAuditRetention)
//	                                                   sealed ref), prev, hash (hex HMAC-SHA256 of e under
//	                                                   the audit key; SHA-256 in version 1 records)
//	P{audit}:head                 string  none         hash of the last audit event                         AuditTrail.Append, DeleteUser
//	P{u:<uid>}:audit              string  audit        the user's random audit key (32 bytes), from which   AuditTrail.Append (with the user's first
//	                                                   their pseudonym and ref key derive with the audit    event); deleted by DeleteUser
//	                                                   key; TTL "audit" is the audit retention, from the
//	                                                   user's last event (none without a retention)
//	P{audit}:base                 string  none         the prev of the first event left after trimming      AuditTrail.Append (when it trims)
//	P{audit}:once:<ih>            string  7 days       stream ID of the event appended with the ID whose    AuditTrail.AppendOnce
//	                                                   SHA-256 (hex) is <ih> (AppendOnce is idempotent)
//	P gotd:sessions:<botID>       hash    none         <instance> -> the instance's gotd session (JSON,     Sessions.Session(...).StoreSession; fields
//	                                                   holds its MTProto auth key), sealed: nonce +         removed by Sessions.Forget
//	                                                   AES-256-GCM ciphertext under the WithSessionKey key,
//	                                                   the bot ID and instance name as associated data
//	P gotd:session:<botID>        string  none         the session older versions shared between all the    (none any more); deleted by
//	                                                   bot's instances, in clear                            Sessions.DropLegacy
//	P gotd:{s:<selfID>}:state     hash    none         pts, qts, date, seq                                  Sessions.StateStorage(): SetState, SetPts,
//	                                                                                                        ...
//	P gotd:{s:<selfID>}:channels  hash    none         channel ID -> pts (cleared by SetState)              Sessions.StateStorage(): SetChannelPts
//	P gotd:{s:<selfID>}:chash     hash    none         channel ID -> access hash                            Sessions.AccessHasher()
//	P gotd:{s:<selfID>}:uhash     hash    none         user ID -> access hash                               Sessions.UserAccessHasher(); field removed
//	                                                                                                        by DeleteUser
//	P gotd:selves                 set     none         self IDs that have a uhash key                       Sessions.UserAccessHasher()
//	P gotd:{s:<selfID>}:forget:<d> string ForgetWindow "1": the user of digest d (HMAC-SHA256 under the     DeleteUser
//	                                                   queue key, or SHA-256 without one, of prefix, "forget:",
//	                                                   user ID; 16 bytes, hex) was just erased: their
//	                                                   access hash is not stored again (Sessions.UserAccessHasher)
//
// (The spaces in "P nidx:" and the like are for reading only: the prefix
// and the rest are written together, as in "kycbot:nidx:<nh>".)
//
// # Slots
//
// Every Lua script gets all the keys it touches as KEYS (none is built
// inside a script), and every script and MULTI keeps them in one Redis
// Cluster hash slot, so that each runs on one node, atomically:
//
//	slot            what runs there together, and why together
//	{u:<uid>}       Requests.Issue, Consume, Cancel (the request, the nonce states, the
//	                index: a nonce is issued, burned and superseded in one step);
//	                the user's audit key (read, or created if absent, in one step);
//	                Statuses.Set, Reset (the status hash); Preferences (the prefs);
//	                Documents.Claim's list of the user's documents; Reviews (the
//	                submissions kept for review); DeleteUser's
//	                transaction over the user's keys (erased in one step)
//	{s:<selfID>}    the gotd updates state of a bot user (state and channel pts
//	                change together)
//	{queue}         Queue.Append (the stream and the dedupe mark of the update: an
//	                update is queued once), Ack (the stream and the tries), Touch,
//	                Release
//	{outbox}        Outbox.Enqueue (stream and event mark), Claim, Ack, Retry,
//	                RetryAfter, Release, Park (stream, parked stream, attempts, due: an entry
//	                moves between them in one step), DeleteUser's drop of an entry
//	{audit}         AuditTrail.Append (the stream, the head the chain is built on, the
//	                base, the once mark: the compare-and-set on the head)
//	{stats}         the counters of Statuses.Stats (totals, days, held, expiry)
//	{reviews}       the waiting reviews (Reviews.Remind's compare-and-set)
//	{validity}      Validities.Schedule and Ending (one key)
//	(no tag)        single-key commands only: leases, document claims (doc:<dh>), spent
//	                review links (rlink:<h>),
//	                the routing keys nidx and ridx (written once, read alone)
//
// Whatever spans two slots is two steps, each safe alone: a status and
// its counters (see Limits), a request and its routing keys (written
// after it, and read only to route), a document claim and the user's
// list of documents. The tests hold every script and transaction to this
// on every server (the test client refuses a cross-slot script or MULTI,
// as a cluster would, where go-redis would instead split a MULTI per slot
// without saying so), and CI runs them on a three-master cluster too.
//
// # Requests and nonces
//
// A user has at most one live request. Requests.Issue stores it in the
// user's slot and supersedes the previous one (with IssuedFor, unless the
// live request was issued for the same source); Requests.Consume burns a
// nonce exactly once. Every key a script touches is in the user's slot
// and declared to it: the request, the index, and one hash of every nonce
// state of the user, so that the scripts need no read before them and
// work in a cluster too. Request IDs are looked up through routing keys
// (ridx) that are written once and never change; Requests.Consume runs
// in the slot of the user it is given, and reads the nonce's routing key
// (nidx) only to tell a nonce issued to another user (not burned) from
// an unknown one. Expiry is judged by the store's clock (WithClock),
// Redis TTLs only collect garbage. Requests.Live reads the live request
// without changing it; Requests.Cancel voids it (one script, like the
// consume). After use, expiry, supersession or cancellation the nonce's
// state stays as a tombstone until NonceTombstoneTTL past the request's
// expiry, so that a late or replayed nonce gets ErrNonceExpired,
// ErrNonceUsed, ErrNonceSuperseded or ErrNonceCancelled rather than
// ErrNonceUnknown. Issuing takes two round trips to Redis (the script,
// then the two routing keys), consuming one, the request page two.
//
// # Queue
//
// The queue (the Queue view) holds every kycbot update from its arrival
// until its outcome is recorded: the receiving instance appends it once
// (a repeat of its key is dropped, within the key's keep time), a worker
// of any instance reads it (XREADGROUP), touches it while it works (its
// idle time restarts; another consumer's claim is never taken back), and
// acknowledges it (XACK and XDEL in one script). A worker that stops
// answering leaves its entries pending: Claim (XAUTOCLAIM) hands them to
// another worker once idle for longer than its minimum, Release makes a
// stopping worker's entries claimable at once, and a worker restarted
// under its consumer name reads its own pending entries first (Read with
// pending). Tried counts the hand-outs, so that the bot gives up on an
// entry that brings its workers down. The queue is one stream in one
// slot ({queue}): every queue script touches only {queue} keys.
//
// The messages the Bot API transport sent (the SentMessages view) take
// the place of Telegram's random_id, which the Bot API lacks: a sender
// takes a short lock on the message's idempotency key (SET NX PX),
// sends, and records the message's ID in its place, so that the same
// message sent again, by any instance, finds the record instead of
// sending. The keys share the {sent} slot.
//
// Named leases (the Leases view, SET NX PX and compare-and-renew scripts)
// pick the one instance that receives Telegram's updates and keep two
// processes from running under one instance name.
//
// # Outbox
//
// Deliveries go through a Redis stream with a consumer group (the Outbox
// view): Claim hands
// out entries (paused ones whose time has come, ones idle longer than
// minIdle and not paused: a consumer that died, or Retry; then new ones),
// Ack removes them, Retry counts a failed attempt and makes the entry due
// again minIdle later, RetryAfter counts it and pauses the entry for a
// duration of its own (the due zset; backoff per entry, longer or shorter
// than minIdle), Release counts a cut-short attempt of a stopping consumer
// and makes the entry due at once, Park moves it to the parked stream.
// Delivery is at least once: a consumer that is slow beyond minIdle may
// see its entry reclaimed, and a request cut short may have reached the
// receiver, so receivers should dedupe by event ID.
//
// Claim finds abandoned entries by walking the pending list (XPENDING
// with IDLE, then XCLAIM of each one that is not paused), at most 6,400
// pending entries per call: with more paused entries than that ahead of
// an abandoned one, the abandoned one waits until some of them are
// claimed again. Paused entries themselves are found through the due
// zset, whatever their number.
//
// # Identity documents
//
// Documents.Claim maps an identity document to the Telegram user who
// verified with it, so that one document cannot verify two accounts. The
// key is the HMAC-SHA256, under a secret key (WithDocumentKey), of the
// normalized country, type and number: a plain hash would not do, since
// document numbers are few enough to try them all. The claim is a SET NX
// of that key, so concurrent claims get one owner. Each user's documents
// are listed in the user's slot, so that DeleteUser can release them.
// A person (PersonKey: names and birth date, normalized) is claimed the
// same way, under its own keyed hash, so that one person verifying two
// accounts with two documents is found too; Documents.ClaimAll claims a
// submission's documents and person together, all or none.
//
// # Audit trail
//
// The audit trail is a chain of events, each linked to the one before by
// an HMAC-SHA256 under the audit key (WithAuditKey; the bot derives it
// from the Passport private key, which Redis does not hold): each event's
// canonical encoding names the previous event's link, and its own link
// is the HMAC of that encoding. Appending is a compare-and-set on the
// chain head (Redis Lua has no HMAC), retried on conflict, so concurrent
// instances still build one valid chain (AuditTrail.Append).
// AuditTrail.Verify finds the first event that was changed, inserted or
// removed: whoever can write to Redis but lacks the key cannot rebuild the
// chain from the point they change, with SHA-256 or another key. Each
// event records the id of the key it was keyed with (a short hash of the
// key), so that after a rotation the events keyed before it still verify
// with the previous key given (WithAuditKey's previous keys).
//
// Without the key, an attacker can still remove events at the end (and
// move the head back) or wipe the trail. AuditTrail.Head returns the head
// (the last link, its event and time, the key id): recorded somewhere
// Redis cannot reach, it is an anchor, and Verify with it fails unless
// that link is still in the chain (kycbot audit head, kycbot audit
// verify --head).
//
// Records before keying. Version 1 records (older kycbot versions:
// SHA-256 links, user IDs and refs in clear) still verify, as plain
// SHA-256 links, and AuditSummary.Unkeyed counts them. They may only come
// before every keyed (version 2) record: the first keyed event names the
// last unkeyed one, which protects them. A version 1 record after a keyed
// one, or a chain with no keyed event at all, does not verify (right
// after an upgrade, verify again once an event was appended). Version 1
// records keep the user IDs and refs they hold in clear until the audit
// retention trims them: erasure cannot take them out without breaking the
// chain.
//
// Pseudonyms. An event does not hold user IDs or the ref. Each user
// audited gets a random key in their slot (P{u:<uid>}:audit, with their
// first event); the event names the user (and the actor, such as the
// admin of an admin command) by a pseudonym, 16 bytes of HMAC-SHA256
// under a key derived from the audit key, of the user's key and ID, and
// holds the ref sealed (AES-256-GCM) under a key derived the same way.
// Redis alone cannot link a pseudonym to a user (the audit key is not in
// it), and DeleteUser deletes the user's key, after which nothing can,
// not even with the audit key: the user's events stay in the chain,
// which still verifies, unlinked. AuditTrail.Events resolves the events
// of the users it is asked about (computing their pseudonyms from their
// keys, while they exist) and shows the others by pseudonym. Detail
// holds codes and IDs that do not name a user: "nonce_hash" (the SHA-256
// of a request's nonce; DeleteUser deletes every key that maps a nonce
// hash to the user), "event_id" of a parked delivery (the outbox entry
// and its key go with DeleteUser), counts and element names. An event
// appended while DeleteUser runs may give the user a new key, which
// links that event: call DeleteUser when the user is no longer served.
//
// # Retention and erasure
//
// WithStatusRetention (config retention.status_days) gives each user's
// status hash a TTL from their last Statuses.Set; the store also judges
// expiry by its own clock, so a status past the retention reads as
// StateNone even before Redis collects it, and the stats totals drop it
// (the user's counted states are kept in {stats}:held until then).
// Document claims live as long, from the last claim, and the preferences
// (language and ref) from their last change. WithAuditRetention
// (retention.audit_days) makes AuditTrail.Append trim the events older
// than the retention with XADD MINID ~, which drops whole stream nodes
// only, so a few older events may remain. When it trims, Append records
// in {audit}:base the previous-event hash the first remaining event
// names; AuditTrail.Verify starts the chain from it, so the trimmed trail still
// verifies and any other change, including removing events at its
// start, is still found.
//
// DeleteUser erases everything about a user in one call (see there).
//
// # When Redis is down or fails over
//
// Every error that comes from not reaching Redis (refused or reset
// connections, timeouts, a server still loading its data, a replica that
// refuses writes, a cluster without all its slots) wraps ErrUnavailable.
// Open sets short timeouts and turns go-redis's retries off
// (DialTimeout, IOTimeout, PoolTimeout), so that an operation fails
// within about half a second instead of hanging a submission; the bot
// keeps its work and retries it later, and the client reconnects by
// itself when Redis is back. In sentinel and cluster modes Open's client
// also waits out a failover, for up to FailoverWait: it repeats, with
// backoff, only the commands that provably never ran (see Open). In
// sentinel mode a connection checks that the server is the master
// (ErrNotMaster otherwise): a sentinel late to learn of a failover can
// name the old master, back as a replica that holds no data until it has
// synced, where reads would find nothing.
//
// Replication is asynchronous: a master that fails over may take its
// last writes with it. What the new master holds is then the history up
// to some point, never a write without those before it. Every effect of
// handling an update is keyed by the update (QueueEntry.Key), and the
// update leaves the queue last, so a handling whose writes were lost is
// done again, once. Three writes are followed by something outside Redis
// that cannot be taken back, and WithReplicas makes them wait for the
// replicas (WAIT) before they return: Queue.Append (after it the
// receiver lets Telegram forget the update), Requests.Issue (the user
// gets the link) and Requests.Consume (the nonce must stay burned). The
// outbox needs no WAIT: an entry is enqueued before its update leaves the
// queue, and a lost Ack only delivers again (at least once, by event
// ID). docs/operations.md says what to choose. With Redis's append-only file on (appendfsync always, or everysec
// for at most a second of loss), a restart loses no outbox entry: entries
// not acknowledged are handed out again, acknowledged ones are not.
// TestResilienceRedisRestart checks this against a redis-server it
// starts and stops.
//
// # Limits
//
// The stats counters are updated right after the status, in a second
// step (the status and the counters live in different cluster slots): a
// crash between the two leaves a counter off (until the user's next
// status change, with a retention), never a status. Instances applying
// the second steps of one user's changes out of order still get the
// counts right.
// DeleteUser removes every key and record about a user except the audit
// events, which are append-only (until the audit retention trims them):
// it unlinks them instead (see Audit trail), except version 1 events from
// before keying, which hold the user ID in clear.
// A write that fails with ErrUnavailable may or may not have happened
// (its answer may be what was lost). Running it again is safe, but a
// repeated Requests.Consume answers ErrNonceUsed and a repeated
// AuditTrail.Append appends the event twice (the chain stays valid):
// which is why the client must not repeat a command that may have run,
// and the caller decides. A caller that retries can make them repeatable:
// Requests.Consume ByMessage, Requests.Issue IssuedFor a source,
// AuditTrail.AppendOnce with an event ID; Queue.Append is repeatable by
// its keys.
package store
