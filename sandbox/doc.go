// Package sandbox is a local Telegram for testing kycbot end to end: real
// MTProto servers on loopback TCP (gotd's tgtest) that implement the
// bot-facing and user-facing methods of a Telegram Passport verification,
// and simulated users that behave like a Telegram app.
//
// # Servers
//
// Start runs DC 2 (and a second DC for files, Options.FilesDC) on free
// 127.0.0.1 ports, or at fixed addresses (Options.Listen).
// Sandbox.Options returns the telegram.Options pieces a gotd client needs
// (PublicKeys, Resolver, DCList, DC, SessionStorage); ResolverFrom dials
// from a source address of one's own (any 127.x.y.z on Linux), as
// separate hosts would. Accounts are made with AddBot (the token and the
// Passport public key as @BotFather would have them) and AddUser (phone,
// name, language, optional cloud password), or over MTProto by signing up
// as Telegram apps do (any process that reaches the servers can: see
// Connect). Users log in with auth.sendCode and auth.signIn with the code
// "12345" (Options.LoginCode), and auth.checkPassword when they have a
// cloud password; bots with auth.importBotAuthorization.
//
// # Transports and layers
//
// Every DC accepts, on its one port, every MTProto transport Telegram's
// servers do: abridged, intermediate, padded intermediate and full, and
// the obfuscated transport (a 64-byte obfuscation header with AES-CTR
// over abridged, intermediate or padded intermediate: what Telegram's
// apps, MTProxy clients and browser clients use) with no MTProxy secret.
// The first bytes of a connection tell which, as on Telegram; a
// connection whose start names none is closed. gotd clients pick one with
// dcs.Plain (Protocol, Obfuscated: true), SimUserOptions.Resolver and
// Remote.Resolver. Transports counts the connections by transport.
//
// The servers speak one schema layer, gotd's tg.Layer (Layers). The layer
// a connection declares with invokeWithLayer is recorded for the
// connection (a request declaring none is in the last one its connection
// declared); a request in any other layer is refused before anything is
// done, at the client's first invokeWithLayer(initConnection), with 400
// CONNECTION_LAYER_INVALID_<tg.Layer> (ErrLayer: Telegram's error type
// for an invalid layer, with the layer the servers speak as argument),
// never answered in a layer the client cannot parse. The sandbox does not
// translate between layers: about a dozen of the constructors of the
// Passport flow (user, message, messageService, messages.sendMessage,
// the inline buttons...) differ between layers as close as 198 and 229,
// so a client must be generated from the same layer. Telegram itself
// answers each connection in the layer it declared.
//
// docs/sandbox-clients.md says how a client other than gotd (GramJS,
// Telethon, TDLib) connects: the server's public key and fingerprint,
// the addresses, the login code, the cloud password, the layer.
//
// Implemented methods:
//
//   - login and sessions: help.getConfig, help.getNearestDc, auth.sendCode,
//     auth.signIn, auth.signUp (a number without an account gets a code
//     too; auth.signIn with it answers auth.authorizationSignUpRequired and
//     auth.signUp creates the account, in the language of the connection's
//     initConnection lang_code, and logs the session in),
//     auth.checkPassword (SRP), auth.importBotAuthorization,
//     auth.exportAuthorization / auth.importAuthorization (second DC),
//     auth.logOut, users.getUsers, users.getFullUser,
//     contacts.resolveUsername;
//   - updates: every account has its own pts sequence and update log;
//     updates are pushed to its sessions (tg.Updates with Users, seq 0) and
//     updates.getState / updates.getDifference return what a session missed,
//     so a bot using gotd's updates manager catches up after a restart;
//   - messages in private chats: messages.sendMessage (text, entities, inline
//     keyboards with URL and callback buttons, reply_to; idempotent by
//     random_id as on Telegram: a random_id the account already used with
//     that peer, from any of its sessions and at any time before, sends
//     nothing and answers the earlier message with its original pts, and
//     answers 500 RANDOM_ID_DUPLICATE while the earlier call still runs),
//     messages.editMessage, messages.setTyping, bots.setBotCommands /
//     bots.getBotCommands, messages.getBotCallbackAnswer (pushes
//     UpdateBotCallbackQuery to the bot and waits for
//     messages.setBotCallbackAnswer);
//   - files: upload.saveFilePart, upload.saveBigFilePart, upload.getFile for
//     tg.InputSecureFileLocation with Telegram's checks on offset and limit
//     (multiples of 4 KiB, or 1 KiB with precise; limit at most 1 MiB and,
//     without precise, a divisor of 1 MiB; no request across a 1 MiB
//     boundary: LIMIT_INVALID, OFFSET_INVALID) and FILE_MIGRATE_X for files
//     on the other DC;
//   - cloud password: account.getPassword, account.getPasswordSettings,
//     account.updatePasswordSettings, with real SRP and the passport secret
//     stored as the app sends it (encrypted under the password with PBKDF2);
//   - Passport: account.saveSecureValue, account.getAllSecureValues,
//     account.getSecureValue, account.deleteSecureValue,
//     account.getAuthorizationForm, account.acceptAuthorization (delivers
//     MessageActionSecureValuesSentMe to the bot and
//     MessageActionSecureValuesSent to the user), users.setSecureValueErrors.
//
// Every other method answers 400 INPUT_METHOD_INVALID, as tgtest does.
//
// # The Bot API
//
// Package sandbox/botapi serves the Bot API (HTTP and JSON) over these
// servers for bots written on it: a client of the MTProto side, as
// Telegram's telegram-bot-api server is, that logs a gotd client in per
// bot token. `kycbot sandbox serve` and the in-process demo run it beside
// the MTProto servers.
//
// # Simulated users
//
// NewSimUser registers a user and logs a real gotd client in as that user.
// Connect does the same from anywhere the servers can be reached (another
// process): it signs up over MTProto, or signs in when the number has an
// account, and sets the cloud password of the UserSpec. Sandbox.Remote
// returns what it needs (addresses, public keys, login code); Remote.Config
// turns that into plain data for a file (RemoteConfig: "host:port" per DC,
// the keys as PEM) and RemoteConfig.Remote reads it back. Remote.Options
// gives the telegram.Options of a bot in such a process.
//
// A simulated user's app starts with an auth key, as an installed app has
// one stored: Remote.NewSession makes it with the servers (their side of
// the key exchange is tgtest's own) and hands the gotd client a session
// holding it. Its app side factors pq with 64-bit integers and checks the
// DH prime with one Baillie-PSW test instead of gotd's big-integer
// factoring and 64 Miller-Rabin rounds, which took a third of the
// end-to-end tests' CPU; the bots under test make their keys with gotd.
//
// A SimUser holds a Profile of documents (built in Go, SampleProfile, or
// YAML with LoadProfile; scans are JPEG pictures generated from a text, so
// tests can regenerate the exact bytes) and does what a person with a
// Telegram app does: Start (/start <payload>), Send, WaitMessage and
// Messages (the chat with buttons, each message stamped with when the app
// received it), Press (callback buttons), OpenURL (GET
// the bot's page and find the Passport deep link in it), FillForm (get the
// form, create the cloud password and passport secret if needed, encrypt
// and save what is missing, share with acceptAuthorization, return to the
// callback URL), Errors (what the bot flagged), Fix (change and re-save a
// flagged element) and Cancel. Like an app, it keeps its update state and
// fetches updates.getDifference on updatesTooLong: what was pushed while
// its connection was down shows too, once.
//
// # Faults
//
// FloodWait makes a method answer FLOOD_WAIT_X a number of times;
// SetLatency makes the servers take a while to process a method (a
// messages.sendMessage holds its random_id meanwhile); DropConnections
// cuts every TCP connection of a DC; SetBandwidth slows file downloads per
// connection; Options.FilesDC puts Passport files on a second DC
// (FILE_MIGRATE_X). Calls counts requests per method.
//
// As on Telegram, an auth key used at the same time from two source
// addresses (open connections from both carried it) is invalidated: every
// request with it, from either address and from then on, answers 406
// AUTH_KEY_DUPLICATED, and the account is logged out on that key (a new
// key with a fresh login works). Connections from one address may share a
// key (gotd's data connections do), and a key may move to another address
// once its connections closed.
//
// # Simplified compared to Telegram
//
//   - One access hash per user for everybody (Telegram's are per viewer);
//     only private chats; no channels, groups, media messages or history.
//   - The login code is fixed, as on Telegram's test servers, and never
//     expires until used; there are no terms of service to accept. Any
//     number with a digit is valid (auth.sendCode answers 406
//     PHONE_NUMBER_INVALID only for none). Sign-up sets no username (and
//     account.updateUsername is not implemented): usernames of users come
//     from AddUser.
//   - Phone numbers and emails saved as Passport values are not verified
//     (Telegram sends codes: account.sendVerifyPhoneCode and friends are not
//     implemented).
//   - Seq is always 0 (pts only); getDifference returns at most 1000
//     updates per call (a slice beyond), never differenceTooLong.
//   - When a push reached no session of an account (it was reconnecting),
//     the next session it opens gets updatesTooLong, so that the client
//     fetches the difference (a SimUser does).
//   - users.setSecureValueErrors replaces all the errors of that bot on that
//     user. The server drops an error when the value it points at changed
//     (its data hash, file hash or element hash is gone); the server does not
//     stop a user from sharing with errors pending (Telegram's apps do).
//   - account.acceptAuthorization checks bot, key, scope and that every
//     value hash is the stored one; it does not check that the values
//     satisfy the scope (the bot must, as kycbot does). The bot receives the
//     selfie and translation of a value only when the scope asked for them.
//   - Changing the passport secret (a new secure_secret_id) or removing the
//     password deletes the stored values.
//   - Uploaded parts are kept until used; files, and the random_ids used
//     with messages.sendMessage, are kept in memory for the life of the
//     sandbox.
//   - AUTH_KEY_DUPLICATED compares the source addresses of the open
//     connections on which a key made requests (tgtest answers pings
//     itself, so they are not looked at); Telegram does not document its
//     exact rule.
//
// Error codes the sandbox chose where Telegram documents none are the
// constants ErrSecureValueInvalid, ErrValueHashInvalid and
// ErrValueTypeInvalid; CONNECTION_LAYER_INVALID carries an argument, the
// layer the servers speak (ErrLayer; Telegram's has none); other codes are
// Telegram's (PASSWORD_REQUIRED,
// SECURE_SECRET_REQUIRED, SECURE_SECRET_INVALID, BOT_INVALID,
// PUBLIC_KEY_REQUIRED, PUBLIC_KEY_INVALID, SCOPE_EMPTY,
// DATA_HASH_SIZE_INVALID, HASH_SIZE_INVALID, MD5_CHECKSUM_INVALID,
// FILE_PART_X_MISSING, BUTTON_URL_INVALID for a Passport link in an inline
// button, ...).
//
// # Implementation notes
//
// tgtest's auth key map is written and read under two different mutexes:
// two clients connecting at once is a data race under -race. The sandbox
// therefore runs tgtest servers on its own listener (not tgtest/cluster,
// whose Up creates the listeners) whose connections hold a gate between
// socket reads, and handles every request on its own goroutine (which also
// lets slow requests, like throttled downloads, not block the connection).
// The listener hands a connection to tgtest only once its transport
// header arrived: tgtest stops serving a DC on any accept error, and the
// transport header is read inside Accept. It also takes the obfuscation
// off (gotd's obfuscated2, server side), since tgtest knows the plain
// codecs only. The gate also tells the request handler,
// which tgtest calls between two reads of the connection holding it, which
// connection (so which source address) a request came on: the auth key of
// every message reaching the handler (requests and acks; tgtest answers
// pings itself) is recorded with the address for AUTH_KEY_DUPLICATED.
// gotd's Encode writes to the object (SetFlags), so objects
// kept in the sandbox's state are only encoded under its lock, and what
// leaves it is a copy.
//
// Nothing personal is logged: methods, IDs, element types, counts and
// error codes only.
package sandbox
