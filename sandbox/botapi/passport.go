package botapi

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/gotd/td/tg"

	"github.com/kycbot/kycbot/passport"
)

// The Bot API's PassportData (https://core.telegram.org/bots/api#passportdata).

type apiPassportData struct {
	Data        []apiPassportElement `json:"data"`
	Credentials apiCredentials       `json:"credentials"`
}

type apiCredentials struct {
	Data   string `json:"data"`
	Hash   string `json:"hash"`
	Secret string `json:"secret"`
}

type apiPassportElement struct {
	Type        string            `json:"type"`
	Data        string            `json:"data,omitempty"`
	PhoneNumber string            `json:"phone_number,omitempty"`
	Email       string            `json:"email,omitempty"`
	Files       []apiPassportFile `json:"files,omitempty"`
	FrontSide   *apiPassportFile  `json:"front_side,omitempty"`
	ReverseSide *apiPassportFile  `json:"reverse_side,omitempty"`
	Selfie      *apiPassportFile  `json:"selfie,omitempty"`
	Translation []apiPassportFile `json:"translation,omitempty"`
	Hash        string            `json:"hash"`
}

type apiPassportFile struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileSize     int64  `json:"file_size"`
	FileDate     int    `json:"file_date"`
}

var b64 = base64.StdEncoding.EncodeToString

// passportDataOf builds the Bot API passport_data of the service message
// a bot receives when a user shares (MessageActionSecureValuesSentMe).
func passportDataOf(a *tg.MessageActionSecureValuesSentMe) (json.RawMessage, error) {
	out := apiPassportData{
		Data: make([]apiPassportElement, 0, len(a.Values)),
		Credentials: apiCredentials{
			Data: b64(a.Credentials.Data), Hash: b64(a.Credentials.Hash), Secret: b64(a.Credentials.Secret),
		},
	}
	for i := range a.Values {
		v := &a.Values[i]
		t, err := passport.ElementTypeOf(v.Type)
		if err != nil {
			return nil, fmt.Errorf("secure value %d: %w", i, err)
		}
		el := apiPassportElement{Type: string(t), Hash: b64(v.Hash),
			FrontSide: passportFileOf(v.FrontSide), ReverseSide: passportFileOf(v.ReverseSide), Selfie: passportFileOf(v.Selfie),
			Files: passportFilesOf(v.Files), Translation: passportFilesOf(v.Translation)}
		if d, ok := v.GetData(); ok {
			el.Data = b64(d.Data)
		}
		switch p := v.PlainData.(type) {
		case *tg.SecurePlainPhone:
			el.PhoneNumber = p.Phone
		case *tg.SecurePlainEmail:
			el.Email = p.Email
		}
		out.Data = append(out.Data, el)
	}
	return json.Marshal(out)
}

func passportFileOf(f tg.SecureFileClass) *apiPassportFile {
	sf, ok := f.(*tg.SecureFile)
	if !ok {
		return nil
	}
	ref := fileRef{DC: sf.DCID, ID: sf.ID, AccessHash: sf.AccessHash, Size: sf.Size}
	return &apiPassportFile{FileID: ref.fileID(), FileUniqueID: ref.uniqueID(), FileSize: sf.Size, FileDate: sf.Date}
}

func passportFilesOf(fs []tg.SecureFileClass) []apiPassportFile {
	var out []apiPassportFile
	for _, f := range fs {
		if pf := passportFileOf(f); pf != nil {
			out = append(out, *pf)
		}
	}
	return out
}

// fileRef is what a file_id the server mints holds: where the secure
// file is and how to ask for it.
type fileRef struct {
	DC         int
	ID         int64
	AccessHash int64
	Size       int64
}

// fileIDVersion starts every file_id; a file_id of another form is
// refused.
const fileIDVersion = 1

// fileIDLen is the length of an encoded fileRef, in bytes.
const fileIDLen = 1 + 1 + 8 + 8 + 8

// fileID encodes the reference as an opaque, URL-safe string; the same
// file always gets the same file_id.
func (r fileRef) fileID() string {
	b := make([]byte, 0, fileIDLen)
	b = append(b, fileIDVersion, byte(r.DC))
	b = binary.BigEndian.AppendUint64(b, uint64(r.ID))
	b = binary.BigEndian.AppendUint64(b, uint64(r.AccessHash))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Size))
	return base64.RawURLEncoding.EncodeToString(b)
}

// uniqueID is the file_unique_id: the same for the same file, whoever
// asks.
func (r fileRef) uniqueID() string {
	return base64.RawURLEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, uint64(r.ID)))
}

// parseFileID decodes a file_id the server minted.
func parseFileID(s string) (fileRef, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != fileIDLen || b[0] != fileIDVersion {
		return fileRef{}, errFileIDInvalid
	}
	r := fileRef{
		DC:         int(b[1]),
		ID:         int64(binary.BigEndian.Uint64(b[2:])),
		AccessHash: int64(binary.BigEndian.Uint64(b[10:])),
		Size:       int64(binary.BigEndian.Uint64(b[18:])),
	}
	// Only the server's own spelling: one file has one file_id (the
	// decoder skips line breaks, for one).
	if r.DC < 1 || r.DC > 5 || r.Size < 0 || r.fileID() != s {
		return fileRef{}, errFileIDInvalid
	}
	return r, nil
}

// apiPassportError is a PassportElementError
// (https://core.telegram.org/bots/api#passportelementerror), every
// source in one shape.
type apiPassportError struct {
	Source      string   `json:"source"`
	Type        string   `json:"type"`
	FieldName   string   `json:"field_name"`
	DataHash    string   `json:"data_hash"`
	FileHash    string   `json:"file_hash"`
	FileHashes  []string `json:"file_hashes"`
	ElementHash string   `json:"element_hash"`
	Message     string   `json:"message"`
}

// secureValueError returns the MTProto error of a PassportElementError,
// or a Bad Request naming what is wrong (index i in the list).
func (e apiPassportError) secureValueError(i int) (tg.SecureValueErrorClass, error) {
	bad := func(what string) error {
		return badRequest(fmt.Sprintf("can't parse PassportElementError %d: %s", i, what))
	}
	if e.Message == "" {
		return nil, bad("message is empty")
	}
	et := passport.ElementType(e.Type)
	typ, err := et.TL()
	if err != nil {
		return nil, bad(fmt.Sprintf("unknown element type %q", e.Type))
	}
	hash := func(name, s string) ([]byte, error) {
		h, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(h) == 0 {
			return nil, bad(name + " must be base64")
		}
		return h, nil
	}
	hashes := func() ([][]byte, error) {
		if len(e.FileHashes) == 0 {
			return nil, bad("file_hashes is empty")
		}
		out := make([][]byte, 0, len(e.FileHashes))
		for _, s := range e.FileHashes {
			h, err := hash("file_hashes", s)
			if err != nil {
				return nil, err
			}
			out = append(out, h)
		}
		return out, nil
	}
	switch e.Source {
	case "data":
		if e.FieldName == "" {
			return nil, bad("field_name is empty")
		}
		h, err := hash("data_hash", e.DataHash)
		return &tg.SecureValueErrorData{Type: typ, DataHash: h, Field: e.FieldName, Text: e.Message}, err
	case "front_side":
		h, err := hash("file_hash", e.FileHash)
		return &tg.SecureValueErrorFrontSide{Type: typ, FileHash: h, Text: e.Message}, err
	case "reverse_side":
		h, err := hash("file_hash", e.FileHash)
		return &tg.SecureValueErrorReverseSide{Type: typ, FileHash: h, Text: e.Message}, err
	case "selfie":
		h, err := hash("file_hash", e.FileHash)
		return &tg.SecureValueErrorSelfie{Type: typ, FileHash: h, Text: e.Message}, err
	case "file":
		h, err := hash("file_hash", e.FileHash)
		return &tg.SecureValueErrorFile{Type: typ, FileHash: h, Text: e.Message}, err
	case "files":
		hs, err := hashes()
		return &tg.SecureValueErrorFiles{Type: typ, FileHash: hs, Text: e.Message}, err
	case "translation_file":
		h, err := hash("file_hash", e.FileHash)
		return &tg.SecureValueErrorTranslationFile{Type: typ, FileHash: h, Text: e.Message}, err
	case "translation_files":
		hs, err := hashes()
		return &tg.SecureValueErrorTranslationFiles{Type: typ, FileHash: hs, Text: e.Message}, err
	case "unspecified":
		h, err := hash("element_hash", e.ElementHash)
		return &tg.SecureValueError{Type: typ, Hash: h, Text: e.Message}, err
	}
	return nil, bad(fmt.Sprintf("unknown source %q", e.Source))
}
