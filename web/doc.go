// Package web is kycbot's HTTP server: the request page that opens Telegram
// Passport, the endpoint Telegram returns to afterwards, the health and
// readiness checks and the metrics. It is built on net/http and
// html/template and never calls Telegram.
//
// # Why a page
//
// Telegram refuses the Passport deep link
// (tg://resolve?domain=telegrampassport&...) inside inline buttons. The bot
// therefore sends an
// inline URL button to PageURL(publicURL, requestID), and this page opens
// the deep link through a large "Open Telegram Passport" button that is
// always there, and on phones also automatically once it has loaded.
//
// On a desktop computer (a wide screen with a mouse: min-width 760px,
// pointer: fine and hover, decided by the browser from CSS media queries,
// never from the User-Agent) the page does not jump to tg:, which shows
// nothing at all where the Telegram app is missing: it shows, beside the
// card, a QR code of its own URL (drawn here as inline SVG) to continue on
// the phone. Every request page also says that Telegram Web cannot open
// Telegram Passport, and until when the link works ("until 21:30 (about
// 30 minutes)"): the page's script shows the time in the browser's time
// zone and language (Intl), the server writes it in UTC for browsers
// without scripts. Wide screens get a centered card layout (two columns
// with the QR code), phones one column; Arabic and Persian mirror it.
//
// With Options.BotName (config web.brand.name) and Options.Logo
// (web.brand.logo_file), every page is headed by the business's name and
// logo and its title names the business.
//
// # Endpoints
//
//	GET /passport/{id}        the request page of request id
//	GET /passport/callback    where the Telegram app returns (?r=<id>&tg_passport=...)
//	GET /passport/logo        Options.Logo, when set (cacheable; the pages ask for ?v=<hash of it>)
//	GET /passport/scans/{t}   a one-time link to a scan (Options.Scans, when set)
//	GET /healthz              200 "ok" whenever the server answers (liveness)
//	GET /readyz               200 "ok" when Backend.Ready succeeds, else 503 "unavailable" (readiness)
//	GET /metrics              Options.Metrics, when set (Prometheus)
//
// The last three are also, and with Options.SeparateOps only, served by
// OpsHandler (see below). With Options.Reviews and Options.SeparateOps,
// OpsHandler alone also serves the manual review page:
//
//	GET  /review/{token}      the review page of a one-time, signed review link (ReviewURL)
//	POST /review/decide       its form: approve, reject (reason) or ask to fix (items)
//
// The review page shows a user's decrypted data and scans (inline, as
// data: images); its policy allows nothing else to load, and its form
// posts to the ops server only. Reviews.Open refuses a link that is
// forged, used, expired or not an admin's (410 or 403); the decision
// carries a token of its own, spent once. The page and its refusals are
// in the catalog's default language (the admins' notices' language, texts
// review_page.*), right to left where that language is; a case sent to
// review by screening shows the watchlist entries matched
// (ReviewPage.Hits).
//
// /healthz asks the Backend nothing: a process whose Redis is down is
// alive, just not ready. /readyz gives Backend.Ready two seconds; for
// kycbot's bot it means Redis answers and Telegram updates are being
// received. Neither shows why it fails (the cause is logged at Warn).
//
// /healthz, /readyz and /metrics are the operations endpoints: they are
// for your monitoring, not for the Internet (/metrics shows business
// volumes). OpsHandler serves them alone; with Options.SeparateOps,
// Handler leaves them out and answers them 404 like any unknown path, so
// that Handler can face the Internet while OpsHandler is served on a
// private address (kycbot's bot does this unless web.ops_listen is public).
// Without it, Handler serves them too: then let the reverse proxy in front
// forward /passport/ alone.
//
// (HEAD works wherever GET does; other methods get 405.) The request page
// says who is asking (Options.BotName), what will be shared (the scope of
// the request's level, one line per element, in words), links the privacy
// policy, warns that the Telegram cloud password is needed and says what to
// do when nothing happens. Android browsers get the tg:resolve spelling of
// the deep link (passport.LinkAndroid), everyone else tg://resolve. Its
// callback_url is Options.PublicURL + "/passport/callback?r=<id>".
//
// # Scan links
//
// With Options.Scans, GET /passport/scans/{token} serves the one-time
// links of the webhook events' scans (delivery.include_files): it uses
// the link up (Scans.Take), downloads the scan from Telegram
// (Scans.Download) and decrypts it into the answer as it arrives
// (passport.DecryptFile: memory stays bounded), with its Content-Type,
// Content-Length and SHA-256 (hex, ScanSHA256Header). The decrypted bytes
// are checked against the file's hash and the link's size and SHA-256; a
// failure after the first byte cuts the connection, so the answer is
// shorter than its Content-Length. An unknown, expired or used link gets
// 404 with a short text saying so and what to do; while Scans.Ready
// fails (the bot is starting or reconnecting to Telegram), or the
// storage fails, 503 with Retry-After, the link unused. A download that
// fails before the first byte puts the link back (Scans.Restore) and
// answers 503 with Retry-After too; a scan that does not decrypt answers
// 502, the link used up. HEAD gets 405: it
// would use the link up. The links only exist on PublicURL, which is
// https (or http on localhost), and any instance serves any link.
//
// An unknown or expired request gets 404 and a friendly page asking the
// user to get a new link from the bot. The callback page records the
// outcome (Backend.RecordOutcome) of a known request and tells the user to
// go back to the chat; it answers 200 whatever it was given.
//
// # Language
//
// Pages are in the request's language (Request.Lang, matched with
// i18n.Catalog.Language); pages without a request (expired, unknown) use the
// first language of the Accept-Language header the catalog supports, else
// the catalog's default. Persian and Arabic pages are laid out right to
// left (<html dir="rtl">).
//
// # Security
//
// Pages are rendered by html/template, so every text, name and URL is
// escaped for its context. Pages load nothing from other hosts: no
// scripts, fonts, images or styles; from this server, the logo alone. One
// inline style sheet and one tiny inline script are allowed by a fresh
// Content-Security-Policy nonce per response, and images from data: URLs
// (the empty favicon) and, with a logo, from exactly the logo's URL:
//
//	default-src 'none'; style-src 'nonce-…'; script-src 'nonce-…';
//	img-src data: [<PublicURL>/passport/logo]; base-uri 'none';
//	form-action 'none'; frame-ancestors 'none'
//
// The QR code and the icons are inline SVG markup, which loads nothing.
// The logo is served with default-src 'none'; style-src 'unsafe-inline';
// sandbox: an SVG logo runs nothing, shown in the page through <img> or
// opened on its own. Responses that are not pages get default-src 'none'
// without nonces.
// Every response also carries Referrer-Policy: no-referrer (the request
// page URL is a bearer link), Cache-Control: no-store,
// X-Content-Type-Options: nosniff, X-Frame-Options: DENY,
// Cross-Origin-Opener-Policy: same-origin and
// Cross-Origin-Resource-Policy: same-origin; pages carry
// Content-Language. HSTS is left to the TLS-terminating proxy in front.
// The deep link goes into the page as a template.URL (html/template would
// otherwise refuse its tg: scheme) only after passport.Link.URL validated
// and percent-encoded every part of it. The callback endpoint is not
// authenticated (the Telegram app simply opens the URL), so an outcome is
// a hint about what the user saw, never proof of anything: it is recorded
// only for a known request, with the error code reduced to Telegram's known
// codes.
//
// Logs carry a short hash of the request ID at most, never the nonce,
// request IDs or anything personal.
//
// # Wiring
//
// Of kycbot's packages, web imports passport and i18n only (and
// golang.org/x/text/language for Accept-Language): storage comes in through
// the Backend interface, configuration through Options, so bot wires it to
// store and config.
package web
