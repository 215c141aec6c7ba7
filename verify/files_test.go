package verify

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/kycbot/kycbot/passport"
)

func jpegOf(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 60}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestInspect(t *testing.T) {
	var pngBuf bytes.Buffer
	_ = png.Encode(&pngBuf, image.NewRGBA(image.Rect(0, 0, 4, 4)))
	good := jpegOf(t, 640, 480)
	tests := []struct {
		name string
		b    []byte
		want ScanInfo
	}{
		{"jpeg", good, ScanInfo{Size: int64(len(good)), JPEG: true, Width: 640, Height: 480}},
		{"png", pngBuf.Bytes(), ScanInfo{Size: int64(pngBuf.Len())}},
		{"empty", nil, ScanInfo{}},
		{"signature only", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 16}, ScanInfo{Size: 6}},
		{"truncated header", good[:20], ScanInfo{Size: 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Inspect(tt.b); got != tt.want {
				t.Errorf("Inspect = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestScanInspectorStreams(t *testing.T) {
	// A JPEG behind 200 KiB of EXIF-like APP segments still reports its size,
	// and the inspector keeps only its bounded head.
	img := jpegOf(t, 1200, 900)
	var b bytes.Buffer
	b.Write(img[:2])
	for range 3 {
		seg := make([]byte, 65533)
		b.Write([]byte{0xFF, 0xE1, 0xFF, 0xFF})
		b.Write(seg)
	}
	b.Write(img[2:])
	var s ScanInspector
	for rest := b.Bytes(); len(rest) > 0; {
		chunk := rest[:min(1000, len(rest))]
		rest = rest[len(chunk):]
		if n, err := s.Write(chunk); n != len(chunk) || err != nil {
			t.Fatal(n, err)
		}
	}
	info := s.Info()
	if !info.JPEG || info.Width != 1200 || info.Height != 900 || info.Size != int64(b.Len()) {
		t.Errorf("Info = %+v", info)
	}
	if s.head.Len() > scanHeaderLimit {
		t.Errorf("kept %d bytes", s.head.Len())
	}
}

func TestScanRules(t *testing.T) {
	dl := passport.TypeDriverLicense
	ub := passport.TypeUtilityBill
	sized := policyWith(func(p *Policy) { p.Files.MinWidth, p.Files.MinHeight = 1000, 700 })
	licence := func(mut func(*passport.Element)) passport.Element {
		el := document(dl, "DL123", "")
		el.Selfie = file(30)
		el.Translation = files(1, 40)
		if mut != nil {
			mut(&el)
		}
		return el
	}
	bill := func(n, tr int) passport.Element {
		el := element(ub, nil)
		el.Files = files(n, 50)
		el.Translation = files(tr, 80)
		return el
	}
	front, selfie := passport.TargetOf(passport.TargetFrontSide), passport.TargetOf(passport.TargetSelfie)
	key := func(e passport.ElementType, t passport.Target) ScanKey { return ScanKey{e, t} }
	tests := []struct {
		name   string
		se     passport.ScopeElement
		policy Policy
		el     passport.Element
		scans  map[ScanKey]ScanInfo
		want   []string
	}{
		{"everything present", passport.Require(dl).WithSelfie().WithTranslation(), DefaultPolicy(), licence(nil), nil, nil},
		{"front side missing", passport.Require(dl), DefaultPolicy(), licence(func(e *passport.Element) { e.FrontSide = nil }), nil,
			[]string{"driver_license.element: missing_front_side"}},
		{"reverse side missing", passport.Require(dl), DefaultPolicy(), licence(func(e *passport.Element) { e.ReverseSide = nil }), nil,
			[]string{"driver_license.element: missing_reverse_side"}},
		{"a passport has no reverse side", passport.Require(passport.TypePassport), DefaultPolicy(),
			document(passport.TypePassport, "P123", ""), nil, nil},
		{"selfie required by the scope", passport.Require(dl).WithSelfie(), DefaultPolicy(),
			licence(func(e *passport.Element) { e.Selfie = nil }), nil, []string{"driver_license.element: missing_selfie"}},
		{"selfie not required", passport.Require(dl), DefaultPolicy(), licence(func(e *passport.Element) { e.Selfie = nil }), nil, nil},
		{"translation required by the scope", passport.Require(dl).WithTranslation(), DefaultPolicy(),
			licence(func(e *passport.Element) { e.Translation = nil }), nil, []string{"driver_license.element: missing_translation"}},
		{"bill without scans", passport.Require(ub), DefaultPolicy(), bill(0, 0), nil, []string{"utility_bill.element: missing_files"}},
		{"too many scans", passport.Require(ub), policyWith(func(p *Policy) { p.Files.MaxFiles = 2 }), bill(3, 0), nil,
			[]string{"utility_bill.files: too_many_files max=2"}},
		{"too many translations", passport.Require(ub), policyWith(func(p *Policy) { p.Files.MaxTranslations = 1 }), bill(1, 2), nil,
			[]string{"utility_bill.translation: too_many_files max=1"}},
		{"scans fine", passport.Require(dl).WithSelfie(), sized, licence(nil), map[ScanKey]ScanInfo{
			key(dl, front):  {Size: 1 << 20, JPEG: true, Width: 1200, Height: 800},
			key(dl, selfie): {Size: 1 << 20, JPEG: true, Width: 720, Height: 1280}, // portrait passes too
		}, nil},
		{"scan not a JPEG", passport.Require(dl), DefaultPolicy(), licence(nil),
			map[ScanKey]ScanInfo{key(dl, front): {Size: 100}}, []string{"driver_license.front_side: not_jpeg"}},
		{"scan too large", passport.Require(dl), DefaultPolicy(), licence(nil),
			map[ScanKey]ScanInfo{key(dl, front): {Size: 11 << 20, JPEG: true, Width: 10, Height: 10}},
			[]string{"driver_license.front_side: file_too_large max_mb=10"}},
		{"selfie too small", passport.Require(dl).WithSelfie(), sized, licence(nil),
			map[ScanKey]ScanInfo{key(dl, selfie): {Size: 9000, JPEG: true, Width: 640, Height: 480}},
			[]string{"driver_license.selfie: image_too_small height=480 min_height=700 min_width=1000 width=640"}},
		{"a translation scan checked by index", passport.Require(dl).WithTranslation(), DefaultPolicy(), licence(nil),
			map[ScanKey]ScanInfo{key(dl, passport.TranslationAt(0)): {Size: 5}}, []string{"driver_license.translation[0]: not_jpeg"}},
		{"a bill scan checked by index", passport.Require(ub), DefaultPolicy(), bill(2, 0),
			map[ScanKey]ScanInfo{key(ub, passport.FileAt(1)): {Size: 5}}, []string{"utility_bill.files[1]: not_jpeg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(passport.NewScope(tt.se), tt.policy, today)
			if err != nil {
				t.Fatal(err)
			}
			res := c.Check(context.Background(), &passport.Submission{Elements: []passport.Element{tt.el}}, tt.scans)
			assertProblems(t, describe(res.Problems), tt.want...)
		})
	}
}

// Real JPEG bytes of a generated scan go through Inspect and the rules.
func TestScanRulesOnGeneratedJPEG(t *testing.T) {
	dl := passport.TypeDriverLicense
	c, err := New(passport.NewScope(passport.Require(dl)), policyWith(func(p *Policy) { p.Files.MinWidth, p.Files.MinHeight = 800, 600 }), today)
	if err != nil {
		t.Fatal(err)
	}
	el := document(dl, "DL123", "")
	scans := map[ScanKey]ScanInfo{
		{dl, passport.TargetOf(passport.TargetFrontSide)}:   Inspect(jpegOf(t, 1024, 768)),
		{dl, passport.TargetOf(passport.TargetReverseSide)}: Inspect(jpegOf(t, 320, 200)),
	}
	res := c.Check(context.Background(), &passport.Submission{Elements: []passport.Element{el}}, scans)
	assertProblems(t, describe(res.Problems), "driver_license.reverse_side: image_too_small height=200 min_height=600 min_width=800 width=320")
}
