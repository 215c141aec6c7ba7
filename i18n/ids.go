package i18n

// Message IDs. Each constant names one message of the catalogs; the comment
// says when it is shown and which template data it uses (keys of the data
// map passed to Text or Plural, used as {{.Key}} in the texts). Keys marked
// "optional" may be left out; other keys should be given (a missing key is
// rendered as an empty string and reported to the error handler).
//
// Messages marked "plural" are rendered with Plural, which adds .Count.
const (
	// MsgStartGreeting answers /start: who the bot is; the request message
	// with its button follows it.
	MsgStartGreeting = "start.greeting"
	// MsgStartExplain heads the message of a new request: what will be
	// asked. Data: .Documents,
	// the list of requested documents, one per line, built by the caller
	// (for example with Localizer.Element, OrList and Capitalize).
	MsgStartExplain = "start.explain"
	// MsgStartPasswordNote warns that Telegram Passport asks for the cloud
	// password (two-step verification) and says where to set one.
	MsgStartPasswordNote = "start.password_note"
	// MsgRequestPasswordNote is the cloud password note of the chat's
	// request message: one short sentence and where to set one.
	MsgRequestPasswordNote = "request.password_note"
	// MsgRequestWaiting is sent with the request button: tap it, share the
	// documents, the button works for .Count minutes. Plural (.Count).
	MsgRequestWaiting = "request.waiting"
	// MsgRequestStillOpen answers /verify or /start while the user's
	// request at that level is still open, with the same button again: one
	// line. Plural (.Count: the minutes it still works).
	MsgRequestStillOpen = "request.still_open"
	// MsgRequestExpired says the request link has expired and asks to tap
	// /verify again.
	MsgRequestExpired = "request.expired"
	// MsgVerifyAlreadyVerified answers /verify or /start from a user who is
	// already verified.
	MsgVerifyAlreadyVerified = "verify.already_verified"
	// MsgVerifyAlreadyVerifiedLevel answers /verify at a level the user is
	// verified at when another level is left; the next step
	// (MsgStatusNextLevel) follows it. Data: .Level (the level's title).
	MsgVerifyAlreadyVerifiedLevel = "verify.already_verified_level"
	// MsgVerifyInProgress answers /verify while a submission is being
	// checked.
	MsgVerifyInProgress = "verify.in_progress"
	// MsgVerifyUnknownLevel answers /verify with a level that is not
	// configured. Data: .Levels (the configured level names,
	// comma-separated).
	MsgVerifyUnknownLevel = "verify.unknown_level"
	// MsgSupportContact names whom to contact (after a final rejection,
	// in /help). Data: .Support (a @username, an https URL or an e-mail
	// address).
	MsgSupportContact = "support.contact"

	// MsgButtonShare is the label of the inline button that opens the
	// request page.
	MsgButtonShare = "button.share"
	// MsgButtonTryAgain is the label of the button under the list of
	// problems to fix.
	MsgButtonTryAgain = "button.try_again"
	// MsgButtonDeleteUser is the label of the button that confirms
	// /kyc_delete. Data: .User (the user ID).
	MsgButtonDeleteUser = "button.delete_user"

	// MsgSubmissionReceived says the data arrived and is being checked.
	MsgSubmissionReceived = "submission.received"
	// MsgSubmissionDelayed says the check takes longer than usual and the
	// bot will write when it is done.
	MsgSubmissionDelayed = "submission.delayed"
	// MsgSubmissionUndecryptable says the data could not be decrypted and
	// asks the user to share it again.
	MsgSubmissionUndecryptable = "submission.undecryptable"
	// MsgSubmissionFailed says the check could not be finished because of a
	// problem on the bot's side (after the request was used) and asks the
	// user to share again.
	MsgSubmissionFailed = "submission.failed"

	// MsgResultVerified tells the user they are verified.
	MsgResultVerified = "result.verified"
	// MsgResultRejected is the final, polite rejection. Data: .Reason, one
	// or more lines built by the caller (usually Localizer.Problem texts of
	// the final problems); .Support (optional), whom to contact.
	MsgResultRejected = "result.rejected"
	// MsgResultDuplicate refuses a submission whose identity document or
	// person another account was verified with (rules.duplicates: refuse),
	// for good and without naming the other account. Data: .Support
	// (optional), whom to contact.
	MsgResultDuplicate = "result.duplicate"
	// MsgResultReview tells the user their documents passed the checks and
	// a person will look at them; the bot writes once decided.
	MsgResultReview = "result.review"
	// MsgReviewRejected is the reason of a rejection an admin decided on
	// the review page (the .Reason of MsgResultRejected).
	MsgReviewRejected = "review.rejected"
	// MsgResultFixHeader heads the list of problems the user can fix.
	// Plural (.Count, the number of problems).
	MsgResultFixHeader = "result.fix_header"
	// MsgResultFixUnmarked heads the list of problems the user can fix when
	// they could not be marked in the Telegram Passport form
	// (users.setSecureValueErrors failed): the list in the chat is all the
	// user gets. Plural (.Count, the number of problems).
	MsgResultFixUnmarked = "result.fix_unmarked"

	// MsgStatusNone answers /status before any verification.
	MsgStatusNone = "status.none"
	// MsgStatusPending answers /status while a submission is checked.
	// Data: .Since (a date or time formatted by the caller).
	MsgStatusPending = "status.pending"
	// MsgStatusRequested answers /status when the user has a live request
	// but has not shared their documents yet.
	MsgStatusRequested = "status.requested"
	// MsgStatusNeedsFixes answers /status when problems wait to be fixed.
	// Data: .Since.
	MsgStatusNeedsFixes = "status.needs_fixes"
	// MsgStatusVerified answers /status for a verified user. Data: .Since.
	MsgStatusVerified = "status.verified"
	// MsgStatusVerifiedUntil answers /status for a verified user whose
	// verification holds until a known day (the earliest expiry of the
	// documents), and says what to do after it. Data: .Since, .Until
	// (dates formatted by the caller).
	MsgStatusVerifiedUntil = "status.verified_until"
	// MsgStatusRejected answers /status after a final rejection.
	// Data: .Since.
	MsgStatusRejected = "status.rejected"
	// MsgStatusReview answers /status (and /verify) while a person reviews
	// the documents. Data: .Since.
	MsgStatusReview = "status.review"
	// MsgStatusLevel is one line of /status when several levels are
	// configured. Data: .Level (the level name), .Status (one of the
	// MsgStatus* texts).
	MsgStatusLevel = "status.level"
	// MsgStatusNextBegin ends /status (one level, nothing started yet):
	// the command to begin. Data: .Command ("/verify"), .Level (optional).
	MsgStatusNextBegin = "status.next_begin"
	// MsgStatusNext ends /status (one level, started, not done): the
	// command to go on. Data: .Command, .Level (optional).
	MsgStatusNext = "status.next"
	// MsgStatusNextLevel names the next step when there are several
	// levels, after /status and after "already verified": the level's
	// title and the command that asks for it. Data: .Level, .Command
	// ("/verify full").
	MsgStatusNextLevel = "status.next_level"

	// MsgHelp starts the answer to /help: what the bot does; the list of
	// the commands (built from the MsgCommand* descriptions) follows it.
	MsgHelp = "help.text"
	// MsgCancelDone confirms /cancel.
	MsgCancelDone = "cancel.done"
	// MsgCancelNothing answers /cancel when nothing is in progress.
	MsgCancelNothing = "cancel.nothing"
	// MsgHelpNotUnderstood answers plain text and unknown commands: point
	// to /help.
	MsgHelpNotUnderstood = "help.not_understood"

	// MsgOutcomeCancel is sent when the user closed the Telegram Passport
	// form without sharing, with a fresh request button: tap it or
	// /verify when ready.
	MsgOutcomeCancel = "outcome.cancel"
	// MsgOutcomeError is sent when Telegram Passport reported an error
	// instead of showing the form: update the app, try /verify again
	// later.
	MsgOutcomeError = "outcome.error"

	// MsgCommandStart and the other MsgCommand* messages are the command
	// descriptions for bots.setBotCommands (short, no trailing period).
	MsgCommandStart    = "command.start"
	MsgCommandVerify   = "command.verify"
	MsgCommandStatus   = "command.status"
	MsgCommandLanguage = "command.language"
	MsgCommandHelp     = "command.help"
	MsgCommandCancel   = "command.cancel"
	// MsgCommandDeleteMyData describes /delete_my_data.
	MsgCommandDeleteMyData = "command.delete_my_data"
	// MsgCommandKycStats and the other MsgCommandKyc* messages describe
	// the admin commands, registered for the admins only (in the default
	// language; short, no trailing period).
	MsgCommandKycStats  = "command.kyc_stats"
	MsgCommandKycStatus = "command.kyc_status"
	MsgCommandKycReset  = "command.kyc_reset"
	MsgCommandKycDelete = "command.kyc_delete"
	// MsgCommandKycResend describes /kyc_resend in the admins' menu.
	MsgCommandKycResend = "command.kyc_resend"

	// MsgLanguagePrompt answers /language above the language buttons.
	MsgLanguagePrompt = "language.prompt"
	// MsgLanguageChosen confirms the choice, in the chosen language.
	MsgLanguageChosen = "language.chosen"
	// MsgLanguageName is the language's own name ("English", "Русский"),
	// for the language buttons.
	MsgLanguageName = "language.name"

	// MsgPageTitle is the title of the request page.
	MsgPageTitle = "page.title"
	// MsgPageIntro is the first paragraph of the request page.
	MsgPageIntro = "page.intro"
	// MsgPageOpenButton is the label of the button that opens Telegram
	// Passport.
	MsgPageOpenButton = "page.open_button"
	// MsgPageFallback explains what to do when the Telegram app does not
	// open.
	MsgPageFallback = "page.fallback"
	// MsgPageExpiresMinutes says until when the request page's link works,
	// below its button: .Time is the time (the page shows it in the
	// browser's time zone), .Count the minutes left (plural).
	MsgPageExpiresMinutes = "page.expires_minutes"
	// MsgPageExpiresHours is MsgPageExpiresMinutes with .Count in hours
	// (from 90 minutes left).
	MsgPageExpiresHours = "page.expires_hours"
	// MsgPageQRTitle heads the QR code of the request page's own address,
	// shown on desktop computers to continue on a phone.
	MsgPageQRTitle = "page.qr_title"
	// MsgPageQRNote says what the QR code is for.
	MsgPageQRNote = "page.qr_note"
	// MsgPageQRLabel describes the QR code image for screen readers.
	MsgPageQRLabel = "page.qr_label"
	// MsgPageWebNote says that Telegram Web cannot open Telegram Passport
	// and where to open the page instead.
	MsgPageWebNote = "page.web_note"
	// MsgPageExpired is shown by the request page for an expired or unknown
	// request.
	MsgPageExpired = "page.expired"
	// MsgPageCallbackSuccess is shown after the user shared the data.
	MsgPageCallbackSuccess = "page.callback_success"
	// MsgPageCallbackCancel is shown after the user cancelled the form.
	MsgPageCallbackCancel = "page.callback_cancel"
	// MsgPageCallbackError is shown after Telegram reported an error.
	MsgPageCallbackError = "page.callback_error"
	// MsgPageAsking says who asks for the data, above the list of
	// requested documents. Data: .Bot (the bot's name as shown to people,
	// such as "@acme_kyc_bot").
	MsgPageAsking = "page.asking"
	// MsgPageScopeSelfie follows a requested identity document on the
	// request page: a selfie with the document is asked for too.
	MsgPageScopeSelfie = "page.scope_selfie"
	// MsgPageScopeTranslation follows a requested document on the request
	// page: a certified translation is asked for too.
	MsgPageScopeTranslation = "page.scope_translation"
	// MsgPageScopeSelfieTranslation follows a requested identity document
	// on the request page: a selfie and a certified translation are asked
	// for too.
	MsgPageScopeSelfieTranslation = "page.scope_selfie_translation"
	// MsgPageScopeNativeNames follows the personal details on the request
	// page: the name in the language of the country of residence is asked
	// for too.
	MsgPageScopeNativeNames = "page.scope_native_names"
	// MsgPageEncrypted reassures that the data is end-to-end encrypted for
	// the bot. Data: .Bot.
	MsgPageEncrypted = "page.encrypted"
	// MsgPagePrivacy is the label of the link to the privacy policy.
	MsgPagePrivacy = "page.privacy"
	// MsgPagePasswordTitle heads the note on the cloud password
	// (MsgStartPasswordNote) on the request page.
	MsgPagePasswordTitle = "page.password_title"
	// MsgPageFallbackTitle heads MsgPageFallback ("Nothing happened?").
	MsgPageFallbackTitle = "page.fallback_title"
	// MsgPageExpiredTitle heads MsgPageExpired.
	MsgPageExpiredTitle = "page.expired_title"
	// MsgPageCallbackSuccessTitle heads MsgPageCallbackSuccess.
	MsgPageCallbackSuccessTitle = "page.callback_success_title"
	// MsgPageCallbackCancelTitle heads MsgPageCallbackCancel.
	MsgPageCallbackCancelTitle = "page.callback_cancel_title"
	// MsgPageCallbackErrorTitle heads MsgPageCallbackError.
	MsgPageCallbackErrorTitle = "page.callback_error_title"
	// MsgPageCallbackUnknown is shown by the callback page when the address
	// carries no outcome it understands: close the page, go back to
	// Telegram.
	MsgPageCallbackUnknown = "page.callback_unknown"
	// MsgPageBackButton is the label of the button back to the chat with
	// the bot.
	MsgPageBackButton = "page.back_button"
	// MsgPageUnavailable is shown when the request page cannot be built
	// right now (storage unreachable): try again in a few minutes.
	MsgPageUnavailable = "page.unavailable"

	// MsgErrorInternal says something went wrong on the bot's side and it
	// is being retried; it never blames the user.
	MsgErrorInternal = "error.internal"
	// MsgErrorTryLater says a command could not be carried out because of
	// a problem on the bot's side (storage unreachable) and asks the user
	// to try again in a few minutes; it never blames the user.
	MsgErrorTryLater = "error.try_later"

	// MsgNonceUsed: the shared data answers a request that was already used.
	MsgNonceUsed = "nonce.used"
	// MsgNonceOtherUser: the request belongs to another Telegram account.
	MsgNonceOtherUser = "nonce.other_user"
	// MsgNonceNotFound: no such request is known.
	MsgNonceNotFound = "nonce.not_found"
	// MsgNonceExpired: the request expired before the data arrived.
	MsgNonceExpired = "nonce.expired"
	// MsgNonceSuperseded: a newer request replaced this one.
	MsgNonceSuperseded = "nonce.superseded"
	// MsgNonceCancelled: the user cancelled this request (/cancel).
	MsgNonceCancelled = "nonce.cancelled"

	// MsgAdminVerified notifies admins of a verified user, says where the
	// result went and how to look it up. Data: .User (an identifier
	// formatted by the caller, such as the user ID), .Level (the
	// verification level or scope name), .Ref (optional, the business's
	// reference from the deep link), .Event (optional: the webhook event
	// that carries the result), .Nowhere (optional: non-empty when results
	// go nowhere on purpose, delivery.none); with neither, the result went
	// to the bot's Go hook.
	MsgAdminVerified = "admin.verified"
	// MsgAdminRejected notifies admins of a final rejection. Data: .User,
	// .Codes (the problem codes, comma-separated), .Ref (optional).
	MsgAdminRejected = "admin.rejected"
	// MsgAdminDuplicate notifies admins of a submission that presented an
	// identity document or person another account was verified with.
	// Data: .User, .Owner (the user ID of the other account), .Level,
	// .Ref (optional).
	MsgAdminDuplicate = "admin.duplicate"
	// MsgAdminReview asks an admin to decide on a submission (manual
	// review), with a link of their own to the review page. Data: .User,
	// .Level, .Ref (optional), .Reasons (codes, comma-separated), .Owner
	// (optional: the other account of a duplicate), .Link (optional).
	MsgAdminReview = "admin.review"
	// MsgAdminReviewReminder reminds an admin of a review left undecided
	// (admin_notices.review_reminder), with a new link of their own. Data:
	// .User, .Level, .Ref (optional), .Since (when it was sent to review,
	// a date and time), .Link (optional).
	MsgAdminReviewReminder = "admin.review_reminder"
	// MsgAdminReviewExpired tells the admins a review expired undecided:
	// the submission kept for it is erased, the user's verification expired
	// and the user was told to verify again. Data: .User, .Days.
	MsgAdminReviewExpired = "admin.review_expired"
	// MsgAdminStateReview names the review state in /kyc_status and
	// /kyc_stats.
	MsgAdminStateReview = "admin.state_review"
	// MsgAdminWrongKey alarms admins that Passport data cannot be decrypted
	// because the public key registered with @BotFather does not match the
	// bot's private key, and says how to fix it.
	MsgAdminWrongKey = "admin.wrong_key"
	// MsgAdminPassportError alarms admins that Telegram Passport refuses
	// to open the form (the bot or its public key is misconfigured), and
	// says what to check. Data: .Code (Telegram's error code, such as
	// PUBLIC_KEY_INVALID).
	MsgAdminPassportError = "admin.passport_error"
	// MsgAdminDeliveriesParked alarms admins that results could not be
	// delivered to the business after every retry. Plural (.Count, the
	// number of parked deliveries).
	MsgAdminDeliveriesParked = "admin.deliveries_parked"

	// MsgAdminStatePending and the other MsgAdminState* messages name the
	// verification states in the admin commands' answers (lower case where
	// the language allows it).
	MsgAdminStatePending    = "admin.state_pending"
	MsgAdminStateNeedsFixes = "admin.state_needs_fixes"
	MsgAdminStateVerified   = "admin.state_verified"
	MsgAdminStateRejected   = "admin.state_rejected"
	// MsgAdminStats answers /kyc_stats. Data: .Day (the UTC day,
	// YYYY-MM-DD), .Today (the transitions into each state that day) and
	// .Total (the users now in each state): MsgAdminStatsLine lines, or
	// MsgAdminStatsNothing.
	MsgAdminStats = "admin.stats"
	// MsgAdminStatsLine is one counter of /kyc_stats. Data: .Level, .State
	// (a MsgAdminState* text), .Count.
	MsgAdminStatsLine = "admin.stats_line"
	// MsgAdminStatsNothing stands for an empty list of counters.
	MsgAdminStatsNothing = "admin.stats_nothing"
	// MsgAdminStatus answers /kyc_status. Data: .User (the user ID),
	// .Levels (MsgAdminStatusLine lines).
	MsgAdminStatus = "admin.status"
	// MsgAdminStatusLine is the status of one level in /kyc_status. Data:
	// .Level, .State (a MsgAdminState* text), .Updated and .Created (UTC
	// times formatted by the caller), .Codes (optional, the problem codes,
	// comma-separated), .Ref (optional).
	MsgAdminStatusLine = "admin.status_line"
	// MsgAdminStatusUnknown answers /kyc_status for a user without any
	// status. Data: .User.
	MsgAdminStatusUnknown = "admin.status_unknown"
	// MsgAdminResetDone confirms /kyc_reset: the user can verify again.
	// Data: .User, .Levels (MsgAdminResetItem texts joined with
	// MsgListSeparator).
	MsgAdminResetDone = "admin.reset_done"
	// MsgAdminResetItem is one level reset by /kyc_reset. Data: .Level,
	// .State (a MsgAdminState* text: the state before the reset).
	MsgAdminResetItem = "admin.reset_item"
	// MsgAdminResetNothing answers /kyc_reset when the user has no status
	// (at the level given). Data: .User, .Level (optional, the level the
	// admin named).
	MsgAdminResetNothing = "admin.reset_nothing"
	// MsgAdminDeleteConfirm answers /kyc_delete above the confirmation
	// button (MsgButtonDeleteUser): what will be erased, that it cannot be
	// undone and that the user will be told. Data: .User.
	MsgAdminDeleteConfirm = "admin.delete_confirm"
	// MsgAdminDeleteDone confirms the deletion. Data: .User, .Count (how
	// many keys and entries were removed).
	MsgAdminDeleteDone = "admin.delete_done"
	// MsgAdminDeleteNothing answers the confirmation when nothing was
	// stored about the user (already deleted): the user was not told.
	// Data: .User.
	MsgAdminDeleteNothing = "admin.delete_nothing"
	// MsgAdminDeleteNotTold follows MsgAdminDeleteDone when the deletion
	// notice could not be sent to the user. Data: .User.
	MsgAdminDeleteNotTold = "admin.delete_not_told"
	// MsgAdminDeleteExpired answers a tap on a confirmation button that
	// is too old (a callback answer: at most 200 characters). Data: .User.
	MsgAdminDeleteExpired = "admin.delete_expired"
	// MsgAdminUsageStatus, MsgAdminUsageReset and MsgAdminUsageDelete
	// answer an admin command with missing or bad arguments: how to write
	// it, with an example.
	MsgAdminUsageStatus = "admin.usage_status"
	MsgAdminUsageReset  = "admin.usage_reset"
	MsgAdminUsageDelete = "admin.usage_delete"
	// MsgAdminUsageResend answers /kyc_resend without a valid event ID.
	MsgAdminUsageResend = "admin.usage_resend"
	// MsgAdminResendDone answers /kyc_resend: the event is queued again.
	// Data: .Event (its ID), .Kind, .User.
	MsgAdminResendDone = "admin.resend_done"
	// MsgAdminResendUnknown answers /kyc_resend for an event not kept
	// (or without a webhook). Data: .Event.
	MsgAdminResendUnknown = "admin.resend_unknown"
	// MsgDeletedNotice tells a user, politely, that the data of their
	// verification was deleted (by an admin, with /kyc_delete) and how to
	// verify again.
	MsgDeletedNotice = "deleted.notice"
	// MsgEraseConfirm answers /delete_my_data: what will be erased, that
	// it cannot be undone, with the buttons MsgButtonEraseYes and
	// MsgButtonEraseNo.
	MsgEraseConfirm = "erase.confirm"
	// MsgButtonEraseYes and MsgButtonEraseNo label the buttons of
	// MsgEraseConfirm.
	MsgButtonEraseYes = "button.erase_yes"
	MsgButtonEraseNo  = "button.erase_no"
	// MsgEraseDone confirms that the user's data was erased.
	MsgEraseDone = "erase.done"
	// MsgEraseNothing answers the confirmation when nothing was stored.
	MsgEraseNothing = "erase.nothing"
	// MsgEraseKept answers MsgButtonEraseNo: nothing was erased.
	MsgEraseKept = "erase.kept"
	// MsgEraseExpired answers a tap on an old confirmation button (a
	// callback answer: at most 200 characters).
	MsgEraseExpired = "erase.expired"

	// MsgBadgeDescription is the description of the bot's verification
	// badge on a verified user's profile, shown to everyone (at most 70
	// characters once rendered; longer is cut). Data: .Level (the level's
	// title), .Until (optional: the date the verification ends).
	MsgBadgeDescription = "badge.description"
	// MsgAdminBadgeForbidden alarms admins that Telegram refuses the bot
	// as a verifier (BOT_VERIFIER_FORBIDDEN), and says what to do.
	MsgAdminBadgeForbidden = "admin.badge_forbidden"
	// MsgAdminStateRevoked and MsgAdminStateExpired name the revoked and
	// expired states in the admin commands' answers.
	MsgAdminStateRevoked = "admin.state_revoked"
	MsgAdminStateExpired = "admin.state_expired"
	// MsgStatusRevoked and MsgStatusExpired tell the user (/status) that
	// their verification was revoked, or expired. Data: .Since.
	MsgStatusRevoked = "status.revoked"
	MsgStatusExpired = "status.expired"
	// MsgStatusReviewExpired tells the user (/status) that their case was
	// left undecided past the review's retention and their documents were
	// erased (the expiry's reason review_expired). Data: .Since.
	MsgStatusReviewExpired = "status.review_expired"
	// MsgCommandKycRevoke describes /kyc_revoke in the admins' menu.
	MsgCommandKycRevoke = "command.kyc_revoke"
	// MsgAdminUsageRevoke answers /kyc_revoke with missing or bad
	// arguments.
	MsgAdminUsageRevoke = "admin.usage_revoke"
	// MsgAdminRevokeDone confirms /kyc_revoke. Data: .User, .Levels (the
	// levels revoked, joined with MsgListSeparator), .Reason (the code),
	// .Told (optional: set when the user was told).
	MsgAdminRevokeDone = "admin.revoke_done"
	// MsgAdminRevokeNothing answers /kyc_revoke for a user without a
	// valid verification. Data: .User.
	MsgAdminRevokeNothing = "admin.revoke_nothing"
	// MsgRevokedNotice tells a user that an admin revoked their
	// verification. Data: .Level (the level's title).
	MsgRevokedNotice = "revoked.notice"
	// MsgReverifyReminder reminds a user that their verification ends
	// soon, above the button MsgButtonReverify. Data: .Level (the level's
	// title), .Until (the date it ends).
	MsgReverifyReminder = "reverify.reminder"
	// MsgExpiredNotice tells a user that their verification expired,
	// above the button MsgButtonReverify. Data: .Level (the level's
	// title).
	MsgExpiredNotice = "expired.notice"
	// MsgReviewExpiredNotice tells a user that their documents were left
	// undecided in manual review past its retention and erased, with the
	// one-tap re-verification button. Data: Level.
	MsgReviewExpiredNotice = "expired.review_notice"
	// MsgButtonReverify labels the one-tap re-verification button.
	MsgButtonReverify = "button.reverify"

	// MsgListSeparator joins the items of a list but the last two (", ").
	MsgListSeparator = "list.separator"
	// MsgListOr joins the last item of a list of alternatives. Data: .Items
	// (the items before the last, already joined), .Last.
	MsgListOr = "list.or"
	// MsgDateTimeUTC joins a date and a time of day in UTC
	// (Localizer.DateTime). Data: .Date, .Time (both written by the
	// Localizer from CLDR data).
	MsgDateTimeUTC = "date.time_utc"
)

// Names of the Telegram Passport element types, written to fit inside a
// sentence (lower case where the language allows it). Localizer.Element
// picks them.
const (
	MsgElementPersonalDetails       = "element.personal_details"
	MsgElementPassport              = "element.passport"
	MsgElementDriverLicense         = "element.driver_license"
	MsgElementIdentityCard          = "element.identity_card"
	MsgElementInternalPassport      = "element.internal_passport"
	MsgElementAddress               = "element.address"
	MsgElementUtilityBill           = "element.utility_bill"
	MsgElementBankStatement         = "element.bank_statement"
	MsgElementRentalAgreement       = "element.rental_agreement"
	MsgElementPassportRegistration  = "element.passport_registration"
	MsgElementTemporaryRegistration = "element.temporary_registration"
	MsgElementPhoneNumber           = "element.phone_number"
	MsgElementEmail                 = "element.email"
)

// Names of the data fields of personal details, identity documents and the
// address, as Telegram apps label them. Localizer.Field picks them. The
// country_code field of the address has its own name
// (MsgFieldAddressCountryCode, "country"); country_code of personal
// details is the citizenship.
const (
	MsgFieldFirstName            = "field.first_name"
	MsgFieldMiddleName           = "field.middle_name"
	MsgFieldLastName             = "field.last_name"
	MsgFieldBirthDate            = "field.birth_date"
	MsgFieldGender               = "field.gender"
	MsgFieldCountryCode          = "field.country_code"
	MsgFieldResidenceCountryCode = "field.residence_country_code"
	MsgFieldFirstNameNative      = "field.first_name_native"
	MsgFieldMiddleNameNative     = "field.middle_name_native"
	MsgFieldLastNameNative       = "field.last_name_native"
	MsgFieldDocumentNo           = "field.document_no"
	MsgFieldExpiryDate           = "field.expiry_date"
	MsgFieldStreetLine1          = "field.street_line1"
	MsgFieldStreetLine2          = "field.street_line2"
	MsgFieldCity                 = "field.city"
	MsgFieldState                = "field.state"
	MsgFieldAddressCountryCode   = "field.address_country_code"
	MsgFieldPostCode             = "field.post_code"
)

// Names of the scans of an element (the targets of problems that are not
// data fields). Localizer.Part picks them.
const (
	// MsgPartFrontSide names the front side scan.
	MsgPartFrontSide = "part.front_side"
	// MsgPartReverseSide names the reverse side scan.
	MsgPartReverseSide = "part.reverse_side"
	// MsgPartSelfie names the selfie with the document.
	MsgPartSelfie = "part.selfie"
	// MsgPartFile names one scan of an address document. Data: .Number
	// (1-based).
	MsgPartFile = "part.file"
	// MsgPartFiles names all scans of an address document.
	MsgPartFiles = "part.files"
	// MsgPartTranslation names one translation scan. Data: .Number
	// (1-based).
	MsgPartTranslation = "part.translation"
	// MsgPartTranslations names all translation scans.
	MsgPartTranslations = "part.translations"
	// MsgPartElement names the element as a whole.
	MsgPartElement = "part.element"
)

// Problem messages, one per verify.Code ("problem." + code), rendered by
// Localizer.Problem. Every problem message may use .Element and
// .ElementCap (the element name, and the same capitalized), .Field and
// .FieldCap (the data field name for "data.<field>" targets, else empty),
// .Part and .PartCap (the scan name for scan targets and "element", else
// empty), plus the problem's parameters in CamelCase (listed per message).
// Parameters holding a country code also come as a localized country name
// (.CountryName, .AddressCountryName, .ResidenceCountryName).
const (
	// MsgProblemMissingElement: a required element is absent.
	MsgProblemMissingElement = "problem.missing_element"
	// MsgProblemMissingOneOf: none of the accepted documents was shared.
	// Data: .Types (the element types, comma-separated) and .TypeNames
	// (their names joined with OrList).
	MsgProblemMissingOneOf = "problem.missing_one_of"
	// MsgProblemMissingField: a required field is empty (.Field is empty
	// when the element has no data at all).
	MsgProblemMissingField = "problem.missing_field"
	// MsgProblemTooLong: a field is too long. Plural on .Max (characters).
	MsgProblemTooLong = "problem.too_long"
	// MsgProblemNotLatin: a field must be written in Latin letters.
	MsgProblemNotLatin = "problem.not_latin"
	// MsgProblemInvalidDate: a date is not a real DD.MM.YYYY date.
	MsgProblemInvalidDate = "problem.invalid_date"
	// MsgProblemDateInFuture: the date of birth is in the future. Data: .Date.
	MsgProblemDateInFuture = "problem.date_in_future"
	// MsgProblemTooYoung: below the minimum age (final). Plural on .MinAge;
	// data: .Age.
	MsgProblemTooYoung = "problem.too_young"
	// MsgProblemTooOld: above the maximum age (final). Plural on .MaxAge;
	// data: .Age.
	MsgProblemTooOld = "problem.too_old"
	// MsgProblemInvalidGender: gender is not male or female.
	MsgProblemInvalidGender = "problem.invalid_gender"
	// MsgProblemInvalidCountry: not a known country.
	MsgProblemInvalidCountry = "problem.invalid_country"
	// MsgProblemCountryNotAllowed: the country is excluded (final).
	// Data: .Country, .CountryName.
	MsgProblemCountryNotAllowed = "problem.country_not_allowed"
	// MsgProblemInvalidDocumentNumber: the document number is implausible.
	MsgProblemInvalidDocumentNumber = "problem.invalid_document_number"
	// MsgProblemWrongDocumentNumber: the document number does not fit the
	// format or check digit of the country taken as its issuer. Data:
	// .Country, .CountryName.
	MsgProblemWrongDocumentNumber = "problem.wrong_document_number"
	// MsgProblemExpiryRequired: the document needs an expiry date.
	MsgProblemExpiryRequired = "problem.expiry_required"
	// MsgProblemExpired: the document has expired. Data: .Date.
	MsgProblemExpired = "problem.expired"
	// MsgProblemExpiresSoon: the document expires too soon. Plural on
	// .MinDays; data: .Date.
	MsgProblemExpiresSoon = "problem.expires_soon"
	// MsgProblemInvalidPostCode: the post code does not fit the country.
	// Data: .Country, .CountryName.
	MsgProblemInvalidPostCode = "problem.invalid_post_code"
	// MsgProblemResidenceMismatch: the address country differs from the
	// country of residence. Data: .AddressCountry, .AddressCountryName,
	// .ResidenceCountry, .ResidenceCountryName.
	MsgProblemResidenceMismatch = "problem.residence_mismatch"
	// MsgProblemMissingFrontSide: the front side scan is absent.
	MsgProblemMissingFrontSide = "problem.missing_front_side"
	// MsgProblemMissingReverseSide: the reverse side scan is absent.
	MsgProblemMissingReverseSide = "problem.missing_reverse_side"
	// MsgProblemMissingSelfie: the selfie is absent.
	MsgProblemMissingSelfie = "problem.missing_selfie"
	// MsgProblemMissingTranslation: the translation is absent.
	MsgProblemMissingTranslation = "problem.missing_translation"
	// MsgProblemMissingFiles: the scans of an address document are absent.
	MsgProblemMissingFiles = "problem.missing_files"
	// MsgProblemTooManyFiles: more scans than allowed. Plural on .Max.
	MsgProblemTooManyFiles = "problem.too_many_files"
	// MsgProblemNotJPEG: a scan is not a JPEG image.
	MsgProblemNotJPEG = "problem.not_jpeg"
	// MsgProblemFileTooLarge: a scan is too large. Data: .MaxMB.
	MsgProblemFileTooLarge = "problem.file_too_large"
	// MsgProblemImageTooSmall: a scan has too few pixels. Data: .Width,
	// .Height, .MinWidth, .MinHeight.
	MsgProblemImageTooSmall = "problem.image_too_small"
	// MsgProblemImageBlurry: a scan measured blurry (verify.Sharpness
	// below the policy's minimum).
	MsgProblemImageBlurry = "problem.image_blurry"
	// MsgProblemUnknown is used for a problem code this package does not
	// know (a newer verify package): a generic text about the element.
	MsgProblemUnknown = "problem.unknown"
)

// Texts of the manual review page on the ops server (package web), in
// the admins' language (the catalog's default language).
const (
	// MsgReviewPageTitle heads the page of a case. Data: .User (the user ID).
	MsgReviewPageTitle = "review_page.title"
	// MsgReviewPageTitleDefault is the page's title when nothing more fits.
	MsgReviewPageTitleDefault = "review_page.title_default"
	// MsgReviewPageUser labels the user ID.
	MsgReviewPageUser = "review_page.user"
	// MsgReviewPageLevel labels the level.
	MsgReviewPageLevel = "review_page.level"
	// MsgReviewPageRef labels the business's reference.
	MsgReviewPageRef = "review_page.ref"
	// MsgReviewPageReasons labels why the case is reviewed (the reason codes).
	MsgReviewPageReasons = "review_page.reasons"
	// MsgReviewPageOwner labels the other account of a duplicate.
	MsgReviewPageOwner = "review_page.owner"
	// MsgReviewPageOwnerUser names that account. Data: .Owner (its user ID).
	MsgReviewPageOwnerUser = "review_page.owner_user"
	// MsgReviewPageReceived labels when the case was sent to review.
	MsgReviewPageReceived = "review_page.received"
	// MsgReviewPageScreening heads the watchlist hits.
	MsgReviewPageScreening = "review_page.screening"
	// MsgReviewPageScreeningNote says what the hits are: screened again now, a reason to look, not a verdict.
	MsgReviewPageScreeningNote = "review_page.screening_note"
	// MsgReviewPageHitList heads the hits' column of the list's name.
	MsgReviewPageHitList = "review_page.hit_list"
	// MsgReviewPageHitEntry heads the column of the entry's ID.
	MsgReviewPageHitEntry = "review_page.hit_entry"
	// MsgReviewPageHitName heads the column of the entry's name that matched.
	MsgReviewPageHitName = "review_page.hit_name"
	// MsgReviewPageHitAlias marks that name as an alias.
	MsgReviewPageHitAlias = "review_page.hit_alias"
	// MsgReviewPageHitScore heads the column of the final score.
	MsgReviewPageHitScore = "review_page.hit_score"
	// MsgReviewPageHitNameScore heads the column of the names' similarity.
	MsgReviewPageHitNameScore = "review_page.hit_name_score"
	// MsgReviewPageHitBirthDate heads the column of how the dates of birth compared.
	MsgReviewPageHitBirthDate = "review_page.hit_birth_date"
	// MsgReviewPageHitNationality heads the column of how the nationalities compared.
	MsgReviewPageHitNationality = "review_page.hit_nationality"
	// MsgReviewPageVerdictSame a date of birth or nationality that is the same.
	MsgReviewPageVerdictSame = "review_page.verdict_same"
	// MsgReviewPageVerdictCompatible a partial date of birth on the list that fits.
	MsgReviewPageVerdictCompatible = "review_page.verdict_compatible"
	// MsgReviewPageVerdictDifferent known on both sides, and different.
	MsgReviewPageVerdictDifferent = "review_page.verdict_different"
	// MsgReviewPageVerdictUnknown missing on one side.
	MsgReviewPageVerdictUnknown = "review_page.verdict_unknown"
	// MsgReviewPageNoHits says no entry matches any more (the lists changed).
	MsgReviewPageNoHits = "review_page.no_hits"
	// MsgReviewPageApprove is the Approve button and its heading.
	MsgReviewPageApprove = "review_page.approve"
	// MsgReviewPageApproveNote says what approving does.
	MsgReviewPageApproveNote = "review_page.approve_note"
	// MsgReviewPageReject is the Reject button and its heading.
	MsgReviewPageReject = "review_page.reject"
	// MsgReviewPageRejectNote says what rejecting does.
	MsgReviewPageRejectNote = "review_page.reject_note"
	// MsgReviewPageFix is the Ask to fix button and its heading.
	MsgReviewPageFix = "review_page.fix"
	// MsgReviewPageFixNote says what asking to fix does.
	MsgReviewPageFixNote = "review_page.fix_note"
	// MsgReviewPageForbiddenTitle heads the refusal of a link not for an admin.
	MsgReviewPageForbiddenTitle = "review_page.forbidden_title"
	// MsgReviewPageForbidden explains it.
	MsgReviewPageForbidden = "review_page.forbidden"
	// MsgReviewPageInvalidTitle heads the refusal of a used, expired or unknown link.
	MsgReviewPageInvalidTitle = "review_page.invalid_title"
	// MsgReviewPageInvalid explains it.
	MsgReviewPageInvalid = "review_page.invalid"
	// MsgReviewPageUnavailableTitle heads the page shown when Redis or Telegram cannot be reached.
	MsgReviewPageUnavailableTitle = "review_page.unavailable_title"
	// MsgReviewPageUnavailable explains it.
	MsgReviewPageUnavailable = "review_page.unavailable"
	// MsgReviewPageBadFormTitle heads the answer to a form that cannot be read.
	MsgReviewPageBadFormTitle = "review_page.bad_form_title"
	// MsgReviewPageBadForm explains it.
	MsgReviewPageBadForm = "review_page.bad_form"
	// MsgReviewPageNothingToFixTitle heads the answer to Ask to fix with nothing ticked.
	MsgReviewPageNothingToFixTitle = "review_page.nothing_to_fix_title"
	// MsgReviewPageNothingToFix explains it.
	MsgReviewPageNothingToFix = "review_page.nothing_to_fix"
	// MsgReviewPageRecordedTitle heads the answer to a decision recorded.
	MsgReviewPageRecordedTitle = "review_page.recorded_title"
	// MsgReviewPageRecorded says what happens next.
	MsgReviewPageRecorded = "review_page.recorded"
)

// spec describes one message: its ID, the template data keys it may use
// ("?" suffix: optional), and, for plural messages, the key holding the
// count ("Count" for messages rendered with Plural; a parameter key for
// problems).
type spec struct {
	id     string
	keys   []string
	plural string
}

// problemKeys returns the keys Localizer.Problem always sets (optional:
// they may be empty).
func problemKeys() []string {
	return []string{"Element?", "ElementCap?", "Field?", "FieldCap?", "Part?", "PartCap?"}
}

// problemSpec describes problem.<code> with its parameter names (as verify
// spells them); countParam, if not empty, is the parameter that selects the
// plural form.
func problemSpec(code, countParam string, params ...string) spec {
	keys := problemKeys()
	for _, p := range params {
		keys = append(keys, paramKey(p))
		if isCountryParam(p) {
			keys = append(keys, paramKey(p)+"Name")
		}
		if p == "types" {
			keys = append(keys, "TypeNames")
		}
	}
	s := spec{id: "problem." + code, keys: keys}
	if countParam != "" {
		s.plural = paramKey(countParam)
	}
	return s
}

// specs lists every message in a stable order: the source of MessageIDs
// and of the checks on catalogs and overrides.
func specs() []spec {
	plain := func(id string, keys ...string) spec { return spec{id: id, keys: keys} }
	plural := func(id string, keys ...string) spec { return spec{id: id, keys: keys, plural: "Count"} }
	s := []spec{
		plain(MsgStartGreeting),
		plain(MsgStartExplain, "Documents"),
		plain(MsgStartPasswordNote),
		plain(MsgRequestPasswordNote),
		plural(MsgRequestWaiting),
		plural(MsgRequestStillOpen),
		plain(MsgRequestExpired),
		plain(MsgVerifyAlreadyVerified),
		plain(MsgVerifyAlreadyVerifiedLevel, "Level"),
		plain(MsgVerifyInProgress),
		plain(MsgVerifyUnknownLevel, "Levels"),
		plain(MsgSupportContact, "Support"),
		plain(MsgButtonShare),
		plain(MsgButtonTryAgain),
		plain(MsgButtonDeleteUser, "User"),
		plain(MsgSubmissionReceived),
		plain(MsgSubmissionDelayed),
		plain(MsgSubmissionUndecryptable),
		plain(MsgSubmissionFailed),
		plain(MsgResultVerified),
		plain(MsgResultRejected, "Reason", "Support?"),
		plain(MsgResultDuplicate, "Support?"),
		plain(MsgResultReview),
		plain(MsgReviewRejected),
		plural(MsgResultFixHeader),
		plural(MsgResultFixUnmarked),
		plain(MsgStatusNone),
		plain(MsgStatusPending, "Since"),
		plain(MsgStatusRequested),
		plain(MsgStatusNeedsFixes, "Since"),
		plain(MsgStatusVerified, "Since"),
		plain(MsgStatusVerifiedUntil, "Since", "Until"),
		plain(MsgStatusRejected, "Since"),
		plain(MsgStatusReview, "Since"),
		plain(MsgStatusLevel, "Level", "Status"),
		plain(MsgStatusNextBegin, "Command", "Level?"),
		plain(MsgStatusNext, "Command", "Level?"),
		plain(MsgStatusNextLevel, "Level", "Command"),
		plain(MsgHelp),
		plain(MsgCancelDone),
		plain(MsgCancelNothing),
		plain(MsgHelpNotUnderstood),
		plain(MsgOutcomeCancel),
		plain(MsgOutcomeError),
		plain(MsgCommandStart),
		plain(MsgCommandVerify),
		plain(MsgCommandStatus),
		plain(MsgCommandLanguage),
		plain(MsgCommandHelp),
		plain(MsgCommandCancel),
		plain(MsgCommandDeleteMyData),
		plain(MsgCommandKycStats),
		plain(MsgCommandKycStatus),
		plain(MsgCommandKycReset),
		plain(MsgCommandKycDelete),
		plain(MsgCommandKycResend),
		plain(MsgLanguagePrompt),
		plain(MsgLanguageChosen),
		plain(MsgLanguageName),
		plain(MsgPageTitle),
		plain(MsgPageIntro),
		plain(MsgPageOpenButton),
		plain(MsgPageFallback),
		spec{id: MsgPageExpiresMinutes, keys: []string{"Time"}, plural: "Count"},
		spec{id: MsgPageExpiresHours, keys: []string{"Time"}, plural: "Count"},
		plain(MsgPageQRTitle),
		plain(MsgPageQRNote),
		plain(MsgPageQRLabel),
		plain(MsgPageWebNote),
		plain(MsgPageExpired),
		plain(MsgPageCallbackSuccess),
		plain(MsgPageCallbackCancel),
		plain(MsgPageCallbackError),
		plain(MsgPageAsking, "Bot"),
		plain(MsgPageScopeSelfie),
		plain(MsgPageScopeTranslation),
		plain(MsgPageScopeSelfieTranslation),
		plain(MsgPageScopeNativeNames),
		plain(MsgPageEncrypted, "Bot"),
		plain(MsgPagePrivacy),
		plain(MsgPagePasswordTitle),
		plain(MsgPageFallbackTitle),
		plain(MsgPageExpiredTitle),
		plain(MsgPageCallbackSuccessTitle),
		plain(MsgReviewPageTitle, "User"),
		plain(MsgReviewPageTitleDefault),
		plain(MsgReviewPageUser),
		plain(MsgReviewPageLevel),
		plain(MsgReviewPageRef),
		plain(MsgReviewPageReasons),
		plain(MsgReviewPageOwner),
		plain(MsgReviewPageOwnerUser, "Owner"),
		plain(MsgReviewPageReceived),
		plain(MsgReviewPageScreening),
		plain(MsgReviewPageScreeningNote),
		plain(MsgReviewPageHitList),
		plain(MsgReviewPageHitEntry),
		plain(MsgReviewPageHitName),
		plain(MsgReviewPageHitAlias),
		plain(MsgReviewPageHitScore),
		plain(MsgReviewPageHitNameScore),
		plain(MsgReviewPageHitBirthDate),
		plain(MsgReviewPageHitNationality),
		plain(MsgReviewPageVerdictSame),
		plain(MsgReviewPageVerdictCompatible),
		plain(MsgReviewPageVerdictDifferent),
		plain(MsgReviewPageVerdictUnknown),
		plain(MsgReviewPageNoHits),
		plain(MsgReviewPageApprove),
		plain(MsgReviewPageApproveNote),
		plain(MsgReviewPageReject),
		plain(MsgReviewPageRejectNote),
		plain(MsgReviewPageFix),
		plain(MsgReviewPageFixNote),
		plain(MsgReviewPageForbiddenTitle),
		plain(MsgReviewPageForbidden),
		plain(MsgReviewPageInvalidTitle),
		plain(MsgReviewPageInvalid),
		plain(MsgReviewPageUnavailableTitle),
		plain(MsgReviewPageUnavailable),
		plain(MsgReviewPageBadFormTitle),
		plain(MsgReviewPageBadForm),
		plain(MsgReviewPageNothingToFixTitle),
		plain(MsgReviewPageNothingToFix),
		plain(MsgReviewPageRecordedTitle),
		plain(MsgReviewPageRecorded),
		plain(MsgPageCallbackCancelTitle),
		plain(MsgPageCallbackErrorTitle),
		plain(MsgPageCallbackUnknown),
		plain(MsgPageBackButton),
		plain(MsgPageUnavailable),
		plain(MsgErrorInternal),
		plain(MsgErrorTryLater),
		plain(MsgNonceUsed),
		plain(MsgNonceOtherUser),
		plain(MsgNonceNotFound),
		plain(MsgNonceExpired),
		plain(MsgNonceSuperseded),
		plain(MsgNonceCancelled),
		plain(MsgAdminVerified, "User", "Level", "Ref?", "Event?", "Nowhere?"),
		plain(MsgAdminRejected, "User", "Codes", "Ref?"),
		plain(MsgAdminDuplicate, "User", "Owner", "Level", "Ref?"),
		plain(MsgAdminReview, "User", "Level", "Ref?", "Reasons", "Owner?", "Link?"),
		plain(MsgAdminReviewReminder, "User", "Level", "Ref?", "Since", "Link?"),
		plain(MsgAdminReviewExpired, "User", "Days"),
		plain(MsgAdminStateReview),
		plain(MsgAdminWrongKey),
		plain(MsgAdminPassportError, "Code"),
		plural(MsgAdminDeliveriesParked),
		plain(MsgAdminStatePending),
		plain(MsgAdminStateNeedsFixes),
		plain(MsgAdminStateVerified),
		plain(MsgAdminStateRejected),
		plain(MsgAdminStats, "Day", "Today", "Total"),
		plain(MsgAdminStatsLine, "Level", "State", "Count"),
		plain(MsgAdminStatsNothing),
		plain(MsgAdminStatus, "User", "Levels"),
		plain(MsgAdminStatusLine, "Level", "State", "Updated", "Created", "Codes?", "Ref?"),
		plain(MsgAdminStatusUnknown, "User"),
		plain(MsgAdminResetDone, "User", "Levels"),
		plain(MsgAdminResetItem, "Level", "State"),
		plain(MsgAdminResetNothing, "User", "Level?"),
		plain(MsgAdminDeleteConfirm, "User"),
		plain(MsgAdminDeleteDone, "User", "Count"),
		plain(MsgAdminDeleteNothing, "User"),
		plain(MsgAdminDeleteNotTold, "User"),
		plain(MsgAdminDeleteExpired, "User"),
		plain(MsgAdminUsageStatus),
		plain(MsgAdminUsageReset),
		plain(MsgAdminUsageDelete),
		plain(MsgAdminUsageResend),
		plain(MsgAdminResendDone, "Event", "Kind", "User"),
		plain(MsgAdminResendUnknown, "Event"),
		plain(MsgDeletedNotice),
		plain(MsgEraseConfirm),
		plain(MsgButtonEraseYes),
		plain(MsgButtonEraseNo),
		plain(MsgEraseDone),
		plain(MsgEraseNothing),
		plain(MsgEraseKept),
		plain(MsgEraseExpired),
		plain(MsgBadgeDescription, "Level", "Until?"),
		plain(MsgAdminBadgeForbidden),
		plain(MsgAdminStateRevoked),
		plain(MsgAdminStateExpired),
		plain(MsgStatusRevoked, "Since"),
		plain(MsgStatusExpired, "Since"),
		plain(MsgStatusReviewExpired, "Since"),
		plain(MsgCommandKycRevoke),
		plain(MsgAdminUsageRevoke),
		plain(MsgAdminRevokeDone, "User", "Levels", "Reason", "Told?"),
		plain(MsgAdminRevokeNothing, "User"),
		plain(MsgRevokedNotice, "Level"),
		plain(MsgReverifyReminder, "Level", "Until"),
		plain(MsgExpiredNotice, "Level"),
		plain(MsgReviewExpiredNotice, "Level"),
		plain(MsgButtonReverify),
		plain(MsgListSeparator),
		plain(MsgListOr, "Items", "Last"),
		plain(MsgDateTimeUTC, "Date", "Time"),
	}
	for _, id := range []string{
		MsgElementPersonalDetails, MsgElementPassport, MsgElementDriverLicense, MsgElementIdentityCard,
		MsgElementInternalPassport, MsgElementAddress, MsgElementUtilityBill, MsgElementBankStatement,
		MsgElementRentalAgreement, MsgElementPassportRegistration, MsgElementTemporaryRegistration,
		MsgElementPhoneNumber, MsgElementEmail,
		MsgFieldFirstName, MsgFieldMiddleName, MsgFieldLastName, MsgFieldBirthDate, MsgFieldGender,
		MsgFieldCountryCode, MsgFieldResidenceCountryCode, MsgFieldFirstNameNative,
		MsgFieldMiddleNameNative, MsgFieldLastNameNative, MsgFieldDocumentNo, MsgFieldExpiryDate,
		MsgFieldStreetLine1, MsgFieldStreetLine2, MsgFieldCity, MsgFieldState,
		MsgFieldAddressCountryCode, MsgFieldPostCode,
		MsgPartFrontSide, MsgPartReverseSide, MsgPartSelfie,
	} {
		s = append(s, plain(id))
	}
	s = append(s,
		plain(MsgPartFile, "Number"),
		plain(MsgPartFiles),
		plain(MsgPartTranslation, "Number"),
		plain(MsgPartTranslations),
		plain(MsgPartElement),
		problemSpec("missing_element", ""),
		problemSpec("missing_one_of", "", "types"),
		problemSpec("missing_field", ""),
		problemSpec("too_long", "max", "max"),
		problemSpec("not_latin", ""),
		problemSpec("invalid_date", ""),
		problemSpec("date_in_future", "", "date"),
		problemSpec("too_young", "min_age", "min_age", "age"),
		problemSpec("too_old", "max_age", "max_age", "age"),
		problemSpec("invalid_gender", ""),
		problemSpec("invalid_country", ""),
		problemSpec("country_not_allowed", "", "country"),
		problemSpec("invalid_document_number", ""),
		problemSpec("wrong_document_number", "", "country"),
		problemSpec("expiry_required", ""),
		problemSpec("expired", "", "date"),
		problemSpec("expires_soon", "min_days", "date", "min_days"),
		problemSpec("invalid_post_code", "", "country"),
		problemSpec("residence_mismatch", "", "address_country", "residence_country"),
		problemSpec("missing_front_side", ""),
		problemSpec("missing_reverse_side", ""),
		problemSpec("missing_selfie", ""),
		problemSpec("missing_translation", ""),
		problemSpec("missing_files", ""),
		problemSpec("too_many_files", "max", "max"),
		problemSpec("not_jpeg", ""),
		problemSpec("file_too_large", "", "max_mb"),
		problemSpec("image_too_small", "", "min_width", "min_height", "width", "height"),
		problemSpec("image_blurry", ""),
		problemSpec("unknown", ""),
	)
	return s
}

// MessageIDs returns the ID of every message, in a stable order (grouped
// as the constants are).
func MessageIDs() []string {
	ss := specs()
	ids := make([]string, len(ss))
	for i, s := range ss {
		ids[i] = s.id
	}
	return ids
}
