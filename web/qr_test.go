package web

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The tests read QR codes back with a decoder of their own, written from
// the QR code standard (ISO/IEC 18004) independently of the encoder: it
// reads the module grid the page draws, not a camera picture, so it needs
// no image processing, and it checks what a phone's camera relies on (the
// format information, the masking, the placement of codewords, the block
// interleaving, the data segments).

// svgModules reads the module grid back from the SVG qrSVG made: its
// viewBox and the runs of its path. It returns the grid without the quiet
// zone, after checking that the quiet zone is empty.
func svgModules(svg string) ([][]bool, error) {
	m := regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`).FindStringSubmatch(svg)
	if m == nil || m[1] != m[2] {
		return nil, errors.New("no square viewBox")
	}
	n, _ := strconv.Atoi(m[1])
	d := regexp.MustCompile(`<path fill="#000" d="([^"]*)"`).FindStringSubmatch(svg)
	if d == nil {
		return nil, errors.New("no path of dark modules")
	}
	grid := make([][]bool, n)
	for i := range grid {
		grid[i] = make([]bool, n)
	}
	runs := regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`).FindAllStringSubmatch(d[1], -1)
	if len(strings.Join(flatten(runs), "")) != len(d[1]) {
		return nil, errors.New("the path holds more than runs of modules")
	}
	for _, r := range runs {
		x, _ := strconv.Atoi(r[1])
		y, _ := strconv.Atoi(r[2])
		w, _ := strconv.Atoi(r[3])
		if r[3] != r[4] || y >= n || x+w > n {
			return nil, fmt.Errorf("bad run %q", r[0])
		}
		for i := x; i < x+w; i++ {
			grid[y][i] = true
		}
	}
	q := qrQuietZone
	for y := range n {
		for x := range n {
			if grid[y][x] && (x < q || y < q || x >= n-q || y >= n-q) {
				return nil, fmt.Errorf("dark module (%d,%d) in the quiet zone", x, y)
			}
		}
	}
	inner := make([][]bool, n-2*q)
	for y := range inner {
		inner[y] = grid[y+q][q : n-q]
	}
	return inner, nil
}

func flatten(matches [][]string) []string {
	out := make([]string, len(matches))
	for i, m := range matches {
		out[i] = m[0]
	}
	return out
}

// qrBlocks gives, for versions 1 to 10 and the levels L and M, the number
// of error correction blocks and the error correction codewords per block
// (ISO/IEC 18004, table 9).
var qrBlocks = map[int]map[string][2]int{
	1: {"L": {1, 7}, "M": {1, 10}}, 2: {"L": {1, 10}, "M": {1, 16}},
	3: {"L": {1, 15}, "M": {1, 26}}, 4: {"L": {1, 20}, "M": {2, 18}},
	5: {"L": {1, 26}, "M": {2, 24}}, 6: {"L": {2, 18}, "M": {4, 16}},
	7: {"L": {2, 20}, "M": {4, 18}}, 8: {"L": {2, 24}, "M": {4, 22}},
	9: {"L": {2, 30}, "M": {5, 22}}, 10: {"L": {4, 18}, "M": {5, 26}},
}

// qrAlignment gives the alignment pattern centres of versions 2 to 10.
var qrAlignment = map[int][]int{
	2: {6, 18}, 3: {6, 22}, 4: {6, 26}, 5: {6, 30}, 6: {6, 34},
	7: {6, 22, 38}, 8: {6, 24, 42}, 9: {6, 26, 46}, 10: {6, 28, 50},
}

// decodeQR decodes a QR code of version 1 to 10, level L or M, from its
// module grid (true is dark, grid[y][x]).
func decodeQR(grid [][]bool) (string, error) {
	n := len(grid)
	if n < 21 || (n-17)%4 != 0 {
		return "", fmt.Errorf("%d modules on a side is no QR code size", n)
	}
	version := (n - 17) / 4
	if version > 10 {
		return "", fmt.Errorf("version %d: the test decoder reads versions 1 to 10", version)
	}
	at := func(x, y int) uint { // grid[y][x] as a bit
		if grid[y][x] {
			return 1
		}
		return 0
	}

	// Format information, beside the top-left finder: 15 bits, BCH
	// protected, XORed with 101010000010010.
	var fmtBits uint
	for _, p := range [][2]int{{0, 8}, {1, 8}, {2, 8}, {3, 8}, {4, 8}, {5, 8}, {7, 8}, {8, 8}, {8, 7}, {8, 5}, {8, 4}, {8, 3}, {8, 2}, {8, 1}, {8, 0}} {
		fmtBits = fmtBits<<1 | at(p[0], p[1])
	}
	level, mask := "", -1
	for data := uint(0); data < 32; data++ {
		rem := data << 10
		for i := 14; i >= 10; i-- {
			if rem&(1<<i) != 0 {
				rem ^= 0x537 << (i - 10)
			}
		}
		if (data<<10|rem)^0x5412 == fmtBits {
			level = map[uint]string{0: "M", 1: "L", 2: "H", 3: "Q"}[data>>3]
			mask = int(data & 7)
		}
	}
	if mask < 0 {
		return "", fmt.Errorf("format information %015b is not a valid code word", fmtBits)
	}
	blocks, ok := qrBlocks[version][level]
	if !ok {
		return "", fmt.Errorf("version %d level %s: the test decoder reads levels L and M", version, level)
	}

	// The function patterns: finders with their separators and the format
	// information, timing, alignment patterns, version information.
	fn := make([][]bool, n)
	for y := range fn {
		fn[y] = make([]bool, n)
	}
	rect := func(x0, y0, w, h int) {
		for y := max(y0, 0); y < min(y0+h, n); y++ {
			for x := max(x0, 0); x < min(x0+w, n); x++ {
				fn[y][x] = true
			}
		}
	}
	rect(0, 0, 9, 9)
	rect(n-8, 0, 8, 9)
	rect(0, n-8, 9, 8)
	rect(6, 0, 1, n)
	rect(0, 6, n, 1)
	centres := qrAlignment[version]
	for i, cy := range centres {
		for j, cx := range centres {
			last := len(centres) - 1
			if i == 0 && (j == 0 || j == last) || i == last && j == 0 { // on a finder
				continue
			}
			rect(cx-2, cy-2, 5, 5)
		}
	}
	if version >= 7 {
		rect(n-11, 0, 3, 6)
		rect(0, n-11, 6, 3)
	}

	masked := func(x, y int) bool {
		i, j := y, x
		switch mask {
		case 0:
			return (i+j)%2 == 0
		case 1:
			return i%2 == 0
		case 2:
			return j%3 == 0
		case 3:
			return (i+j)%3 == 0
		case 4:
			return (i/2+j/3)%2 == 0
		case 5:
			return i*j%2+i*j%3 == 0
		case 6:
			return (i*j%2+i*j%3)%2 == 0
		default:
			return ((i+j)%2+i*j%3)%2 == 0
		}
	}

	// The codewords, in two-column strips from the right, upwards first.
	var bits []uint
	up := true
	for right := n - 1; right > 0; right -= 2 {
		if right == 6 {
			right = 5
		}
		for k := range n {
			y := k
			if up {
				y = n - 1 - k
			}
			for _, x := range []int{right, right - 1} {
				if fn[y][x] {
					continue
				}
				b := at(x, y)
				if masked(x, y) {
					b ^= 1
				}
				bits = append(bits, b)
			}
		}
		up = !up
	}
	total := len(bits) / 8
	words := make([]byte, total)
	for i := range words {
		for _, b := range bits[i*8 : i*8+8] {
			words[i] = words[i]<<1 | byte(b)
		}
	}

	// De-interleave the data codewords of the blocks; the shorter blocks
	// come first.
	nblock, check := blocks[0], blocks[1]
	dataTotal := total - nblock*check
	short := dataTotal / nblock
	longFrom := nblock - dataTotal%nblock
	data := make([][]byte, nblock)
	k := 0
	for i := 0; i <= short; i++ {
		for b := range nblock {
			if i < short || b >= longFrom {
				data[b] = append(data[b], words[k])
				k++
			}
		}
	}
	var stream []byte
	for _, d := range data {
		stream = append(stream, d...)
	}

	// The segments: byte and alphanumeric modes, then the terminator.
	pos := 0
	read := func(w int) (int, error) {
		if pos+w > len(stream)*8 {
			return 0, errors.New("the data ends inside a segment")
		}
		v := 0
		for range w {
			v = v<<1 | int(stream[pos/8]>>(7-pos%8)&1)
			pos++
		}
		return v, nil
	}
	var out strings.Builder
	for pos+4 <= len(stream)*8 {
		mode, _ := read(4)
		switch mode {
		case 0:
			return out.String(), nil
		case 4: // byte
			count, err := read(map[bool]int{true: 8, false: 16}[version <= 9])
			if err != nil {
				return "", err
			}
			for range count {
				c, err := read(8)
				if err != nil {
					return "", err
				}
				out.WriteByte(byte(c))
			}
		case 2: // alphanumeric
			const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
			count, err := read(map[bool]int{true: 9, false: 11}[version <= 9])
			if err != nil {
				return "", err
			}
			for ; count >= 2; count -= 2 {
				v, err := read(11)
				if err != nil || v >= 45*45 {
					return "", errors.New("bad alphanumeric pair")
				}
				out.WriteByte(alnum[v/45])
				out.WriteByte(alnum[v%45])
			}
			if count == 1 {
				v, err := read(6)
				if err != nil || v >= 45 {
					return "", errors.New("bad alphanumeric character")
				}
				out.WriteByte(alnum[v])
			}
		default:
			return "", fmt.Errorf("mode %04b: the test decoder reads byte and alphanumeric segments", mode)
		}
	}
	return out.String(), nil
}

// TestQRRoundTrip encodes the page URLs of public URLs of several lengths
// (QR versions 3 to 9) and reads them back.
func TestQRRoundTrip(t *testing.T) {
	for _, pub := range []string{
		"http://127.0.0.1:8080",
		"https://kyc.acme.example",
		"https://identity-verification.customers.acme-banking-group.example",
		"https://kyc.example.com/a/rather/long/path/behind/the/reverse/proxy/of/a/big/company/with/many/services",
	} {
		want := PageURL(pub, idEN)
		svg, err := qrSVG(want)
		if err != nil {
			t.Fatalf("qrSVG(%q): %v", want, err)
		}
		grid, err := svgModules(string(svg))
		if err != nil {
			t.Fatalf("%s: %v", want, err)
		}
		got, err := decodeQR(grid)
		if err != nil {
			t.Fatalf("%s (%d modules): %v", want, len(grid), err)
		}
		if got != want {
			t.Errorf("the QR code reads %q, want %q", got, want)
		}
	}
}

// TestQRDecoderRefusesDamage checks that the test decoder can fail: a
// code with its format information damaged does not read.
func TestQRDecoderRefusesDamage(t *testing.T) {
	svg, err := qrSVG(PageURL("https://kyc.acme.example", idEN))
	if err != nil {
		t.Fatal(err)
	}
	grid, err := svgModules(string(svg))
	if err != nil {
		t.Fatal(err)
	}
	grid[8][0] = !grid[8][0]
	if got, err := decodeQR(grid); err == nil {
		t.Errorf("a damaged code read as %q", got)
	}
}

// BenchmarkQRSVG draws the QR code of a request page's Telegram link, as
// every page view does.
func BenchmarkQRSVG(b *testing.B) {
	link := "tg://resolve?domain=kycbot_demo_bot&bot_id=123456789&scope=%7B%22data%22%3A%5B%22personal_details%22%5D%2C%22v%22%3A1%7D&public_key=-----BEGIN%20PUBLIC%20KEY-----&nonce=n2s7D0zRswlFtMGVLss6Ew"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := qrSVG(link); err != nil {
			b.Fatal(err)
		}
	}
}
