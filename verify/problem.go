package verify

import (
	"fmt"

	"github.com/gotd/td/tg"
	"github.com/kycbot/kycbot/passport"
)

// Code names a kind of problem. Codes are stable: they appear in audit
// events, statuses, webhooks and message IDs, so they never change meaning.
type Code string

// Problem codes. The comment of each names its parameters (Problem.Params).
const (
	// CodeMissingElement: a required element is absent. Params: none.
	CodeMissingElement Code = "missing_element"
	// CodeMissingOneOf: none of the accepted documents was shared.
	// Params: "types" (comma-separated element types).
	CodeMissingOneOf Code = "missing_one_of"
	// CodeMissingField: a required data field is empty. Params: none.
	CodeMissingField Code = "missing_field"
	// CodeTooLong: a field is longer than allowed. Params: "max" (characters).
	CodeTooLong Code = "too_long"
	// CodeNotLatin: a Latin-script field holds other characters. Params: none.
	CodeNotLatin Code = "not_latin"
	// CodeInvalidDate: a date is not a real DD.MM.YYYY date. Params: none.
	CodeInvalidDate Code = "invalid_date"
	// CodeDateInFuture: the birth date is after today. Params: "date".
	CodeDateInFuture Code = "date_in_future"
	// CodeTooYoung: the user is younger than the minimum age (final).
	// Params: "min_age", "age".
	CodeTooYoung Code = "too_young"
	// CodeTooOld: the user is older than the maximum age (final).
	// Params: "max_age", "age".
	CodeTooOld Code = "too_old"
	// CodeInvalidGender: gender is not male or female. Params: none.
	CodeInvalidGender Code = "invalid_gender"
	// CodeInvalidCountry: not an ISO 3166-1 alpha-2 code. Params: none.
	CodeInvalidCountry Code = "invalid_country"
	// CodeCountryNotAllowed: the country is excluded by policy (final).
	// Params: "country" (alpha-2 code).
	CodeCountryNotAllowed Code = "country_not_allowed"
	// CodeInvalidDocumentNumber: the document number is implausible. Params: none.
	CodeInvalidDocumentNumber Code = "invalid_document_number"
	// CodeWrongDocumentNumber: the document number does not fit the format
	// or the check digit of the country taken as its issuer (package docno,
	// DocumentRules.CheckNumbers). Params: "country" (alpha-2 code).
	CodeWrongDocumentNumber Code = "wrong_document_number"
	// CodeExpiryRequired: the document has no expiry date but policy needs one.
	// Params: none.
	CodeExpiryRequired Code = "expiry_required"
	// CodeExpired: the document has expired. Params: "date" (DD.MM.YYYY).
	CodeExpired Code = "expired"
	// CodeExpiresSoon: the document expires before the required validity.
	// Params: "date", "min_days".
	CodeExpiresSoon Code = "expires_soon"
	// CodeInvalidPostCode: the post code does not fit the country's format.
	// Params: "country".
	CodeInvalidPostCode Code = "invalid_post_code"
	// CodeResidenceMismatch: the address country differs from the country of
	// residence in personal details. Params: "address_country", "residence_country".
	CodeResidenceMismatch Code = "residence_mismatch"
	// CodeMissingFrontSide, CodeMissingReverseSide, CodeMissingSelfie,
	// CodeMissingTranslation, CodeMissingFiles: a required scan is absent.
	// Params: none.
	CodeMissingFrontSide   Code = "missing_front_side"
	CodeMissingReverseSide Code = "missing_reverse_side"
	CodeMissingSelfie      Code = "missing_selfie"
	CodeMissingTranslation Code = "missing_translation"
	CodeMissingFiles       Code = "missing_files"
	// CodeTooManyFiles: more scans than allowed. Params: "max".
	CodeTooManyFiles Code = "too_many_files"
	// CodeNotJPEG: a scan is not a decodable JPEG image. Params: none.
	CodeNotJPEG Code = "not_jpeg"
	// CodeFileTooLarge: a scan is larger than allowed. Params: "max_mb".
	CodeFileTooLarge Code = "file_too_large"
	// CodeImageTooSmall: a scan has fewer pixels than required.
	// Params: "min_width", "min_height", "width", "height".
	CodeImageTooSmall Code = "image_too_small"
	// CodeImageBlurry: a scan's measured sharpness is below the policy's
	// minimum (FileRules.MinSharpness): out of focus or shaken. Params:
	// none.
	CodeImageBlurry Code = "image_blurry"
)

// Codes lists every problem code in a stable order.
func Codes() []Code {
	return []Code{
		CodeMissingElement, CodeMissingOneOf, CodeMissingField, CodeTooLong, CodeNotLatin,
		CodeInvalidDate, CodeDateInFuture, CodeTooYoung, CodeTooOld, CodeInvalidGender,
		CodeInvalidCountry, CodeCountryNotAllowed, CodeInvalidDocumentNumber, CodeWrongDocumentNumber, CodeExpiryRequired,
		CodeExpired, CodeExpiresSoon, CodeInvalidPostCode, CodeResidenceMismatch,
		CodeMissingFrontSide, CodeMissingReverseSide, CodeMissingSelfie, CodeMissingTranslation,
		CodeMissingFiles, CodeTooManyFiles, CodeNotJPEG, CodeFileTooLarge, CodeImageTooSmall, CodeImageBlurry,
	}
}

// Problem is one thing wrong with a submission.
type Problem struct {
	// Element is the element the problem is about.
	Element passport.ElementType
	// Target is the part of the element: a data field, a scan, or the whole
	// element.
	Target passport.Target
	// Code says what is wrong.
	Code Code
	// Params fill the message for people (see each Code). They never hold
	// personal data beyond what the message must say (a date, a country).
	Params map[string]string
	// Final is true when the user cannot fix it by resubmitting (too young,
	// country not allowed): the verification is rejected.
	Final bool
}

// String describes the problem for logs: element, target and code only.
func (p Problem) String() string {
	return fmt.Sprintf("%s.%s: %s", p.Element, p.Target, p.Code)
}

// Result is the outcome of checking a submission.
type Result struct {
	// Problems in a stable order: by element in the order of the scope, then
	// by target.
	Problems []Problem
}

// OK reports whether the submission has no problems.
func (r Result) OK() bool { return len(r.Problems) == 0 }

// Final reports whether any problem is final (the verification must be
// rejected rather than sent back for fixes).
func (r Result) Final() bool {
	for _, p := range r.Problems {
		if p.Final {
			return true
		}
	}
	return false
}

// Codes returns the distinct problem codes, in order of first appearance.
func (r Result) Codes() []Code {
	seen := map[Code]bool{}
	var out []Code
	for _, p := range r.Problems {
		if !seen[p.Code] {
			seen[p.Code] = true
			out = append(out, p.Code)
		}
	}
	return out
}

// Texter returns the text shown in the user's Telegram app for a problem.
type Texter func(Problem) string

// SecureValueErrors turns problems into the errors for
// users.setSecureValueErrors, each with the hash the user's app expects
// (through passport.Element.ValueError). Problems about absent elements or
// absent scans cannot be pinned in the app and are skipped: they belong in
// the chat message. Several problems on the same target collapse into one
// error (the app shows one text per target), joined texts in order.
func SecureValueErrors(sub *passport.Submission, problems []Problem, text Texter) ([]tg.SecureValueErrorClass, error) {
	type key struct {
		el     passport.ElementType
		target passport.Target
	}
	var order []key
	texts := map[key][]string{}
	for _, p := range problems {
		if !Pinnable(sub, p) {
			continue
		}
		k := key{p.Element, p.Target}
		if _, ok := texts[k]; !ok {
			order = append(order, k)
		}
		texts[k] = append(texts[k], text(p))
	}
	out := make([]tg.SecureValueErrorClass, 0, len(order))
	for _, k := range order {
		el := sub.Element(k.el)
		msg := texts[k][0]
		for _, t := range texts[k][1:] {
			msg += "\n" + t
		}
		e, err := el.ValueError(k.target, msg)
		if err != nil {
			return nil, fmt.Errorf("verify: %s.%s: %w", k.el, k.target, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Pinnable reports whether a problem can be shown in the user's Telegram
// app: its element was submitted and its target exists in the submission.
func Pinnable(sub *passport.Submission, p Problem) bool {
	el := sub.Element(p.Element)
	if el == nil {
		return false
	}
	_, err := el.ValueError(p.Target, "")
	return err == nil
}
