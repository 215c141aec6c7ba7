package passport

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/tg"
)

func decryptedProfile(t *testing.T) *Submission {
	t.Helper()
	key := testKey(t, 2048)
	sh, err := EncryptSubmission(rand.Reader, &key.PublicKey, "n", fullProfile())
	if err != nil {
		t.Fatal(err)
	}
	sub, err := Decrypt(key, sh.Submission)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func TestValueErrorConstructors(t *testing.T) {
	sub := decryptedProfile(t)
	dl := sub.Element(TypeDriverLicense)
	ub := sub.Element(TypeUtilityBill)
	pd := sub.Element(TypePersonalDetails)
	em := sub.Element(TypeEmail)
	tests := []struct {
		el     *Element
		target Target
		check  func(tg.SecureValueErrorClass) bool
	}{
		{dl, Field("expiry_date"), func(e tg.SecureValueErrorClass) bool {
			d, ok := e.(*tg.SecureValueErrorData)
			return ok && d.Field == "expiry_date" && bytes.Equal(d.DataHash, dl.DataCredentials.DataHash)
		}},
		{pd, Field("first_name_native"), func(e tg.SecureValueErrorClass) bool {
			d, ok := e.(*tg.SecureValueErrorData)
			return ok && bytes.Equal(d.DataHash, pd.DataCredentials.DataHash)
		}},
		{dl, TargetOf(TargetFrontSide), func(e tg.SecureValueErrorClass) bool {
			d, ok := e.(*tg.SecureValueErrorFrontSide)
			return ok && bytes.Equal(d.FileHash, dl.FrontSide.Credentials.FileHash)
		}},
		{dl, TargetOf(TargetReverseSide), func(e tg.SecureValueErrorClass) bool {
			d, ok := e.(*tg.SecureValueErrorReverseSide)
			return ok && bytes.Equal(d.FileHash, dl.ReverseSide.Credentials.FileHash)
		}},
		{dl, TargetOf(TargetSelfie), func(e tg.SecureValueErrorClass) bool {
			d, ok := e.(*tg.SecureValueErrorSelfie)
			return ok && bytes.Equal(d.FileHash, dl.Selfie.Credentials.FileHash)
		}},
		{ub, FileAt(1), func(e tg.SecureValueErrorClass) bool {
			d, ok := e.(*tg.SecureValueErrorFile)
			return ok && bytes.Equal(d.FileHash, ub.Files[1].Credentials.FileHash)
		}},
		{ub, TargetOf(TargetFiles), func(e tg.SecureValueErrorClass) bool {
			d, ok := e.(*tg.SecureValueErrorFiles)
			return ok && len(d.FileHash) == 2 && bytes.Equal(d.FileHash[0], ub.Files[0].Credentials.FileHash) &&
				bytes.Equal(d.FileHash[1], ub.Files[1].Credentials.FileHash)
		}},
		{dl, TranslationAt(1), func(e tg.SecureValueErrorClass) bool {
			d, ok := e.(*tg.SecureValueErrorTranslationFile)
			return ok && bytes.Equal(d.FileHash, dl.Translation[1].Credentials.FileHash)
		}},
		{ub, TargetOf(TargetTranslationFiles), func(e tg.SecureValueErrorClass) bool {
			d, ok := e.(*tg.SecureValueErrorTranslationFiles)
			return ok && len(d.FileHash) == 1 && bytes.Equal(d.FileHash[0], ub.Translation[0].Credentials.FileHash)
		}},
		{em, TargetOf(TargetElement), func(e tg.SecureValueErrorClass) bool {
			d, ok := e.(*tg.SecureValueError)
			_, isEmail := d.Type.(*tg.SecureValueTypeEmail)
			return ok && isEmail && bytes.Equal(d.Hash, em.Hash)
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.el.Type)+"/"+tt.target.String(), func(t *testing.T) {
			e, err := tt.el.ValueError(tt.target, "Пожалуйста, исправьте")
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(e) {
				t.Errorf("wrong constructor or hash: %#v", e)
			}
			// Every constructor carries the element's type and the text,
			// and encodes (as gotd would send it).
			got, err := ElementTypeOf(e.GetType())
			if err != nil || got != tt.el.Type {
				t.Errorf("type %v, %v", got, err)
			}
			if e.GetText() != "Пожалуйста, исправьте" {
				t.Errorf("text %q", e.GetText())
			}
			var buf bin.Buffer
			if err := e.Encode(&buf); err != nil {
				t.Errorf("encode: %v", err)
			}
		})
	}
}

func TestValueErrorRefusals(t *testing.T) {
	sub := decryptedProfile(t)
	pp := sub.Element(TypePassport)
	tests := []struct {
		name   string
		el     *Element
		target Target
		err    error
	}{
		{"reverse side on a passport", pp, TargetOf(TargetReverseSide), ErrNotAllowed},
		{"field a document lacks", pp, Field("first_name"), ErrNotAllowed},
		{"unknown field", sub.Element(TypeAddress), Field("street"), ErrNotAllowed},
		{"files on an ID document", pp, FileAt(0), ErrNotAllowed},
		{"all files on an ID document", pp, TargetOf(TargetFiles), ErrNotAllowed},
		{"selfie on an address", sub.Element(TypeAddress), TargetOf(TargetSelfie), ErrNotAllowed},
		{"translation index out of range", pp, TranslationAt(1), ErrNotAllowed},
		{"negative index", sub.Element(TypeUtilityBill), FileAt(-1), ErrNotAllowed},
		{"reverse side not submitted", sub.Element(TypeInternalPassport), TargetOf(TargetReverseSide), ErrNotAllowed},
		{"selfie not submitted", sub.Element(TypeIdentityCard), TargetOf(TargetSelfie), ErrNotAllowed},
		{"no translations submitted", sub.Element(TypeBankStatement), TargetOf(TargetTranslationFiles), ErrNotAllowed},
		{"data field on email", sub.Element(TypeEmail), Field("email"), ErrNotAllowed},
		{"front side on phone", sub.Element(TypePhoneNumber), TargetOf(TargetFrontSide), ErrNotAllowed},
		{"unknown kind", pp, Target{Kind: 99}, ErrNotAllowed},
		{"element without a server hash", &Element{Type: TypeEmail}, TargetOf(TargetElement), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.el.ValueError(tt.target, "x"); !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
		})
	}
}
