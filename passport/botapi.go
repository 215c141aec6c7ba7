package passport

import (
	"encoding/base64"
	"encoding/json"
)

// Bot API JSON shapes (https://core.telegram.org/bots/api#passportdata).
type botPassportData struct {
	Data        []botElement   `json:"data"`
	Credentials botCredentials `json:"credentials"`
}

type botCredentials struct {
	Data   string `json:"data"`
	Hash   string `json:"hash"`
	Secret string `json:"secret"`
}

type botElement struct {
	Type        string    `json:"type"`
	Data        string    `json:"data,omitempty"`
	PhoneNumber string    `json:"phone_number,omitempty"`
	Email       string    `json:"email,omitempty"`
	Files       []botFile `json:"files,omitempty"`
	FrontSide   *botFile  `json:"front_side,omitempty"`
	ReverseSide *botFile  `json:"reverse_side,omitempty"`
	Selfie      *botFile  `json:"selfie,omitempty"`
	Translation []botFile `json:"translation,omitempty"`
	Hash        string    `json:"hash"`
}

type botFile struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileSize     int64  `json:"file_size"`
	FileDate     int64  `json:"file_date"`
}

// ParseBotAPI parses a Bot API PassportData object
// ({"data":[...],"credentials":{...}}) into an EncryptedSubmission, decoding
// every base64 field once. The element "hash" is decoded when it is base64
// and left nil otherwise (some published samples carry placeholder text).
func ParseBotAPI(b []byte) (*EncryptedSubmission, error) {
	return decodeBotAPI(b)
}

func (r *FileRef) botFile() *botFile {
	if r == nil {
		return nil
	}
	return &botFile{FileID: r.FileID, FileUniqueID: r.FileUniqueID, FileSize: r.Size, FileDate: r.Date}
}

func botFiles(rs []FileRef) []botFile {
	if len(rs) == 0 {
		return nil
	}
	out := make([]botFile, len(rs))
	for i := range rs {
		out[i] = *rs[i].botFile()
	}
	return out
}

// MarshalBotAPI encodes the submission as a Bot API PassportData object,
// the form the Bot API would deliver it in (base64 binary fields). Files
// must have FileID set to be useful to a Bot API consumer.
func (es *EncryptedSubmission) MarshalBotAPI() ([]byte, error) {
	enc := base64.StdEncoding.EncodeToString
	raw := botPassportData{
		Data: make([]botElement, 0, len(es.Elements)),
		Credentials: botCredentials{
			Data: enc(es.Credentials.Data), Hash: enc(es.Credentials.Hash), Secret: enc(es.Credentials.Secret),
		},
	}
	for i := range es.Elements {
		ee := &es.Elements[i]
		be := botElement{
			Type: string(ee.Type), PhoneNumber: ee.PhoneNumber, Email: ee.Email, Hash: enc(ee.Hash),
			FrontSide: ee.FrontSide.botFile(), ReverseSide: ee.ReverseSide.botFile(), Selfie: ee.Selfie.botFile(),
			Files: botFiles(ee.Files), Translation: botFiles(ee.Translation),
		}
		if len(ee.Data) > 0 {
			be.Data = enc(ee.Data)
		}
		raw.Data = append(raw.Data, be)
	}
	return json.Marshal(raw)
}
