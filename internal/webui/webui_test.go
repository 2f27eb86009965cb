package webui

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

const (
	fakeIndex = `<!doctype html><html><head>` +
		`<script type="module" src="./assets/index-abc123.js"></script>` +
		`<link rel="stylesheet" href="./assets/index-def456.css"></head><body><div id="app"></div></body></html>`
)

// fakeJS is big and repetitive enough to be served gzipped.
var fakeJS = strings.Repeat("console.log('horde');\n", 200)

func builtFS() fstest.MapFS {
	return fstest.MapFS{
		".gitkeep":                &fstest.MapFile{},
		"index.html":              &fstest.MapFile{Data: []byte(fakeIndex)},
		"assets/index-abc123.js":  &fstest.MapFile{Data: []byte(fakeJS)},
		"assets/index-def456.css": &fstest.MapFile{Data: []byte("body{color:#111}")},
		"favicon.svg":             &fstest.MapFile{Data: []byte("<svg/>")},
	}
}

func do(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandlerServesBuiltBundle(t *testing.T) {
	t.Parallel()
	h := handlerFor(builtFS())
	tests := []struct {
		name, method, path string
		wantCode           int
		wantBody           string // substring; "" checks nothing
		wantCache          string
		wantType           string // prefix
	}{
		{"root is index", "GET", "/", 200, `id="app"`, cacheRevalid, "text/html"},
		{"index by name", "GET", "/index.html", 200, `id="app"`, cacheRevalid, "text/html"},
		{"hashed script", "GET", "/assets/index-abc123.js", 200, "console.log", cacheImmutable, "text/javascript"},
		{"hashed style", "GET", "/assets/index-def456.css", 200, "color:#111", cacheImmutable, "text/css"},
		{"unhashed file revalidates", "GET", "/favicon.svg", 200, "<svg/>", cacheRevalid, "image/svg+xml"},
		{"head has no body", "HEAD", "/", 200, "", cacheRevalid, "text/html"},
		{"dot-dot is cleaned, not escaped", "GET", "/assets/../index.html", 200, `id="app"`, cacheRevalid, "text/html"},
		{"missing asset", "GET", "/assets/index-zzz.js", 404, "", "", ""},
		{"no directory listing", "GET", "/assets/", 404, "", "", ""},
		{"hidden placeholder", "GET", "/.gitkeep", 404, "", "", ""},
		{"api is not ours", "GET", "/api/v1/stats", 404, "", "", ""},
		{"no writes", "POST", "/", 405, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, h, tc.method, tc.path, nil)
			body := readBody(t, resp)
			if resp.StatusCode != tc.wantCode {
				t.Fatalf("%s %s: status %d, want %d (body %q)", tc.method, tc.path, resp.StatusCode, tc.wantCode, body)
			}
			if !strings.Contains(body, tc.wantBody) {
				t.Errorf("body %q does not contain %q", body, tc.wantBody)
			}
			if tc.method == "HEAD" && body != "" {
				t.Errorf("HEAD returned a body: %q", body)
			}
			if tc.wantCache != "" && resp.Header.Get("Cache-Control") != tc.wantCache {
				t.Errorf("Cache-Control %q, want %q", resp.Header.Get("Cache-Control"), tc.wantCache)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.wantType) {
				t.Errorf("Content-Type %q, want %q…", resp.Header.Get("Content-Type"), tc.wantType)
			}
		})
	}
}

func TestHandlerRevalidatesWithETag(t *testing.T) {
	t.Parallel()
	h := handlerFor(builtFS())
	first := do(t, h, "GET", "/", nil)
	readBody(t, first)
	etag := first.Header.Get("ETag")
	if etag == "" {
		t.Fatal("index.html has no ETag, so no-cache means a full download every time")
	}
	again := do(t, h, "GET", "/", map[string]string{"If-None-Match": etag})
	if body := readBody(t, again); again.StatusCode != http.StatusNotModified || body != "" {
		t.Fatalf("revalidation: status %d body %q, want 304 and no body", again.StatusCode, body)
	}
}

func TestHandlerGzipsLargeTextFiles(t *testing.T) {
	t.Parallel()
	h := handlerFor(builtFS())
	tests := []struct {
		name, acceptEncoding string
		wantGzip             bool
	}{
		{"gzip accepted", "gzip, deflate, br", true},
		{"gzip with weight", "br;q=1.0, gzip;q=0.8", true},
		{"gzip refused", "gzip;q=0, br", false},
		{"nothing accepted", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, h, "GET", "/assets/index-abc123.js", map[string]string{"Accept-Encoding": tc.acceptEncoding})
			raw := readBody(t, resp)
			if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tc.wantGzip {
				t.Fatalf("Content-Encoding %q, want gzip=%v", resp.Header.Get("Content-Encoding"), tc.wantGzip)
			}
			if resp.Header.Get("Vary") != "Accept-Encoding" {
				t.Errorf("Vary %q, want Accept-Encoding", resp.Header.Get("Vary"))
			}
			body := raw
			if tc.wantGzip {
				zr, err := gzip.NewReader(bytes.NewReader([]byte(raw)))
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(zr)
				if err != nil {
					t.Fatal(err)
				}
				body = string(b)
				if len(raw) >= len(body) {
					t.Errorf("gzipped %d bytes to %d", len(body), len(raw))
				}
			}
			if body != fakeJS {
				t.Errorf("decoded body differs from the file (%d vs %d bytes)", len(body), len(fakeJS))
			}
		})
	}
}

func TestHandlerNotBuilt(t *testing.T) {
	t.Parallel()
	h := handlerFor(fstest.MapFS{".gitkeep": &fstest.MapFile{}})
	tests := []struct {
		method, path string
		wantCode     int
		wantBody     string
	}{
		{"GET", "/", 200, "make build"},
		{"GET", "/index.html", 200, "make build"},
		{"HEAD", "/", 200, ""},
		{"GET", "/assets/index-abc123.js", 404, ""},
		{"DELETE", "/", 405, ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			t.Parallel()
			resp := do(t, h, tc.method, tc.path, nil)
			body := readBody(t, resp)
			if resp.StatusCode != tc.wantCode || !strings.Contains(body, tc.wantBody) {
				t.Fatalf("status %d body %q, want %d containing %q", resp.StatusCode, body, tc.wantCode, tc.wantBody)
			}
			if tc.wantCode == 200 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("Content-Type %q, want text/html", resp.Header.Get("Content-Type"))
			}
		})
	}
}

// TestEmbeddedBundle checks the real, embedded bundle: built, its index
// names only assets that are served; not built, "/" says how to build it.
func TestEmbeddedBundle(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(Handler())
	t.Cleanup(srv.Close)
	get := func(p string) (int, string) {
		resp, err := srv.Client().Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readBody(t, resp)
	}
	code, index := get("/")
	if code != http.StatusOK {
		t.Fatalf("GET /: status %d", code)
	}
	if !Built() {
		if !strings.Contains(index, "make build") {
			t.Fatalf("UI not built, but / does not say how to build it: %q", index)
		}
		t.Skip("UI not built (run make ui): only the not-built page was checked")
	}
	refs := regexp.MustCompile(`(?:src|href)="\.?/?(assets/[^"]+)"`).FindAllStringSubmatch(index, -1)
	if len(refs) < 2 {
		t.Fatalf("index.html references %d assets, want a script and a style sheet:\n%s", len(refs), index)
	}
	for _, m := range refs {
		if code, body := get("/" + m[1]); code != http.StatusOK || body == "" {
			t.Errorf("GET /%s: status %d, %d bytes", m[1], code, len(body))
		}
	}
}

// FuzzHandlerPath checks that no request path escapes the bundle or
// crashes the handler: the answer is a bundle file or 404.
func FuzzHandlerPath(f *testing.F) {
	for _, seed := range []string{"/", "/index.html", "/assets/index-abc123.js", "/../../etc/passwd", "//assets//", "/.gitkeep", "/%2e%2e/"} {
		f.Add(seed)
	}
	h := handlerFor(builtFS())
	served := map[string]bool{}
	for name, file := range builtFS() {
		served[string(file.Data)] = !strings.HasPrefix(name, ".")
	}
	f.Fuzz(func(t *testing.T, p string) {
		req, err := http.NewRequest("GET", "http://horde.test/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.Path = p
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			if !served[rec.Body.String()] {
				t.Fatalf("path %q served %q, which is not a bundle file", p, rec.Body.String())
			}
		case http.StatusNotFound:
		default:
			t.Fatalf("path %q: unexpected status %d", p, rec.Code)
		}
	})
}
