package httpx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Reply is what a server may send: its settings, then the frames f
// writes.
func h2Reply(f func(fr *http2.Framer, enc func(...string) []byte)) []byte {
	var buf, hbuf bytes.Buffer
	fr := http2.NewFramer(&buf, nil)
	henc := hpack.NewEncoder(&hbuf)
	enc := func(kv ...string) []byte {
		hbuf.Reset()
		for i := 0; i+1 < len(kv); i += 2 {
			_ = henc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		return bytes.Clone(hbuf.Bytes())
	}
	_ = fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 10})
	f(fr, enc)
	return buf.Bytes()
}

// FuzzHTTP2Server feeds the HTTP/2 client whatever a server might send
// after its request: the request ends (answered, failed or at its
// timeout), and the client never panics.
func FuzzHTTP2Server(f *testing.F) {
	f.Add(h2Reply(func(fr *http2.Framer, enc func(...string) []byte) {
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(":status", "200", "content-length", "5"), EndHeaders: true})
		_ = fr.WriteData(1, true, []byte("hello"))
	}))
	f.Add(h2Reply(func(fr *http2.Framer, enc func(...string) []byte) {
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(":status", "103"), EndHeaders: true})
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: enc(":status", "302", "location", "/x", "set-cookie", "a=1"), EndHeaders: true, EndStream: true})
		_ = fr.WriteGoAway(1, http2.ErrCodeNo, nil)
	}))
	f.Add(h2Reply(func(fr *http2.Framer, enc func(...string) []byte) {
		_ = fr.WritePing(false, [8]byte{1})
		_ = fr.WriteWindowUpdate(0, 1000)
		_ = fr.WriteRSTStream(1, http2.ErrCodeRefusedStream)
	}))
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	f.Add([]byte{0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 8, 0, 1, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, reply []byte) {
		client, server := net.Pipe()
		go func() { _, _ = io.Copy(io.Discard, server) }() // the preface, settings, request...
		go func() {
			_, _ = server.Write(reply)
			_ = server.Close()
		}()
		cc, err := newH2CC(&h2netConn{Conn: client, h2c: true}, time.Second)
		if err != nil {
			return
		}
		defer func() { cc.close(); <-cc.done }()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		st, err := cc.roundTrip(ctx, &h2request{method: "POST", scheme: "http", authority: "h", path: "/",
			body: []byte("body"), keepHeader: true})
		if err == nil {
			_, err = io.Copy(io.Discard, &h2body{st: st, ctx: ctx})
			st.close()
		}
		if errors.Is(err, errH2Internal) {
			t.Fatalf("the client's own bug: %v", err)
		}
	})
}
