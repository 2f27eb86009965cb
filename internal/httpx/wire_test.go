package httpx

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// readAll parses one response from s as the client does and returns its
// head and body.
func readAll(s, method string) (head, []byte, error) {
	br := bufio.NewReaderSize(strings.NewReader(s), readBufSize)
	var scratch []byte
	var h head
	if err := readHead(br, &scratch, true, &h); err != nil {
		return h, nil, err
	}
	var fr bodyReader
	fr.frame(br, &scratch, method, &h)
	body, err := io.ReadAll(&fr)
	return h, body, err
}

func TestReadResponse(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("v", 10_000) // longer than the read buffer
	tests := []struct {
		name, in, method string
		status           int
		body             string
		close            bool
		cookies          int
	}{
		{"content length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "GET", 200, "hello", false, 0},
		{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", "GET", 200, "hi", false, 0},
		{"no reason phrase", "HTTP/1.1 204\r\n\r\n", "GET", 204, "", false, 0},
		{"chunked with extension and trailer",
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
			"GET", 200, "hello world", false, 0},
		{"chunked wins over length and closes",
			"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "GET", 200, "ok", true, 0},
		{"until close", "HTTP/1.1 200 OK\r\n\r\nstream", "GET", 200, "stream", true, 0},
		{"HTTP/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", "GET", 200, "x", true, 0},
		{"HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", "GET", 200, "x", false, 0},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 1\r\n\r\nx", "GET", 200, "x", true, 0},
		{"HEAD has no body", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", "HEAD", 200, "", false, 0},
		{"304 has no body", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", "GET", 304, "", false, 0},
		{"1xx skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", "POST", 201, "", false, 0},
		{"same length twice", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", "GET", 200, "x", false, 0},
		{"cookies", "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2; Path=/\r\nContent-Length: 0\r\n\r\n", "GET", 200, "", false, 2},
		{"switching protocols closes", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", "GET", 101, "", true, 0},
		{"long header line", "HTTP/1.1 200 OK\r\nX-Long: " + long + "\r\nContent-Length: 0\r\n\r\n", "GET", 200, "", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, body, err := readAll(tt.in, tt.method)
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if h.status != tt.status || string(body) != tt.body || h.close != tt.close || len(h.setCookies) != tt.cookies {
				t.Fatalf("status %d body %q close %v cookies %d; want %d %q %v %d",
					h.status, body, h.close, len(h.setCookies), tt.status, tt.body, tt.close, tt.cookies)
			}
			// What net/http makes of the same bytes agrees.
			resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(tt.in)), &http.Request{Method: tt.method})
			if err != nil {
				t.Fatalf("net/http: %v", err)
			}
			for resp.StatusCode < 200 && resp.StatusCode != 101 { // net/http's Transport skips these, ReadResponse does not
				resp, err = http.ReadResponse(bufio.NewReader(strings.NewReader(tt.in[strings.Index(tt.in, "\r\n\r\n")+4:])), &http.Request{Method: tt.method})
				if err != nil {
					t.Fatalf("net/http: %v", err)
				}
				tt.in = tt.in[strings.Index(tt.in, "\r\n\r\n")+4:]
			}
			want, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != h.status || !bytes.Equal(want, body) {
				t.Fatalf("net/http reads %d %q, horde %d %q", resp.StatusCode, want, h.status, body)
			}
		})
	}
}

// Responses that are not HTTP/1.1 are protocol errors (or EOF), never a
// hang or a crash, and nothing past a limit is buffered.
func TestReadResponseRefusesMalformed(t *testing.T) {
	t.Parallel()
	huge := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: "+strings.Repeat("a", 1000)+"\r\n", 1100) + "\r\n"
	tests := []struct {
		name, in string
		want     string
	}{
		{"not HTTP", "hello\r\n\r\n", KindProtocol},
		{"HTTP/2 preface", "HTTP/2 200\r\n\r\n", KindProtocol},
		{"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", KindProtocol},
		{"status 099", "HTTP/1.1 099 X\r\n\r\n", KindProtocol},
		{"header without colon", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", KindProtocol},
		{"space in name", "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", KindProtocol},
		{"folded line", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", KindProtocol},
		{"negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", KindProtocol},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", KindProtocol},
		{"gzip transfer encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", KindProtocol},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", KindProtocol},
		{"chunk without CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n", KindProtocol},
		{"headers over 1 MiB", huge, KindProtocol},
		{"cut in the head", "HTTP/1.1 200 OK\r\nContent-Le", KindEOF},
		{"cut in the body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", KindEOF},
		{"cut in a chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nabc", KindEOF},
		{"empty", "", KindEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := readAll(tt.in, "GET")
			if err == nil {
				t.Fatal("accepted")
			}
			if got := ClassifyError(err); got != tt.want {
				t.Fatalf("kind %q (%v), want %q", got, err, tt.want)
			}
		})
	}
}

func TestWriteRequest(t *testing.T) {
	t.Parallel()
	o := &Options{UserAgent: "horde/x"}
	h := http.Header{"X-A": {"1", "2"}, "Cookie": {"mine=1"}}
	buf, err := writeRequest(nil, "POST", "/p?q=1", "example.test", h, o, "jar=2", "", 3)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(append(buf, "abc"...))))
	if err != nil {
		t.Fatalf("net/http cannot read what horde wrote: %v\n%s", err, buf)
	}
	body, _ := io.ReadAll(req.Body)
	if req.Method != "POST" || req.RequestURI != "/p?q=1" || req.Host != "example.test" || string(body) != "abc" ||
		req.Header.Get("User-Agent") != "horde/x" || req.Header.Get("Accept-Encoding") != "gzip" ||
		len(req.Header["X-A"]) != 2 || req.Header.Get("Cookie") != "mine=1; jar=2" || len(req.Header["Cookie"]) != 1 {
		t.Fatalf("request as read by net/http: %+v", req)
	}
	for _, bad := range []http.Header{
		{"X-Evil": {"a\r\nX-Injected: 1"}},
		{"Bad Name": {"x"}},
		{"X-Nul": {"a\x00b"}},
	} {
		if _, err := writeRequest(nil, "GET", "/", "h", bad, o, "", "", 0); err == nil {
			t.Errorf("header %q accepted", bad)
		}
	}
}

func TestHeadersAreParsedOnDemand(t *testing.T) {
	t.Parallel()
	r := &Response{raw: []byte("content-type: text/plain\nX-Two: a\nx-two: b\nContent-Length: 3\n")}
	h := r.Headers()
	if h.Get("Content-Type") != "text/plain" || len(h["X-Two"]) != 2 || h.Get("Content-Length") != "3" {
		t.Fatalf("headers %v", h)
	}
	r = &Response{raw: []byte("Content-Encoding: gzip\nContent-Length: 3\nVary: x\n"), uncompressed: true}
	if h := r.Headers(); len(h) != 1 || h.Get("Vary") != "x" {
		t.Fatalf("decoded body: headers %v, want Content-Encoding and Content-Length gone", h)
	}
	if h := (&Response{}).Headers(); h == nil || len(h) != 0 {
		t.Fatalf("failed response: headers %v, want empty", h)
	}
}

func gzipped(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// FuzzReadResponse: whatever a server sends, the parser ends with a
// response or an error (no panic, no hang), never keeps more than its
// limits, and where net/http accepts the same bytes it reads the same
// status and body.
func FuzzReadResponse(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false)
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", false)
	f.Add("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 404 Not Found\r\n\r\nbody", true)
	f.Add("HTTP/1.1 301 Moved\r\nLocation: /x\r\nSet-Cookie: a=b\r\nContent-Length: 0\r\n\r\n", false)
	f.Fuzz(func(t *testing.T, in string, head bool) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		h, body, err := readAll(in, method)
		if err != nil {
			if ClassifyError(err) == "" {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if h.status < 100 || h.status > 999 || len(body) > len(in) || len(h.raw) > maxHeadBytes {
			t.Fatalf("status %d, body %d bytes of %d in, raw %d", h.status, len(body), len(in), len(h.raw))
		}
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(in)), &http.Request{Method: method})
		if err != nil || resp.StatusCode < 200 {
			return // net/http is stricter or looser in places, and returns 1xx; only agreement is checked
		}
		want, err := io.ReadAll(resp.Body)
		if err != nil || errors.Is(err, io.ErrUnexpectedEOF) {
			return
		}
		if resp.StatusCode != h.status || !bytes.Equal(want, body) {
			t.Fatalf("net/http reads %d %q, horde %d %q", resp.StatusCode, want, h.status, body)
		}
	})
}
