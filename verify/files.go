package verify

import (
	"strconv"

	"github.com/kycbot/kycbot/passport"
)

// files checks that the scans the element needs are there, within count
// limits, and, where their ScanInfo is known, that each is a JPEG of an
// acceptable size.
func (r *check) files() {
	t := r.el.Type
	whole := passport.TargetOf(passport.TargetElement)
	rules := r.c.policy.Files
	if t.HasFrontSide() && r.el.FrontSide == nil {
		r.add(whole, CodeMissingFrontSide, nil)
	}
	if t.HasReverseSide() && r.el.ReverseSide == nil {
		r.add(whole, CodeMissingReverseSide, nil)
	}
	if r.se.Selfie && t.HasSelfie() && r.el.Selfie == nil {
		r.add(whole, CodeMissingSelfie, nil)
	}
	if t.HasFiles() {
		switch n := len(r.el.Files); {
		case n == 0:
			r.add(whole, CodeMissingFiles, nil)
		case n > rules.MaxFiles:
			r.add(passport.TargetOf(passport.TargetFiles), CodeTooManyFiles, map[string]string{"max": strconv.Itoa(rules.MaxFiles)})
		}
	}
	if r.se.Translation && t.HasTranslation() && len(r.el.Translation) == 0 {
		r.add(whole, CodeMissingTranslation, nil)
	}
	if n := len(r.el.Translation); n > rules.MaxTranslations {
		r.add(passport.TargetOf(passport.TargetTranslationFiles), CodeTooManyFiles,
			map[string]string{"max": strconv.Itoa(rules.MaxTranslations)})
	}
	if r.scans == nil {
		return
	}
	for _, s := range appendScans(nil, r.el) {
		info, ok := r.scans[s.Key]
		if !ok {
			continue
		}
		r.scan(s.Key.Target, info)
	}
}

// scan checks one scan's format, size, pixel size and, when it was
// measured, sharpness (a scan too small is not called blurry as well).
func (r *check) scan(t passport.Target, info ScanInfo) {
	rules := r.c.policy.Files
	if info.Size > int64(rules.MaxSizeMB)<<20 {
		r.add(t, CodeFileTooLarge, map[string]string{"max_mb": strconv.Itoa(rules.MaxSizeMB)})
		return
	}
	if !info.JPEG {
		r.add(t, CodeNotJPEG, nil)
		return
	}
	if r.tooSmall(t, info) {
		return
	}
	if least := *rules.MinSharpness; least > 0 && info.SharpnessMeasured && info.Sharpness < float64(least) {
		r.add(t, CodeImageBlurry, nil)
	}
}

// tooSmall adds CodeImageTooSmall when the scan has fewer pixels than the
// policy's minimum, and reports whether it did.
func (r *check) tooSmall(t passport.Target, info ScanInfo) bool {
	rules := r.c.policy.Files
	if rules.MinWidth == 0 && rules.MinHeight == 0 {
		return false
	}
	// Either orientation: the long side against the larger minimum.
	long, short := max(info.Width, info.Height), min(info.Width, info.Height)
	minLong, minShort := max(rules.MinWidth, rules.MinHeight), min(rules.MinWidth, rules.MinHeight)
	if long < minLong || short < minShort {
		r.add(t, CodeImageTooSmall, map[string]string{
			"min_width": strconv.Itoa(rules.MinWidth), "min_height": strconv.Itoa(rules.MinHeight),
			"width": strconv.Itoa(info.Width), "height": strconv.Itoa(info.Height),
		})
		return true
	}
	return false
}
