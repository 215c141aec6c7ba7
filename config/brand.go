package config

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxBrandName is the longest web.brand.name, in characters.
const maxBrandName = 64

// brand checks web.brand: a one-line name, and reads and checks the logo
// file into b.Logo and b.LogoType.
func (c *checker) brand(b *Brand) {
	if n := utf8.RuneCountInString(b.Name); n > maxBrandName {
		c.add("web.brand.name", "is %d characters long: the request page shows at most %d; use the short name people know", n, maxBrandName)
	} else if strings.IndexFunc(b.Name, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }) >= 0 {
		c.add("web.brand.name", "must be one line of text, without line breaks or control characters")
	} else if b.Name != "" && strings.TrimSpace(b.Name) == "" {
		c.add("web.brand.name", "is blank: write the business's name, or leave it out to show the bot's @username")
	}
	b.Name = strings.TrimSpace(b.Name)

	const path = "web.brand.logo_file"
	if b.LogoFile != "" {
		b.Logo = nil
		file := b.LogoFile
		if !filepath.IsAbs(file) && c.baseDir != "" {
			file = filepath.Join(c.baseDir, file)
		}
		data, err := readLogo(file)
		if err != nil {
			c.add(path, "%s", err)
			return
		}
		b.Logo = data
	}
	if len(b.Logo) == 0 {
		b.LogoType = ""
		return
	}
	typ, err := logoType(b.Logo)
	if err != nil {
		what := "the logo"
		if b.LogoFile != "" {
			what = fmt.Sprintf("%.200q", b.LogoFile)
		}
		c.add(path, "%s %s", what, err)
		return
	}
	b.LogoType = typ
}

// readLogo reads a logo file of at most MaxLogoSize bytes; its errors say
// what to do.
func readLogo(file string) ([]byte, error) {
	f, err := os.Open(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%.200q does not exist (a relative path starts at the config file's folder)", file)
	case err != nil:
		return nil, fmt.Errorf("cannot open %.200q: %w", file, errors.Unwrap(err))
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%.200q is a folder: name the image file of the logo", file)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxLogoSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %.200q: %w", file, errors.Unwrap(err))
	}
	if len(data) > MaxLogoSize {
		size := fmt.Sprintf("more than %d KiB", MaxLogoSize>>10)
		if st, err := f.Stat(); err == nil {
			size = fmt.Sprintf("%d KiB", (st.Size()+1023)>>10)
		}
		return nil, fmt.Errorf("%.200q is %s: a logo may be at most %d KiB; make it smaller (a PNG of a few hundred pixels, or an SVG, is plenty)", file, size, MaxLogoSize>>10)
	}
	return data, nil
}

// logoType returns the media type of a logo (PNG, JPEG or SVG), or an
// error saying why it is not one: the error completes "<the file> ...".
func logoType(data []byte) (string, error) {
	if len(data) > MaxLogoSize {
		return "", fmt.Errorf("is %d KiB: a logo may be at most %d KiB", (len(data)+1023)>>10, MaxLogoSize>>10)
	}
	var (
		typ    string
		decode func(io.Reader) (image.Config, error)
	)
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		typ, decode = "image/png", png.DecodeConfig
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		typ, decode = "image/jpeg", jpeg.DecodeConfig
	default:
		if err := checkSVG(data); err != nil {
			return "", err
		}
		return "image/svg+xml", nil
	}
	cfg, err := decode(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return "", fmt.Errorf("looks like a %s image but cannot be read as one: save it again as PNG, JPEG or SVG", strings.ToUpper(strings.TrimPrefix(typ, "image/")))
	}
	return typ, nil
}

// checkSVG reports whether data is an SVG image browsers show in <img>:
// XML whose root element is <svg> in the SVG namespace.
func checkSVG(data []byte) error {
	const notImage = "is not a PNG, JPEG or SVG image"
	text := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	if !bytes.HasPrefix(text, []byte("<")) || !utf8.Valid(text) {
		return errors.New(notImage)
	}
	dec := xml.NewDecoder(bytes.NewReader(text))
	for {
		tok, err := dec.Token()
		if err != nil {
			return errors.New(notImage)
		}
		if el, ok := tok.(xml.StartElement); ok {
			switch {
			case el.Name.Local != "svg":
				return errors.New(notImage)
			case el.Name.Space != "http://www.w3.org/2000/svg":
				return errors.New(`is an SVG without xmlns="http://www.w3.org/2000/svg" on its <svg> element: browsers do not show it as an image; add it`)
			}
			return nil
		}
	}
}
