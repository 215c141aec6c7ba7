// Package verify checks decrypted Telegram Passport submissions against a
// business's scope and policy and says what is wrong, precisely enough for a
// person to fix it.
//
// A Checker (New) runs go-playground/validator v10 over the Passport data
// types, reporting failing fields under Telegram's own JSON field names, and
// struct-level rules for the policy: ages, citizenship and residence
// allow/deny lists, document expiry and validity, post code formats,
// residence/address agreement, required scans, scan counts, (from a
// ScanInspector fed while a file is decrypted) JPEG format, size and pixel
// size, and (from MeasureSharpness, which decodes the scan: a focus
// measure, the variance of the Laplacian) sharpness. Document numbers are
// checked against the formats and check digits of the issuing state
// (package docno; DocumentRules.CheckNumbers, on by default), the issuer
// taken from personal_details: the citizenship for passports, identity
// cards and internal passports, the residence for driving licences, the
// other country tried second (docno.IssuingCountries says why). A number
// that one of them refuses and none accepts is CodeWrongDocumentNumber on
// document_no, a problem the user fixes; countries without a rule, and submissions
// without personal details, keep the plausibility check only. It also
// checks that the submission satisfies the scope.
//
// The result is an ordered list of Problems: element, target (a data field,
// a scan, or the whole element), a stable Code, parameters for the message,
// and whether the problem is final. SecureValueErrors turns problems into
// the tg.SecureValueError* values for users.setSecureValueErrors with the
// hashes Telegram apps expect. Texts for people are not made here (see
// package i18n).
//
// The clock is injected (WithClock), so checks are deterministic on any
// date.
package verify
