package verify

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // the calibration photos
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kycbot/kycbot/passport"
)

// documentImage draws a synthetic photo of a document: a light card under
// uneven light, with lines of dark "letters" (strokes of random widths)
// and a darker photo box, w×h pixels, in colour.
func documentImage(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8(200 + 40*x/w + 10*y/h) // light falling from one side
			img.Set(x, y, color.RGBA{v, v - 5, v - 15, 255})
		}
	}
	fill := func(x0, y0, x1, y1 int, c color.RGBA) {
		for y := max(y0, 0); y < min(y1, h); y++ {
			for x := max(x0, 0); x < min(x1, w); x++ {
				img.Set(x, y, c)
			}
		}
	}
	u := max(w/100, 1) // letter unit: a line of text is 2.5 units high
	fill(w/20, h/8, w/3, h*7/8, color.RGBA{90, 80, 70, 255})
	for line := h / 8; line < h*7/8; line += 4 * u {
		for x := w * 2 / 5; x < w*19/20; {
			lw := u/2 + rng.IntN(2*u+1)
			fill(x, line, x+max(lw/3, 1), line+2*u+u/2, color.RGBA{30, 30, 40, 255}) // a stem
			fill(x, line+rng.IntN(2*u+1), x+lw, line+rng.IntN(2*u+1)+max(u/3, 1), color.RGBA{30, 30, 40, 255})
			x += lw + u/2 + rng.IntN(u+1)
			if rng.IntN(6) == 0 {
				x += 2 * u // a space
			}
		}
	}
	return img
}

// blur returns img blurred with a Gaussian of standard deviation sigma
// pixels (separable, edges clamped), in gray: what an out-of-focus or
// shaken camera does.
func blur(img image.Image, sigma float64) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	var total float64
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		total += k[i]
	}
	src := make([]float64, w*h)
	for y := range h {
		for x := range w {
			src[y*w+x] = float64(color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y)
		}
	}
	tmp := make([]float64, w*h)
	for y := range h {
		for x := range w {
			var s float64
			for i, kv := range k {
				s += kv * src[y*w+min(max(x+i-r, 0), w-1)]
			}
			tmp[y*w+x] = s / total
		}
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			var s float64
			for i, kv := range k {
				s += kv * tmp[min(max(y+i-r, 0), h-1)*w+x]
			}
			out.Pix[y*out.Stride+x] = uint8(math.Round(s / total))
		}
	}
	return out
}

func encodeJPEG(t testing.TB, img image.Image, quality int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func measure(t testing.TB, b []byte) ScanInfo {
	t.Helper()
	info, err := MeasureSharpness(bytes.NewReader(b), Inspect(b))
	if err != nil {
		t.Fatal(err)
	}
	if !info.SharpnessMeasured {
		t.Fatal("not measured")
	}
	return info
}

// TestSharpnessSeparatesBlur: a sharp photo of a document passes the
// default, at phone-scan sizes, and the same photo out of focus fails; the
// measure does not depend much on the resolution.
func TestSharpnessSeparatesBlur(t *testing.T) {
	for _, size := range []struct{ w, h int }{{1280, 860}, {2000, 1340}, {860, 1280}} {
		doc := documentImage(size.w, size.h, 7)
		sharp := measure(t, encodeJPEG(t, doc, 85)).Sharpness
		if sharp < 2*DefaultMinSharpness {
			t.Errorf("%dx%d: a sharp document measures %.0f, want well above the default minimum %d", size.w, size.h, sharp, DefaultMinSharpness)
		}
		// sigma 3 px at 1000 px: what a camera focused on the background
		// gives.
		sigma := 3 * float64(max(size.w, size.h)) / 1000
		blurred := measure(t, encodeJPEG(t, blur(doc, sigma), 85)).Sharpness
		if blurred >= DefaultMinSharpness {
			t.Errorf("%dx%d: blurred (sigma %.1f px) measures %.0f, want below %d", size.w, size.h, sigma, blurred, DefaultMinSharpness)
		}
		t.Logf("%dx%d: sharp %.0f, blurred %.0f", size.w, size.h, sharp, blurred)
	}
}

// TestSharpnessMonotonic: more blur never measures sharper.
func TestSharpnessMonotonic(t *testing.T) {
	doc := documentImage(1000, 700, 3)
	prev := math.Inf(1)
	for _, sigma := range []float64{0.5, 1, 2, 3, 5} {
		s := Sharpness(blur(doc, sigma))
		if s >= prev {
			t.Errorf("sigma %.1f measures %.1f, not below %.1f", sigma, s, prev)
		}
		prev = s
	}
}

func TestSharpnessFlatAndTiny(t *testing.T) {
	flat := image.NewGray(image.Rect(0, 0, 500, 400))
	for i := range flat.Pix {
		flat.Pix[i] = 128
	}
	if s := Sharpness(flat); s != 0 {
		t.Errorf("a flat image measures %v, want 0", s)
	}
	if s := Sharpness(image.NewGray(image.Rect(0, 0, 2, 2))); s != 0 {
		t.Errorf("a 2x2 image measures %v, want 0", s)
	}
	// A subimage is measured on its own pixels.
	doc := documentImage(1200, 800, 1)
	sub := doc.SubImage(image.Rect(600, 100, 1100, 700))
	if s := Sharpness(sub); s <= 0 {
		t.Errorf("a subimage measures %v", s)
	}
}

func TestMeasureSharpnessRefuses(t *testing.T) {
	good := encodeJPEG(t, documentImage(400, 300, 1), 80)
	huge := Inspect(good)
	huge.Width, huge.Height = 5000, 4000 // 20 MP
	tests := []struct {
		name    string
		b       []byte
		info    ScanInfo
		notMeas bool
	}{
		{"not a jpeg", []byte("hello"), ScanInfo{Size: 5}, true},
		{"too many pixels", good, huge, true},
		{"truncated", good[:len(good)/2], Inspect(good), false},
		{"header differs", good, ScanInfo{Size: 1, JPEG: true, Width: 401, Height: 300}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MeasureSharpness(bytes.NewReader(tt.b), tt.info)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrNotMeasured) != tt.notMeas {
				t.Errorf("error %v: ErrNotMeasured %v, want %v", err, !tt.notMeas, tt.notMeas)
			}
			if got != tt.info {
				t.Errorf("info = %+v, want it unchanged", got)
			}
		})
	}
}

// TestBlurryRule: the policy's minimum against measured scans, pinned to
// the scan; unmeasured scans and a rule turned off raise nothing; a scan
// too small is not also called blurry.
func TestBlurryRule(t *testing.T) {
	el := document(passport.TypePassport, "P123", "")
	el.Selfie = &passport.File{}
	sub := &passport.Submission{Elements: []passport.Element{el}}
	scope := passport.NewScope(passport.Require(passport.TypePassport).WithSelfie())
	front := ScanKey{passport.TypePassport, passport.TargetOf(passport.TargetFrontSide)}
	selfie := ScanKey{passport.TypePassport, passport.TargetOf(passport.TargetSelfie)}
	scan := func(sharpness float64, measured bool) ScanInfo {
		return ScanInfo{Size: 1000, JPEG: true, Width: 1200, Height: 900, Sharpness: sharpness, SharpnessMeasured: measured}
	}
	f := func(v int) *int { return &v }
	tests := []struct {
		name  string
		min   *int
		minW  int
		scans map[ScanKey]ScanInfo
		want  []string
	}{
		{"default, blurry selfie", nil, 0, map[ScanKey]ScanInfo{front: scan(900, true), selfie: scan(12, true)},
			[]string{"passport.selfie: image_blurry"}},
		{"default, sharp", nil, 0, map[ScanKey]ScanInfo{front: scan(900, true), selfie: scan(DefaultMinSharpness, true)}, nil},
		{"not measured", nil, 0, map[ScanKey]ScanInfo{front: scan(0, false), selfie: scan(0, false)}, nil},
		{"off", f(0), 0, map[ScanKey]ScanInfo{front: scan(1, true), selfie: scan(0, true)}, nil},
		{"stricter", f(300), 0, map[ScanKey]ScanInfo{front: scan(299, true), selfie: scan(301, true)},
			[]string{"passport.front_side: image_blurry"}},
		{"too small is not blurry too", nil, 2000, map[ScanKey]ScanInfo{front: scan(900, true), selfie: scan(1, true)},
			[]string{"passport.front_side: image_too_small height=900 min_height=0 min_width=2000 width=1200",
				"passport.selfie: image_too_small height=900 min_height=0 min_width=2000 width=1200"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultPolicy()
			p.Personal.MinAge = 0
			p.Files.MinSharpness, p.Files.MinWidth = tt.min, tt.minW
			c, err := New(scope, p, today)
			if err != nil {
				t.Fatal(err)
			}
			res := c.Check(context.Background(), sub, tt.scans)
			var got []string
			for _, pr := range res.Problems {
				if pr.Code == CodeImageBlurry || pr.Code == CodeImageTooSmall {
					got = append(got, describe([]Problem{pr})...)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMinSharpnessValidation(t *testing.T) {
	f := func(v int) *int { return &v }
	for _, tt := range []struct {
		v    *int
		want string
	}{
		{nil, ""}, {f(0), ""}, {f(60), ""}, {f(MaxMinSharpness), ""},
		{f(-1), "files.min_sharpness: -1 is not a sharpness; use 0 to turn the rule off or a number up to 1000 (default 60)"},
		{f(5000), "files.min_sharpness: 5000 is too large: sharp photos of faces measure less; the most that makes sense is 1000 (default 60)"},
	} {
		p := DefaultPolicy()
		p.Files.MinSharpness = tt.v
		var got string
		if errs := p.Validate(); len(errs) > 0 {
			got = errs[0].Error()
		}
		if got != tt.want {
			t.Errorf("Validate(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// FuzzMeasureSharpness: whatever the bytes, measuring fails cleanly or
// gives a finite, non-negative measure.
func FuzzMeasureSharpness(f *testing.F) {
	f.Add(encodeJPEG(f, documentImage(64, 48, 1), 80))
	f.Add(encodeJPEG(f, image.NewGray(image.Rect(0, 0, 3, 700)), 50))
	f.Add(encodeJPEG(f, image.NewCMYK(image.Rect(0, 0, 17, 9)), 50))
	f.Add([]byte{0xFF, 0xD8, 0xFF})
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := MeasureSharpness(bytes.NewReader(b), Inspect(b))
		if err != nil {
			return
		}
		if s := info.Sharpness; !info.SharpnessMeasured || s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
			t.Fatalf("measured %+v", info)
		}
	})
}

// BenchmarkMeasureSharpness: the cost of measuring one phone scan
// (decode included) at the sizes Telegram apps send.
func BenchmarkMeasureSharpness(b *testing.B) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"1280x960", 1280, 960}, {"2560x1920", 2560, 1920}} {
		jp := encodeJPEG(b, documentImage(size.w, size.h, 5), 87)
		info := Inspect(jp)
		b.Run(size.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(jp)))
			for b.Loop() {
				if _, err := MeasureSharpness(bytes.NewReader(jp), info); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSharpnessCalibration measures the photos in the folder named by
// KYCBOT_SHARPNESS_PHOTOS (JPEG or PNG), each as it is and blurred, and
// logs the numbers: how DefaultMinSharpness was chosen (see
// docs/performance.md). Skipped without the variable.
func TestSharpnessCalibration(t *testing.T) {
	dir := os.Getenv("KYCBOT_SHARPNESS_PHOTOS")
	if dir == "" {
		t.Skip("KYCBOT_SHARPNESS_PHOTOS is not set")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(f)
		_ = f.Close()
		if err != nil {
			t.Logf("%s: %v", e.Name(), err)
			continue
		}
		long := float64(max(img.Bounds().Dx(), img.Bounds().Dy()))
		line := []any{e.Name(), img.Bounds().Dx(), img.Bounds().Dy(), measure(t, encodeJPEG(t, img, 85)).Sharpness}
		for _, sigma := range []float64{1, 2, 3} {
			line = append(line, measure(t, encodeJPEG(t, blur(img, sigma*long/1000), 85)).Sharpness)
		}
		t.Logf("%-28s %5dx%-5d sharp %7.0f  blurred at 1000 px: sigma 1: %6.0f  sigma 2: %6.0f  sigma 3: %6.0f", line...)
	}
}
