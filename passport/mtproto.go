package passport

import (
	"fmt"

	"github.com/gotd/td/tg"
)

// FromMTProto converts the service message action a bot receives through
// MTProto (gotd: tg.MessageService with Action *tg.MessageActionSecureValuesSentMe)
// into an EncryptedSubmission. MTProto fields are raw bytes: nothing is
// base64-decoded.
func FromMTProto(action *tg.MessageActionSecureValuesSentMe) (*EncryptedSubmission, error) {
	if action == nil {
		return nil, fmt.Errorf("%w: no secure values action", ErrMalformed)
	}
	es := &EncryptedSubmission{
		Elements: make([]EncryptedElement, 0, len(action.Values)),
		Credentials: EncryptedCredentials{
			Data:   action.Credentials.Data,
			Hash:   action.Credentials.Hash,
			Secret: action.Credentials.Secret,
		},
	}
	for i := range action.Values {
		ee, err := fromSecureValue(&action.Values[i])
		if err != nil {
			return nil, fmt.Errorf("secure value %d: %w", i, err)
		}
		es.Elements = append(es.Elements, ee)
	}
	return es, nil
}

func fromSecureValue(v *tg.SecureValue) (EncryptedElement, error) {
	t, err := ElementTypeOf(v.Type)
	if err != nil {
		return EncryptedElement{}, err
	}
	ee := EncryptedElement{Type: t, Hash: v.Hash}
	if d, ok := v.GetData(); ok {
		ee.Data, ee.DataHash = d.Data, d.DataHash
	}
	if ee.FrontSide, err = secureFileRef(v.FrontSide); err != nil {
		return ee, fmt.Errorf("front_side: %w", err)
	}
	if ee.ReverseSide, err = secureFileRef(v.ReverseSide); err != nil {
		return ee, fmt.Errorf("reverse_side: %w", err)
	}
	if ee.Selfie, err = secureFileRef(v.Selfie); err != nil {
		return ee, fmt.Errorf("selfie: %w", err)
	}
	if ee.Files, err = secureFileRefs(v.Files); err != nil {
		return ee, fmt.Errorf("files: %w", err)
	}
	if ee.Translation, err = secureFileRefs(v.Translation); err != nil {
		return ee, fmt.Errorf("translation: %w", err)
	}
	switch p := v.PlainData.(type) {
	case *tg.SecurePlainPhone:
		ee.PhoneNumber = p.Phone
	case *tg.SecurePlainEmail:
		ee.Email = p.Email
	}
	return ee, nil
}

func secureFileRef(f tg.SecureFileClass) (*FileRef, error) {
	switch f := f.(type) {
	case nil, *tg.SecureFileEmpty:
		return nil, nil
	case *tg.SecureFile:
		return &FileRef{ID: f.ID, AccessHash: f.AccessHash, DCID: f.DCID, Size: f.Size, Date: int64(f.Date), FileHash: f.FileHash}, nil
	default:
		return nil, fmt.Errorf("%w: unknown secure file constructor %T", ErrMalformed, f)
	}
}

func secureFileRefs(files []tg.SecureFileClass) ([]FileRef, error) {
	if len(files) == 0 {
		return nil, nil
	}
	out := make([]FileRef, 0, len(files))
	for i, f := range files {
		ref, err := secureFileRef(f)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		if ref == nil {
			return nil, fmt.Errorf("%w: [%d] is an empty file", ErrMalformed, i)
		}
		out = append(out, *ref)
	}
	return out, nil
}

// Location returns the location to download the file with upload.getFile.
func (r FileRef) Location() *tg.InputSecureFileLocation {
	return &tg.InputSecureFileLocation{ID: r.ID, AccessHash: r.AccessHash}
}

// MTProto returns the submission in the form a bot receives it through
// MTProto, as a sandbox or a test would deliver it. File secrets (the
// server-side encrypted copies) are not part of the bot's view and are left
// empty.
func (es *EncryptedSubmission) MTProto() (*tg.MessageActionSecureValuesSentMe, error) {
	a := &tg.MessageActionSecureValuesSentMe{Credentials: es.Credentials.TL()}
	for i := range es.Elements {
		ee := &es.Elements[i]
		typ, err := ee.Type.TL()
		if err != nil {
			return nil, err
		}
		v := tg.SecureValue{Type: typ, Hash: ee.Hash}
		if len(ee.Data) > 0 {
			v.SetData(tg.SecureData{Data: ee.Data, DataHash: ee.DataHash})
		}
		if ee.FrontSide != nil {
			v.SetFrontSide(ee.FrontSide.secureFile())
		}
		if ee.ReverseSide != nil {
			v.SetReverseSide(ee.ReverseSide.secureFile())
		}
		if ee.Selfie != nil {
			v.SetSelfie(ee.Selfie.secureFile())
		}
		if len(ee.Files) > 0 {
			v.SetFiles(secureFiles(ee.Files))
		}
		if len(ee.Translation) > 0 {
			v.SetTranslation(secureFiles(ee.Translation))
		}
		switch {
		case ee.Type == TypePhoneNumber:
			v.SetPlainData(&tg.SecurePlainPhone{Phone: ee.PhoneNumber})
		case ee.Type == TypeEmail:
			v.SetPlainData(&tg.SecurePlainEmail{Email: ee.Email})
		}
		a.Values = append(a.Values, v)
	}
	return a, nil
}

func (r *FileRef) secureFile() *tg.SecureFile {
	return &tg.SecureFile{ID: r.ID, AccessHash: r.AccessHash, Size: r.Size, DCID: r.DCID, Date: int(r.Date), FileHash: r.FileHash}
}

func secureFiles(refs []FileRef) []tg.SecureFileClass {
	out := make([]tg.SecureFileClass, len(refs))
	for i := range refs {
		out[i] = refs[i].secureFile()
	}
	return out
}
