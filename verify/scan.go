package verify

import (
	"bytes"
	"image/jpeg"

	"github.com/kycbot/kycbot/passport"
)

// scanHeaderLimit is how much of a scan a ScanInspector keeps to read the
// JPEG header: EXIF data (with its thumbnail) sits before the frame header
// and is at most 64 KiB per segment, so a few segments fit.
const scanHeaderLimit = 256 << 10

// ScanInfo describes a decrypted scan without keeping its pixels.
type ScanInfo struct {
	// Size is the decrypted size in bytes.
	Size int64
	// JPEG is true when the bytes start with the JPEG signature and the
	// header decodes.
	JPEG bool
	// Width and Height in pixels (JPEG only).
	Width, Height int
	// Sharpness is the scan's focus measure (see Sharpness), when
	// SharpnessMeasured: MeasureSharpness sets both. A ScanInspector
	// does not decode pixels and leaves them unset.
	Sharpness         float64
	SharpnessMeasured bool
}

// ScanInspector is an io.Writer that learns a scan's size, format and pixel
// size as the decrypted bytes stream through it, keeping at most 256 KiB.
// Write it beside the real destination (io.MultiWriter) while decrypting.
type ScanInspector struct {
	head bytes.Buffer
	size int64
}

// Write implements io.Writer; it never fails.
func (s *ScanInspector) Write(p []byte) (int, error) {
	s.size += int64(len(p))
	if room := scanHeaderLimit - s.head.Len(); room > 0 {
		s.head.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// Info returns what the inspector learnt.
func (s *ScanInspector) Info() ScanInfo {
	info := ScanInfo{Size: s.size}
	h := s.head.Bytes()
	if len(h) < 3 || h[0] != 0xFF || h[1] != 0xD8 || h[2] != 0xFF {
		return info
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(h))
	if err != nil {
		return info
	}
	info.JPEG, info.Width, info.Height = true, cfg.Width, cfg.Height
	return info
}

// Inspect returns the ScanInfo of a whole scan held in memory.
func Inspect(b []byte) ScanInfo {
	var s ScanInspector
	_, _ = s.Write(b)
	return s.Info()
}

// ScanKey names one scan of a submission: the element and the target
// (passport.TargetFrontSide, TargetReverseSide, TargetSelfie, FileAt(i),
// TranslationAt(i)).
type ScanKey struct {
	Element passport.ElementType
	Target  passport.Target
}

// Scan is one scan of a submission and its key.
type Scan struct {
	Key  ScanKey
	File *passport.File
}

// Scans lists every scan of a submission with its key, in a stable order.
func Scans(sub *passport.Submission) []Scan {
	var out []Scan
	for i := range sub.Elements {
		out = appendScans(out, &sub.Elements[i])
	}
	return out
}

// appendScans appends the scans of one element.
func appendScans(out []Scan, el *passport.Element) []Scan {
	add := func(t passport.Target, f *passport.File) {
		if f != nil {
			out = append(out, Scan{ScanKey{el.Type, t}, f})
		}
	}
	add(passport.TargetOf(passport.TargetFrontSide), el.FrontSide)
	add(passport.TargetOf(passport.TargetReverseSide), el.ReverseSide)
	add(passport.TargetOf(passport.TargetSelfie), el.Selfie)
	for j := range el.Files {
		add(passport.FileAt(j), &el.Files[j])
	}
	for j := range el.Translation {
		add(passport.TranslationAt(j), &el.Translation[j])
	}
	return out
}
