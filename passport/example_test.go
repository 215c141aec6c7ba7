package passport_test

import (
	"bytes"
	"crypto/rand"
	"fmt"

	"github.com/kycbot/kycbot/passport"
)

// A bot decrypts a submission: credentials first (to check the nonce), then
// the elements, then each file as a stream.
func Example() {
	// Stand-ins for the bot's key and a user's Telegram app.
	key, _ := passport.GenerateKey(2048)
	shared, _ := passport.EncryptSubmission(rand.Reader, &key.PublicKey, "nonce-42", []passport.PlainElement{
		{Type: passport.TypePassport, Fields: map[string]string{"document_no": "X123", "expiry_date": "01.01.2030"},
			FrontSide: []byte("front side JPEG")},
	})
	es := shared.Submission // from passport.FromMTProto or passport.ParseBotAPI in a real bot

	creds, err := passport.DecryptCredentials(key, es.Credentials)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("nonce:", creds.Nonce) // check it against the issued requests here
	sub, err := creds.Open(es.Elements)
	if err != nil {
		fmt.Println(err)
		return
	}
	el := sub.Element(passport.TypePassport)
	doc, _ := el.IdDocument()
	fmt.Println("document:", doc.DocumentNo, "expires", doc.ExpiryDate)

	encrypted, _ := shared.Encrypted(el.FrontSide.FileRef) // downloaded with upload.getFile in a real bot
	scan := &memoryStage{}
	if _, err := passport.DecryptFile(scan, bytes.NewReader(encrypted), el.FrontSide.Credentials); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("front side:", scan.published[0])
	// Output:
	// nonce: nonce-42
	// document: X123 expires 01.01.2030
	// front side: front side JPEG
}

// Tell the user's Telegram app that a field is wrong.
func ExampleElement_ValueError() {
	key, _ := passport.GenerateKey(2048)
	shared, _ := passport.EncryptSubmission(rand.Reader, &key.PublicKey, "n", []passport.PlainElement{
		{Type: passport.TypeDriverLicense, Fields: map[string]string{"document_no": "D1", "expiry_date": "01.01.2001"}},
	})
	sub, _ := passport.Decrypt(key, shared.Submission)
	el := sub.Element(passport.TypeDriverLicense)

	e, err := el.ValueError(passport.Field("expiry_date"), "Your driving licence expired on 01.01.2001")
	fmt.Printf("%s %v\n", e.TypeName(), err)

	_, err = el.ValueError(passport.TargetOf(passport.TargetSelfie), "no selfie")
	fmt.Println(err)
	// Output:
	// secureValueErrorData <nil>
	// passport: not allowed by the protocol: selfie error on driver_license: the submission has no selfie
}

// Stream a file into a destination that only publishes verified bytes.
func ExampleDecryptFile() {
	v, _ := passport.EncryptValue(rand.Reader, []byte("scan bytes"))
	tampered := bytes.Clone(v.Ciphertext)
	tampered[len(tampered)-1] ^= 1

	dst := &memoryStage{}
	_, err := passport.DecryptFile(dst, bytes.NewReader(tampered), v.FileCredentials())
	fmt.Println(err != nil, dst.published)

	_, err = passport.DecryptFile(dst, bytes.NewReader(v.Ciphertext), v.FileCredentials())
	fmt.Println(err, dst.published)
	// Output:
	// true []
	// <nil> [scan bytes]
}

// memoryStage is a Stager keeping bytes in memory until Commit.
type memoryStage struct {
	pending   bytes.Buffer
	published []string
}

func (m *memoryStage) Write(p []byte) (int, error) { return m.pending.Write(p) }
func (m *memoryStage) Commit() error {
	m.published = append(m.published, m.pending.String())
	m.pending.Reset()
	return nil
}
func (m *memoryStage) Discard() error { m.pending.Reset(); return nil }

// A bot prepares its key once (OpenSSL where the system has it) and
// decrypts every submission with it.
func ExampleNewKey() {
	priv, _ := passport.GenerateKey(2048) // passport.ParsePrivateKey in a real bot
	key, err := passport.NewKey(priv)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer key.Close()

	shared, _ := passport.EncryptSubmission(rand.Reader, &priv.PublicKey, "nonce-7", []passport.PlainElement{
		{Type: passport.TypeEmail, Email: "ada@example.com"},
	})
	sub, err := passport.Decrypt(key, shared.Submission)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sub.Nonce, sub.Element(passport.TypeEmail).Email)
	// Output: nonce-7 ada@example.com
}
