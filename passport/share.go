package passport

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
)

// PlainElement is one element in clear, as a Telegram app holds it before
// sharing it with a bot.
type PlainElement struct {
	Type ElementType
	// Fields is the data object (types with data only).
	Fields map[string]string
	// Scans in clear (JPEG bytes); nil means absent.
	FrontSide, ReverseSide, Selfie []byte
	Files, Translation             [][]byte
	// PhoneNumber and Email for the plain types.
	PhoneNumber, Email string
}

// Shared is what EncryptSubmission produces: the submission a bot receives
// and the encrypted bytes of every file it will download, keyed by
// FileRef.FileID (the same file also has a numeric FileRef.ID).
type Shared struct {
	Submission *EncryptedSubmission
	Files      map[string][]byte
	// Credentials are the credentials in clear, as the bot will decrypt them.
	Credentials *Credentials
	byID        map[int64]string
}

// Encrypted returns the encrypted bytes of the file ref points at, found by
// its Bot API FileID or, for MTProto refs, its numeric ID.
func (sh *Shared) Encrypted(ref FileRef) ([]byte, bool) {
	id := ref.FileID
	if id == "" {
		id = sh.byID[ref.ID]
	}
	b, ok := sh.Files[id]
	return b, ok
}

// EncryptSubmission encrypts elements for the bot owning pub, as a Telegram
// app does when the user shares them (account.acceptAuthorization): a fresh
// secret per value and per file, credentials carrying those secrets and
// nonce, the credentials secret encrypted to the bot's key. Element hashes
// stand in for the server's and are random. All randomness comes from r.
//
// It serves tests and simulators; a real app keeps values encrypted on
// Telegram's servers between saving and sharing.
func EncryptSubmission(r io.Reader, pub *rsa.PublicKey, nonce string, elements []PlainElement, opts ...EncryptOption) (*Shared, error) {
	sh := &Shared{Submission: &EncryptedSubmission{}, Files: map[string][]byte{}, byID: map[int64]string{}}
	creds := &Credentials{SecureData: map[ElementType]*ValueCredentials{}, Nonce: nonce}
	var nextID int64
	encFile := func(t ElementType, part string, plain []byte) (*FileRef, *FileCredentials, error) {
		if plain == nil {
			return nil, nil, nil
		}
		v, err := EncryptValue(r, plain, opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", t, part, err)
		}
		nextID++
		ref := &FileRef{
			ID: nextID, AccessHash: nextID * 7919, DCID: 2,
			FileID: fmt.Sprintf("%s-%s", t, part), FileUniqueID: fmt.Sprintf("u%d", nextID),
			Size: int64(len(v.Ciphertext)), FileHash: v.Hash,
		}
		sh.Files[ref.FileID] = v.Ciphertext
		sh.byID[ref.ID] = ref.FileID
		fc := v.FileCredentials()
		return ref, &fc, nil
	}
	encFiles := func(t ElementType, part string, plains [][]byte) ([]FileRef, []FileCredentials, error) {
		var refs []FileRef
		var fcs []FileCredentials
		for i, p := range plains {
			ref, fc, err := encFile(t, fmt.Sprintf("%s-%d", part, i), p)
			if err != nil {
				return nil, nil, err
			}
			if ref == nil {
				return nil, nil, fmt.Errorf("%w: %s %s[%d] is nil", ErrMalformed, t, part, i)
			}
			refs, fcs = append(refs, *ref), append(fcs, *fc)
		}
		return refs, fcs, nil
	}
	for _, pe := range elements {
		if !pe.Type.Valid() {
			return nil, fmt.Errorf("%w: unknown element type %q", ErrMalformed, string(pe.Type))
		}
		hash, err := NewSecret(r) // stands in for the server's 32-byte element hash
		if err != nil {
			return nil, err
		}
		ee := EncryptedElement{Type: pe.Type, PhoneNumber: pe.PhoneNumber, Email: pe.Email, Hash: hash}
		if pe.Type.IsPlain() {
			sh.Submission.Elements = append(sh.Submission.Elements, ee)
			continue
		}
		vc := &ValueCredentials{}
		if pe.Type.HasData() {
			plain, err := json.Marshal(pe.Fields)
			if err != nil {
				return nil, fmt.Errorf("passport: encode %s data: %w", pe.Type, err)
			}
			v, err := EncryptValue(r, plain, opts...)
			if err != nil {
				return nil, fmt.Errorf("%s data: %w", pe.Type, err)
			}
			ee.Data, ee.DataHash, vc.Data = v.Ciphertext, v.Hash, v.DataCredentials()
		}
		if ee.FrontSide, vc.FrontSide, err = encFile(pe.Type, "front_side", pe.FrontSide); err != nil {
			return nil, err
		}
		if ee.ReverseSide, vc.ReverseSide, err = encFile(pe.Type, "reverse_side", pe.ReverseSide); err != nil {
			return nil, err
		}
		if ee.Selfie, vc.Selfie, err = encFile(pe.Type, "selfie", pe.Selfie); err != nil {
			return nil, err
		}
		if ee.Files, vc.Files, err = encFiles(pe.Type, "files", pe.Files); err != nil {
			return nil, err
		}
		if ee.Translation, vc.Translation, err = encFiles(pe.Type, "translation", pe.Translation); err != nil {
			return nil, err
		}
		creds.SecureData[pe.Type] = vc
		sh.Submission.Elements = append(sh.Submission.Elements, ee)
	}
	ec, err := EncryptCredentials(r, pub, creds, opts...)
	if err != nil {
		return nil, err
	}
	sh.Submission.Credentials = ec
	sh.Credentials = creds
	return sh, nil
}
