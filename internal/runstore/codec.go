package runstore

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"sync"
)

// A stored blob starts with a byte that says how the rest is encoded, so
// that a later version can change the compression and still read old runs.
const (
	blobRaw  byte = 0
	blobGzip byte = 1
)

// ErrBadBlob reports a stored blob that cannot be decoded.
var ErrBadBlob = errors.New("runstore: undecodable blob")

// compressor compresses blobs, reusing its gzip writers (about 1 MB of
// state each).
type compressor struct{ pool sync.Pool }

// compress returns b gzipped (fastest level: history blobs are MBs
// written at every checkpoint) behind its format byte. nil stays nil
// ("unchanged"); an empty blob is stored raw.
func (c *compressor) compress(b []byte) []byte {
	if b == nil {
		return nil
	}
	if len(b) == 0 {
		return []byte{blobRaw}
	}
	// Series and JSON shrink to a third or less: one allocation, mostly.
	buf := bytes.NewBuffer(make([]byte, 0, len(b)/2+64))
	buf.WriteByte(blobGzip)
	zw, _ := c.pool.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(buf, gzip.BestSpeed) // the level is valid
	} else {
		zw.Reset(buf)
	}
	_, _ = zw.Write(b) // a bytes.Buffer does not fail
	_ = zw.Close()
	zw.Reset(io.Discard) // hold no reference to buf
	c.pool.Put(zw)
	return buf.Bytes()
}

// decompress undoes compress; a NULL column (nil) reads as nil.
func decompress(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, nil
	}
	switch b[0] {
	case blobRaw:
		return append([]byte{}, b[1:]...), nil
	case blobGzip:
		zr, err := gzip.NewReader(bytes.NewReader(b[1:]))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadBlob, err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadBlob, err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: format byte %d", ErrBadBlob, b[0])
}
