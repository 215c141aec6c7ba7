package screening

import (
	"bytes"
	"fmt"
	"io"
)

// maxRun is the most bytes a list file may hold between two markup bytes
// ('<' in XML, a line end in CSV). encoding/xml and encoding/csv hold a
// whole token or record in memory before handing it over; this bounds
// what they hold, whatever the file.
const maxRun = 1 << 20

// runGuard passes a reader through, failing once more than limit bytes
// come without sep.
type runGuard struct {
	r     io.Reader
	sep   byte
	limit int
	run   int
	seps  int // how many sep bytes passed: for '\n', the line is seps+1
}

func newRunGuard(r io.Reader, sep byte) *runGuard {
	return &runGuard{r: r, sep: sep, limit: maxRun}
}

func (g *runGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	b := p[:n]
	for len(b) > 0 {
		i := bytes.IndexByte(b, g.sep)
		if i < 0 {
			g.run += len(b)
			break
		}
		g.run += i
		if g.run > g.limit {
			break
		}
		g.run = 0
		g.seps++
		b = b[i+1:]
	}
	if g.run > g.limit {
		return n, fmt.Errorf("%w: more than %d bytes without %q", ErrFormat, g.limit, g.sep)
	}
	return n, err
}
