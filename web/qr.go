package web

import (
	"fmt"
	"html/template"
	"strconv"

	"rsc.io/qr"
)

// qrQuietZone is the light margin around a QR code, in modules: the four
// the QR standard asks for, so that phone cameras find the code on any
// background.
const qrQuietZone = 4

// qrSVG returns the QR code of text (error correction level M) as an
// inline SVG element: dark modules on a light square, whatever the page's
// colour scheme (cameras read dark on light), one path, scaled by CSS.
//
// The markup is built from numbers alone, never from text, so it is safe
// to mark as template.HTML.
func qrSVG(text string) (template.HTML, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", fmt.Errorf("web: qr code: %w", err)
	}
	n := code.Size + 2*qrQuietZone
	// Appended to one buffer, sized for a typical code: a string per run
	// was most of the cost after the encoding.
	b := make([]byte, 0, 256+code.Size*code.Size*4)
	b = fmt.Appendf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" aria-hidden="true">`, n, n)
	b = fmt.Appendf(b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	// One subpath per horizontal run of dark modules.
	for y := range code.Size {
		for x := 0; x < code.Size; {
			if !code.Black(x, y) {
				x++
				continue
			}
			run := 1
			for code.Black(x+run, y) {
				run++
			}
			b = append(b, 'M')
			b = strconv.AppendInt(b, int64(x+qrQuietZone), 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(y+qrQuietZone), 10)
			b = append(b, 'h')
			b = strconv.AppendInt(b, int64(run), 10)
			b = append(b, "v1h-"...)
			b = strconv.AppendInt(b, int64(run), 10)
			b = append(b, 'z')
			x += run
		}
	}
	b = append(b, `"/></svg>`...)
	return template.HTML(b), nil
}
