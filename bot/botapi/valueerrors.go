package botapi

import (
	"encoding/base64"
	"fmt"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/passport"
)

// PassportElementErrors converts the problems the verification found (the
// MTProto constructors, tg.SecureValueError*) into the Bot API's
// PassportElementError objects, hashes in base64.
func PassportElementErrors(errs []tg.SecureValueErrorClass) ([]PassportElementError, error) {
	out := make([]PassportElementError, 0, len(errs))
	for i, e := range errs {
		pe, err := passportElementError(e)
		if err != nil {
			return nil, fmt.Errorf("passport error %d: %w", i, err)
		}
		out = append(out, pe)
	}
	return out, nil
}

func passportElementError(e tg.SecureValueErrorClass) (PassportElementError, error) {
	b64 := base64.StdEncoding.EncodeToString
	var pe PassportElementError
	switch v := e.(type) {
	case *tg.SecureValueErrorData:
		pe = PassportElementError{Source: "data", FieldName: v.Field, DataHash: b64(v.DataHash)}
	case *tg.SecureValueErrorFrontSide:
		pe = PassportElementError{Source: "front_side", FileHash: b64(v.FileHash)}
	case *tg.SecureValueErrorReverseSide:
		pe = PassportElementError{Source: "reverse_side", FileHash: b64(v.FileHash)}
	case *tg.SecureValueErrorSelfie:
		pe = PassportElementError{Source: "selfie", FileHash: b64(v.FileHash)}
	case *tg.SecureValueErrorFile:
		pe = PassportElementError{Source: "file", FileHash: b64(v.FileHash)}
	case *tg.SecureValueErrorFiles:
		pe = PassportElementError{Source: "files", FileHashes: hashes(v.FileHash)}
	case *tg.SecureValueErrorTranslationFile:
		pe = PassportElementError{Source: "translation_file", FileHash: b64(v.FileHash)}
	case *tg.SecureValueErrorTranslationFiles:
		pe = PassportElementError{Source: "translation_files", FileHashes: hashes(v.FileHash)}
	case *tg.SecureValueError:
		pe = PassportElementError{Source: "unspecified", ElementHash: b64(v.Hash)}
	default:
		return PassportElementError{}, fmt.Errorf("unknown constructor %T", e)
	}
	et, err := passport.ElementTypeOf(e.GetType())
	if err != nil {
		return PassportElementError{}, fmt.Errorf("%s error: %w", pe.Source, err)
	}
	pe.Type, pe.Message = string(et), e.GetText()
	return pe, nil
}

func hashes(hs [][]byte) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h)
	}
	return out
}
