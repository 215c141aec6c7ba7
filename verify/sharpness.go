package verify

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
)

// The focus measure of a scan is the variance of the Laplacian of its
// brightness, taken on the scan scaled down (box filter) to at most
// SharpnessSide pixels on its long side: edges (letters, the lines of a
// face) give large second derivatives, and blur flattens them. Scaling to
// one size first makes the measure independent of the camera's
// resolution, and smooths the sensor noise and JPEG artefacts that would
// otherwise pass for detail.
//
// Calibration (TestSharpnessCalibration; the photos and every number are
// in docs/performance.md): twelve real photos (faces, a person, printed
// text, a scanned page, objects, a brick wall) measure 176 (the brick
// wall) to about 5000 (the printed page), faces 400 to 900; the same
// photos blurred with a Gaussian of sigma 3 px per 1000 px of their long
// side (out of focus, shaken) measure 4 to 30, except two tiny ones
// (under 400 px, so hardly blurred). Synthetic document photos of 860 to
// 2000 px measure 2000 to 4300 sharp and about 30 blurred the same way.
// DefaultMinSharpness (60) sits between: blurred photos fail, real ones
// pass with a margin of three times or more.
const (
	// SharpnessSide is the long side, in pixels, of the scaled-down
	// image the focus measure is taken on.
	SharpnessSide = 800
	// MaxSharpnessPixels is the largest scan whose sharpness is measured
	// (the decoder holds the whole image: about 1.5 bytes per pixel, more
	// for progressive JPEGs). Larger scans are not measured, and pass the
	// sharpness rule; Telegram apps send Passport scans of a few
	// megapixels.
	MaxSharpnessPixels = 16_000_000
	// DefaultMinSharpness is the default of FileRules.MinSharpness (see
	// the calibration above).
	DefaultMinSharpness = 60
	// MaxMinSharpness is the largest FileRules.MinSharpness accepted:
	// above it, sharp photos of faces fail.
	MaxMinSharpness = 1000
)

// ErrNotMeasured is wrapped by the error of MeasureSharpness for a scan it
// does not measure: not a JPEG, or larger than MaxSharpnessPixels.
var ErrNotMeasured = errors.New("verify: sharpness not measured")

// MeasureSharpness decodes the JPEG scan read from r, whose ScanInfo (from
// a ScanInspector over the same bytes) is info, and returns info with
// Sharpness set and SharpnessMeasured true. At most one decoded image is
// held, and the scaled-down copy the measure is taken on is bounded by
// SharpnessSide. A scan that is not a JPEG or is larger than
// MaxSharpnessPixels is not decoded (ErrNotMeasured); one that does not
// decode fails with the decoder's error. Either way info comes back as
// it was.
func MeasureSharpness(r io.Reader, info ScanInfo) (ScanInfo, error) {
	if !info.JPEG {
		return info, fmt.Errorf("%w: not a JPEG", ErrNotMeasured)
	}
	if px := int64(info.Width) * int64(info.Height); px > MaxSharpnessPixels {
		return info, fmt.Errorf("%w: %d pixels, more than %d", ErrNotMeasured, px, MaxSharpnessPixels)
	}
	img, err := jpeg.Decode(bufio.NewReaderSize(r, 64<<10))
	if err != nil {
		return info, fmt.Errorf("verify: decode the scan: %w", err)
	}
	if b := img.Bounds(); b.Dx() != info.Width || b.Dy() != info.Height {
		return info, fmt.Errorf("verify: the scan decodes to %dx%d, its header says %dx%d", b.Dx(), b.Dy(), info.Width, info.Height)
	}
	info.Sharpness = Sharpness(img)
	info.SharpnessMeasured = true
	return info, nil
}

// Sharpness returns the focus measure of img: the variance of the
// 4-neighbour Laplacian of its brightness (0 to 255), on img scaled down
// to at most SharpnessSide pixels on its long side. Images too small to
// have an inside (under 3×3 once scaled) measure 0.
func Sharpness(img image.Image) float64 {
	small := downscale(img, SharpnessSide)
	w, h := small.Rect.Dx(), small.Rect.Dy()
	if w < 3 || h < 3 {
		return 0
	}
	var sum, sumSq float64
	for y := 1; y < h-1; y++ {
		row := small.Pix[y*small.Stride:]
		up := small.Pix[(y-1)*small.Stride:]
		down := small.Pix[(y+1)*small.Stride:]
		for x := 1; x < w-1; x++ {
			l := float64(int(up[x]) + int(down[x]) + int(row[x-1]) + int(row[x+1]) - 4*int(row[x]))
			sum += l
			sumSq += l * l
		}
	}
	n := float64((w - 2) * (h - 2))
	mean := sum / n
	return sumSq/n - mean*mean
}

// downscale returns the brightness of img averaged over boxes of f×f
// pixels, f the smallest factor that brings the long side to at most side
// (1: no scaling). It reads img one row at a time, so it holds only the
// result, one row of sums and, for images other than YCbCr and gray, one
// row of brightness.
func downscale(img image.Image, side int) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	f := max((max(w, h)+side-1)/side, 1)
	ow, oh := w/f, h/f
	out := image.NewGray(image.Rect(0, 0, ow, oh))
	if ow == 0 || oh == 0 {
		return out
	}
	row := lumaRows(img)
	sums := make([]uint32, ow)
	area := uint32(f * f)
	for oy := range oh {
		clear(sums)
		for y := oy * f; y < (oy+1)*f; y++ {
			px := row(y)
			for ox := range ow {
				var s uint32
				for _, v := range px[ox*f : (ox+1)*f] {
					s += uint32(v)
				}
				sums[ox] += s
			}
		}
		dst := out.Pix[oy*out.Stride:]
		for ox := range ow {
			dst[ox] = uint8((sums[ox] + area/2) / area)
		}
	}
	return out
}

// lumaRows returns the brightness of row y (0 is the top of the bounds)
// of img: the Y plane of the YCbCr images image/jpeg decodes colour JPEGs
// to, the pixels of gray ones, and color.GrayModel for anything else
// (CMYK JPEGs), into one reused row. The slice is valid until the next
// call.
func lumaRows(img image.Image) func(y int) []uint8 {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.YCbCr:
		return func(y int) []uint8 {
			i := m.YOffset(b.Min.X, b.Min.Y+y)
			return m.Y[i : i+b.Dx()]
		}
	case *image.Gray:
		return func(y int) []uint8 {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			return m.Pix[i : i+b.Dx()]
		}
	}
	buf := make([]uint8, b.Dx())
	return func(y int) []uint8 {
		for x := range buf {
			buf[x] = color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y
		}
		return buf
	}
}
