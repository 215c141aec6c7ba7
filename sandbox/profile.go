package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/kycbot/kycbot/passport"
)

// Default size of generated scans, in pixels.
const (
	DefaultScanWidth  = 640
	DefaultScanHeight = 400
)

// Profile is what a simulated user keeps in Telegram Passport: one
// ProfileElement per element type. It is plain data: build it in Go, or
// load it from YAML with LoadProfile:
//
//	personal_details:
//	  fields: {first_name: Ada, last_name: Lovelace, birth_date: 10.12.1990, gender: female,
//	           country_code: GB, residence_country_code: GB}
//	driver_license:
//	  fields: {document_no: DL-1, expiry_date: 01.01.2035}
//	  front_side: {text: front}
//	  reverse_side: {text: reverse}
//	  selfie: {text: selfie, width: 320, height: 320}
//	  translation: [{text: translation}]
//	utility_bill:
//	  files: [{text: bill page 1}, {text: bill page 2}]
//	phone_number: {phone: "15550001234"}
//	email: {email: ada@example.com}
type Profile map[passport.ElementType]*ProfileElement

// ProfileElement is one element of a Profile. Which parts apply depends on
// the type (passport-protocol section 2).
type ProfileElement struct {
	// Fields is the data object (personal_details, address and the four
	// identity documents), with the JSON field names of Telegram Passport.
	Fields map[string]string `yaml:"fields,omitempty"`
	// Scans.
	FrontSide   *Scan  `yaml:"front_side,omitempty"`
	ReverseSide *Scan  `yaml:"reverse_side,omitempty"`
	Selfie      *Scan  `yaml:"selfie,omitempty"`
	Files       []Scan `yaml:"files,omitempty"`
	Translation []Scan `yaml:"translation,omitempty"`
	// Phone and Email are the plain values of phone_number and email.
	Phone string `yaml:"phone,omitempty"`
	Email string `yaml:"email,omitempty"`
}

// Scan is a generated JPEG image: a deterministic picture made from Text
// and the size, so that tests can regenerate the exact bytes and compare.
// Set Data to use a picture of your own instead.
type Scan struct {
	// Text seeds the picture; different texts give different images.
	Text string `yaml:"text,omitempty"`
	// Width and Height in pixels (DefaultScanWidth x DefaultScanHeight
	// when zero). Make them small to test a too-small selfie.
	Width  int `yaml:"width,omitempty"`
	Height int `yaml:"height,omitempty"`
	// Quality is the JPEG quality, 1..100 (default 80).
	Quality int `yaml:"quality,omitempty"`
	// Blur, when above 0, blurs the picture as an out-of-focus camera
	// does: a Gaussian of this standard deviation, in pixels (0..50). 4
	// at 480×480 is a photo a bot that measures sharpness must refuse.
	Blur float64 `yaml:"blur,omitempty"`
	// Data, when set, is used as is.
	Data []byte `yaml:"-"`
}

// JPEG returns the scan's bytes, generating the picture when Data is empty.
func (s Scan) JPEG() ([]byte, error) {
	if len(s.Data) > 0 {
		return s.Data, nil
	}
	w, h := s.Width, s.Height
	if w == 0 {
		w = DefaultScanWidth
	}
	if h == 0 {
		h = DefaultScanHeight
	}
	if w < 1 || h < 1 || w > 8000 || h > 8000 {
		return nil, fmt.Errorf("sandbox: scan size %dx%d: width and height must be 1..8000", w, h)
	}
	q := s.Quality
	if q == 0 {
		q = 80
	}
	if q < 1 || q > 100 {
		return nil, fmt.Errorf("sandbox: scan quality %d: must be 1..100", q)
	}
	if !(s.Blur >= 0 && s.Blur <= 50) { // NaN too
		return nil, fmt.Errorf("sandbox: scan blur %v: must be 0..50 pixels", s.Blur)
	}
	f := fnv.New64a()
	_, _ = f.Write([]byte(s.Text))
	seed := f.Sum64()
	rng := rand.New(rand.NewPCG(seed, uint64(w)<<32|uint64(h)))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	base := color.RGBA{R: uint8(seed), G: uint8(seed >> 8), B: uint8(seed >> 16), A: 255}
	for y := range h {
		for x := range w {
			n := uint8(rng.IntN(24))
			img.SetRGBA(x, y, color.RGBA{
				R: base.R + uint8(x*255/w)/2 + n,
				G: base.G + uint8(y*255/h)/2 + n,
				B: base.B + n,
				A: 255,
			})
		}
	}
	// A few blocks standing for text lines and a photo.
	for range 6 {
		x0, y0 := rng.IntN(max(w-w/4, 1)), rng.IntN(max(h-h/8, 1))
		c := color.RGBA{R: uint8(rng.IntN(256)), G: uint8(rng.IntN(256)), B: uint8(rng.IntN(256)), A: 255}
		for y := y0; y < min(y0+h/10+1, h); y++ {
			for x := x0; x < min(x0+w/4+1, w); x++ {
				img.SetRGBA(x, y, c)
			}
		}
	}
	if s.Blur > 0 {
		gaussianBlur(img, s.Blur)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		return nil, fmt.Errorf("sandbox: encode scan: %w", err)
	}
	return buf.Bytes(), nil
}

// gaussianBlur blurs img in place with a Gaussian of standard deviation
// sigma pixels: two passes (rows, then columns), edges clamped.
func gaussianBlur(img *image.RGBA, sigma float64) {
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	var total float64
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		total += k[i]
	}
	for i := range k {
		k[i] /= total
	}
	b := img.Rect
	w, h := b.Dx(), b.Dy()
	line := make([][4]float64, max(w, h))
	pass := func(n, count int, at func(i, j int) int) {
		for j := range count {
			for i := range n {
				var acc [4]float64
				for t, kv := range k {
					o := at(min(max(i+t-r, 0), n-1), j)
					for c := range 4 {
						acc[c] += kv * float64(img.Pix[o+c])
					}
				}
				line[i] = acc
			}
			for i := range n {
				o := at(i, j)
				for c := range 4 {
					img.Pix[o+c] = uint8(math.Round(line[i][c]))
				}
			}
		}
	}
	pass(w, h, func(x, y int) int { return y*img.Stride + x*4 })
	pass(h, w, func(y, x int) int { return y*img.Stride + x*4 })
}

// LoadProfile parses a profile from YAML (see Profile).
func LoadProfile(b []byte) (Profile, error) {
	var p Profile
	if err := yaml.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("sandbox: profile YAML: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// LoadProfileFile reads a profile from a YAML file.
func LoadProfileFile(path string) (Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sandbox: read profile: %w", err)
	}
	return LoadProfile(b)
}

// Validate checks that every element has a known type and only the parts
// its type has. It does not judge the values: tests may want bad data.
func (p Profile) Validate() error {
	var problems []error
	types := make([]passport.ElementType, 0, len(p))
	for t := range p {
		types = append(types, t)
	}
	sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
	for _, t := range types {
		e := p[t]
		bad := func(format string, args ...any) {
			problems = append(problems, fmt.Errorf("sandbox: profile %s: "+format, append([]any{t}, args...)...))
		}
		if !t.Valid() {
			bad("unknown element type")
			continue
		}
		if e == nil {
			bad("empty element")
			continue
		}
		if (len(e.Fields) > 0) != t.HasData() {
			bad("fields are for personal_details, address and identity documents, and required there")
		}
		for name := range e.Fields {
			if !t.HasDataField(name) {
				bad("unknown field %q", name)
			}
		}
		if (e.FrontSide != nil) != t.HasFrontSide() {
			bad("front_side is required for identity documents and allowed only there")
		}
		if (e.ReverseSide != nil) != t.HasReverseSide() {
			bad("reverse_side is required for driver_license and identity_card and allowed only there")
		}
		if e.Selfie != nil && !t.HasSelfie() {
			bad("selfie is allowed only for identity documents")
		}
		if (len(e.Files) > 0) != t.HasFiles() {
			bad("files are required for address documents and allowed only there")
		}
		if len(e.Translation) > 0 && !t.HasTranslation() {
			bad("translation is allowed only for identity and address documents")
		}
		if (e.Phone != "") != (t == passport.TypePhoneNumber) || (e.Email != "") != (t == passport.TypeEmail) {
			bad("phone is for phone_number and email for email, and required there")
		}
	}
	return errors.Join(problems...)
}

// Clone returns a deep copy of the profile.
func (p Profile) Clone() Profile {
	out := make(Profile, len(p))
	for t, e := range p {
		if e == nil {
			out[t] = nil
			continue
		}
		c := *e
		if e.Fields != nil {
			c.Fields = make(map[string]string, len(e.Fields))
			for k, v := range e.Fields {
				c.Fields[k] = v
			}
		}
		cp := func(s *Scan) *Scan {
			if s == nil {
				return nil
			}
			x := *s
			return &x
		}
		c.FrontSide, c.ReverseSide, c.Selfie = cp(e.FrontSide), cp(e.ReverseSide), cp(e.Selfie)
		c.Files = append([]Scan(nil), e.Files...)
		c.Translation = append([]Scan(nil), e.Translation...)
		out[t] = &c
	}
	return out
}

// sampleMiddleName derives a middle name of ten Latin letters from seed.
func sampleMiddleName(seed string) string {
	h := fnv.New64a()
	h.Write([]byte(seed))
	n := h.Sum64()
	b := make([]byte, 10)
	for i := range b {
		b[i] = byte('a' + n%26)
		n /= 26
	}
	b[0] -= 'a' - 'A'
	return string(b)
}

// SampleProfile returns a complete profile with made-up data: personal
// details with native names, a driver licence with front, reverse, selfie
// and a translation, an address, a utility bill with two scans, a phone
// number and an email. seed makes the scans, the document number and the
// middle name differ between users: two sample profiles of different
// seeds are two people with two documents, as a bot that refuses
// duplicates (rules.duplicates) needs them.
func SampleProfile(seed string) Profile {
	scan := func(part string) *Scan { return &Scan{Text: seed + "/" + part} }
	return Profile{
		passport.TypePersonalDetails: {Fields: map[string]string{
			"first_name": "Ada", "last_name": "Lovelace", "middle_name": sampleMiddleName(seed),
			"birth_date": "10.12.1990", "gender": "female",
			"country_code": "GB", "residence_country_code": "DE",
			"first_name_native": "Ада", "last_name_native": "Лавлейс", "middle_name_native": "Кинг",
		}},
		passport.TypeDriverLicense: {
			Fields:      map[string]string{"document_no": "DL-" + seed, "expiry_date": "01.01.2035"},
			FrontSide:   scan("dl-front"),
			ReverseSide: scan("dl-reverse"),
			Selfie:      &Scan{Text: seed + "/selfie", Width: 400, Height: 400},
			Translation: []Scan{*scan("dl-translation")},
		},
		passport.TypeAddress: {Fields: map[string]string{
			"street_line1": "Unter den Linden 1", "street_line2": "Apt 2", "city": "Berlin",
			"state": "Berlin", "country_code": "DE", "post_code": "10117",
		}},
		passport.TypeUtilityBill: {Files: []Scan{*scan("bill-1"), *scan("bill-2")}},
		passport.TypePhoneNumber: {Phone: "15550001234"},
		passport.TypeEmail:       {Email: "ada@example.com"},
	}
}
