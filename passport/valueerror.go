package passport

import (
	"fmt"

	"github.com/gotd/td/tg"
)

// TargetKind says what a secure value error points at.
type TargetKind int

// The nine kinds of target, one per tg.SecureValueError* constructor.
const (
	// TargetElement is the whole element (tg.SecureValueError, element hash).
	TargetElement TargetKind = iota + 1
	// TargetField is one data field (tg.SecureValueErrorData, data_hash).
	TargetField
	// TargetFrontSide is the front side scan (tg.SecureValueErrorFrontSide).
	TargetFrontSide
	// TargetReverseSide is the reverse side scan (tg.SecureValueErrorReverseSide).
	TargetReverseSide
	// TargetSelfie is the selfie (tg.SecureValueErrorSelfie).
	TargetSelfie
	// TargetFile is one scan of an address document (tg.SecureValueErrorFile).
	TargetFile
	// TargetFiles is every scan of an address document (tg.SecureValueErrorFiles).
	TargetFiles
	// TargetTranslationFile is one translation scan (tg.SecureValueErrorTranslationFile).
	TargetTranslationFile
	// TargetTranslationFiles is every translation scan (tg.SecureValueErrorTranslationFiles).
	TargetTranslationFiles
)

// Target is the part of an element a problem is about.
type Target struct {
	Kind TargetKind
	// Field is the data field name for TargetField ("expiry_date").
	Field string
	// Index is the scan index for TargetFile and TargetTranslationFile.
	Index int
}

// TargetOf returns a target of a kind that needs no field or index
// (TargetElement, TargetFrontSide, TargetReverseSide, TargetSelfie,
// TargetFiles, TargetTranslationFiles).
func TargetOf(kind TargetKind) Target { return Target{Kind: kind} }

// Field targets the data field name.
func Field(name string) Target { return Target{Kind: TargetField, Field: name} }

// FileAt targets scan i of an address document.
func FileAt(i int) Target { return Target{Kind: TargetFile, Index: i} }

// TranslationAt targets translation scan i.
func TranslationAt(i int) Target { return Target{Kind: TargetTranslationFile, Index: i} }

// String names the target as in the credentials JSON: "element",
// "data.expiry_date", "front_side", "reverse_side", "selfie", "files[1]",
// "files", "translation[0]", "translation".
func (t Target) String() string {
	switch t.Kind {
	case TargetElement:
		return "element"
	case TargetField:
		return "data." + t.Field
	case TargetFrontSide:
		return "front_side"
	case TargetReverseSide:
		return "reverse_side"
	case TargetSelfie:
		return "selfie"
	case TargetFile:
		return fmt.Sprintf("files[%d]", t.Index)
	case TargetFiles:
		return "files"
	case TargetTranslationFile:
		return fmt.Sprintf("translation[%d]", t.Index)
	case TargetTranslationFiles:
		return "translation"
	default:
		return fmt.Sprintf("target(%d)", int(t.Kind))
	}
}

// ValueError builds the tg.SecureValueError* constructor that tells the
// user's Telegram app what is wrong with target of this element, with the
// hash the app expects (the data_hash for fields, the file hash for scans,
// the server's element hash for the whole element). text is shown to the
// user as is: write it in their language.
//
// Combinations the protocol does not allow (a reverse side on a passport, a
// field the element type does not have, a scan the submission lacks) fail
// with ErrNotAllowed; the app would silently drop such an error.
func (el *Element) ValueError(target Target, text string) (tg.SecureValueErrorClass, error) {
	typ, err := el.Type.TL()
	if err != nil {
		return nil, err
	}
	refuse := func(why string) error {
		return fmt.Errorf("%w: %s error on %s: %s", ErrNotAllowed, target, el.Type, why)
	}
	fileHash := func(f *File, allowed bool, kind string) ([]byte, error) {
		if !allowed {
			return nil, refuse(kind + " is not part of this element type")
		}
		if f == nil {
			return nil, refuse("the submission has no " + kind)
		}
		return hash32(f.Credentials.FileHash, target, el.Type)
	}
	switch target.Kind {
	case TargetElement:
		h, err := hash32(el.Hash, target, el.Type)
		if err != nil {
			return nil, err
		}
		return &tg.SecureValueError{Type: typ, Hash: h, Text: text}, nil
	case TargetField:
		if !el.Type.HasDataField(target.Field) {
			return nil, refuse(fmt.Sprintf("%q is not a data field of this type", target.Field))
		}
		if el.DataCredentials == nil {
			return nil, refuse("the submission has no data credentials")
		}
		h, err := hash32(el.DataCredentials.DataHash, target, el.Type)
		if err != nil {
			return nil, err
		}
		return &tg.SecureValueErrorData{Type: typ, DataHash: h, Field: target.Field, Text: text}, nil
	case TargetFrontSide:
		h, err := fileHash(el.FrontSide, el.Type.HasFrontSide(), "front side")
		if err != nil {
			return nil, err
		}
		return &tg.SecureValueErrorFrontSide{Type: typ, FileHash: h, Text: text}, nil
	case TargetReverseSide:
		h, err := fileHash(el.ReverseSide, el.Type.HasReverseSide(), "reverse side")
		if err != nil {
			return nil, err
		}
		return &tg.SecureValueErrorReverseSide{Type: typ, FileHash: h, Text: text}, nil
	case TargetSelfie:
		h, err := fileHash(el.Selfie, el.Type.HasSelfie(), "selfie")
		if err != nil {
			return nil, err
		}
		return &tg.SecureValueErrorSelfie{Type: typ, FileHash: h, Text: text}, nil
	case TargetFile:
		h, err := fileHash(fileAt(el.Files, target.Index), el.Type.HasFiles(), target.String())
		if err != nil {
			return nil, err
		}
		return &tg.SecureValueErrorFile{Type: typ, FileHash: h, Text: text}, nil
	case TargetFiles:
		hs, err := allHashes(el.Files, el.Type.HasFiles(), "scans", refuse, target, el.Type)
		if err != nil {
			return nil, err
		}
		return &tg.SecureValueErrorFiles{Type: typ, FileHash: hs, Text: text}, nil
	case TargetTranslationFile:
		h, err := fileHash(fileAt(el.Translation, target.Index), el.Type.HasTranslation(), target.String())
		if err != nil {
			return nil, err
		}
		return &tg.SecureValueErrorTranslationFile{Type: typ, FileHash: h, Text: text}, nil
	case TargetTranslationFiles:
		hs, err := allHashes(el.Translation, el.Type.HasTranslation(), "translations", refuse, target, el.Type)
		if err != nil {
			return nil, err
		}
		return &tg.SecureValueErrorTranslationFiles{Type: typ, FileHash: hs, Text: text}, nil
	default:
		return nil, fmt.Errorf("%w: unknown target kind %d", ErrNotAllowed, int(target.Kind))
	}
}

func fileAt(files []File, i int) *File {
	if i < 0 || i >= len(files) {
		return nil
	}
	return &files[i]
}

func allHashes(files []File, allowed bool, kind string, refuse func(string) error, target Target, t ElementType) ([][]byte, error) {
	if !allowed {
		return nil, refuse(kind + " are not part of this element type")
	}
	if len(files) == 0 {
		return nil, refuse("the submission has no " + kind)
	}
	hs := make([][]byte, len(files))
	for i := range files {
		h, err := hash32(files[i].Credentials.FileHash, target, t)
		if err != nil {
			return nil, err
		}
		hs[i] = h
	}
	return hs, nil
}

func hash32(h []byte, target Target, t ElementType) ([]byte, error) {
	if len(h) != HashSize {
		return nil, fmt.Errorf("%w: %s error on %s: hash is %d bytes, Telegram requires %d",
			ErrMalformed, target, t, len(h), HashSize)
	}
	return append([]byte(nil), h...), nil
}
