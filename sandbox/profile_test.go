package sandbox

import (
	"bytes"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/kycbot/kycbot/passport"
	"github.com/kycbot/kycbot/verify"
)

const profileYAML = `
personal_details:
  fields: {first_name: Ada, last_name: Lovelace, birth_date: 10.12.1990, gender: female,
           country_code: GB, residence_country_code: GB, first_name_native: Ада}
driver_license:
  fields: {document_no: DL-1, expiry_date: 01.01.2035}
  front_side: {text: front}
  reverse_side: {text: reverse}
  selfie: {text: selfie, width: 64, height: 48}
  translation: [{text: translation}]
utility_bill:
  files: [{text: bill page 1}, {text: bill page 2, quality: 50}]
phone_number: {phone: "15550001234"}
email: {email: ada@example.com}
`

func TestLoadProfile(t *testing.T) {
	t.Parallel()
	p, err := LoadProfile([]byte(profileYAML))
	if err != nil {
		t.Fatal(err)
	}
	if got := p[passport.TypePersonalDetails].Fields["first_name_native"]; got != "Ада" {
		t.Fatalf("native name %q", got)
	}
	if n := len(p[passport.TypeUtilityBill].Files); n != 2 {
		t.Fatalf("%d bill scans", n)
	}
	selfie, err := p[passport.TypeDriverLicense].Selfie.JPEG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(selfie))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 64 || b.Dy() != 48 {
		t.Fatalf("selfie is %v, want 64x48", b)
	}
	again, _ := p[passport.TypeDriverLicense].Selfie.JPEG()
	if !bytes.Equal(selfie, again) {
		t.Fatal("scans are not deterministic")
	}
	front, _ := p[passport.TypeDriverLicense].FrontSide.JPEG()
	if bytes.Equal(front, selfie) {
		t.Fatal("different scans are equal")
	}

	for name, bad := range map[string]string{
		"unknown type":     "passport_photo: {fields: {x: y}}",
		"unknown field":    "address: {fields: {street: x}}",
		"selfie on a bill": "utility_bill: {files: [{text: a}], selfie: {text: b}}",
		"no front side":    "passport: {fields: {document_no: X}}",
		"bad yaml":         "email: [",
	} {
		if _, err := LoadProfile([]byte(bad)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := SampleProfile("x").Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := (Scan{Width: -1}).JPEG(); err == nil || !strings.Contains(err.Error(), "scan size") {
		t.Fatalf("bad size: %v", err)
	}
}

// TestScanBlur: a blurred scan is what a bot that measures sharpness
// refuses (the fix demo's selfie), the same scan unblurred passes, and a
// blur out of range is refused.
func TestScanBlur(t *testing.T) {
	measure := func(s Scan) float64 {
		t.Helper()
		b, err := s.JPEG()
		if err != nil {
			t.Fatal(err)
		}
		info, err := verify.MeasureSharpness(bytes.NewReader(b), verify.Inspect(b))
		if err != nil {
			t.Fatal(err)
		}
		return info.Sharpness
	}
	sharp := measure(Scan{Text: "demo/blurry-selfie", Width: 480, Height: 480})
	blurred := measure(Scan{Text: "demo/blurry-selfie", Width: 480, Height: 480, Blur: 3})
	if sharp < 4*verify.DefaultMinSharpness || blurred >= verify.DefaultMinSharpness/4 {
		t.Errorf("sharpness %.1f unblurred, %.1f blurred: want far above and far below %d", sharp, blurred, verify.DefaultMinSharpness)
	}
	for _, blur := range []float64{-1, 51} {
		if _, err := (Scan{Text: "x", Blur: blur}).JPEG(); err == nil || !strings.Contains(err.Error(), "must be 0..50 pixels") {
			t.Errorf("blur %v: err = %v", blur, err)
		}
	}
}
