package webui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

const (
	indexName = "index.html"
	// assetsDir holds Vite's content-hashed files: a changed file gets a
	// new name, so they can be cached for good.
	assetsDir      = "assets/"
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheRevalid   = "no-cache"
	// minGzip is the smallest file worth compressing.
	minGzip = 1024
)

// file is one file of the bundle, loaded once: the bundle is small
// (about 100 KB) and read-only, so serving from memory is simplest.
type file struct {
	body  []byte
	gz    []byte // body gzipped, or nil when not worth it
	etag  string
	ctype string
	cache string
}

// bundleHandler serves a loaded bundle.
type bundleHandler struct {
	files map[string]*file
}

var _ http.Handler = (*bundleHandler)(nil)

// handlerFor returns the handler for a bundle rooted at fsys: the UI when
// fsys holds index.html, the "not built" page otherwise. Files whose name
// starts with a dot (dist/.gitkeep) are never served.
func handlerFor(fsys fs.FS) http.Handler {
	files, err := load(fsys)
	if err != nil || files[indexName] == nil {
		return http.HandlerFunc(serveNotBuilt)
	}
	return &bundleHandler{files: files}
}

// load reads every regular, non-hidden file of fsys.
func load(fsys fs.FS) (map[string]*file, error) {
	files := make(map[string]*file)
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		files[name] = newFile(name, body)
		return nil
	})
	return files, err
}

func newFile(name string, body []byte) *file {
	sum := sha256.Sum256(body)
	f := &file{
		body:  body,
		etag:  `"` + hex.EncodeToString(sum[:12]) + `"`,
		ctype: mime.TypeByExtension(path.Ext(name)),
		cache: cacheRevalid,
	}
	if strings.HasPrefix(name, assetsDir) {
		f.cache = cacheImmutable
	}
	if len(body) >= minGzip && compressible(f.ctype) {
		f.gz = gzipped(body)
	}
	return f
}

// compressible reports whether a content type is text that gzip shrinks.
func compressible(ctype string) bool {
	for _, p := range []string{"text/", "application/javascript", "application/json", "image/svg+xml"} {
		if strings.HasPrefix(ctype, p) {
			return true
		}
	}
	return false
}

func gzipped(body []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
	if _, err := zw.Write(body); err != nil {
		return nil
	}
	if err := zw.Close(); err != nil {
		return nil
	}
	if buf.Len() >= len(body) {
		return nil
	}
	return buf.Bytes()
}

// ServeHTTP serves GET and HEAD of the bundle's files; "/" is index.html.
func (h *bundleHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = indexName
	}
	f := h.files[name]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Cache-Control", f.cache)
	hdr.Set("X-Content-Type-Options", "nosniff")
	if f.ctype != "" {
		hdr.Set("Content-Type", f.ctype)
	}
	body, etag := f.body, f.etag
	if f.gz != nil {
		hdr.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body, etag = f.gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
			hdr.Set("Content-Encoding", "gzip")
		}
	}
	hdr.Set("ETag", etag)
	// ServeContent answers conditional (If-None-Match) and range requests.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
				v, err := strconv.ParseFloat(strings.TrimSpace(q), 64)
				return err == nil && v > 0
			}
			return true
		}
	}
	return false
}

// notBuiltPage is what a binary built without the UI shows.
const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>horde: UI not built</title><link rel="icon" href="data:,"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 3em auto; color: #1d2329">
<h1>horde</h1>
<p>This binary was built without the web UI. Run <code>make build</code> (it needs Node.js and npm)
to build the UI and embed it.</p>
<p>The API works all the same: <a href="api/v1/stats">api/v1/stats</a>,
<a href="api/v1/report.html">api/v1/report.html</a>, <a href="metrics">metrics</a>.</p>
</body></html>
`

// serveNotBuilt answers "/" with notBuiltPage and anything else with 404.
func serveNotBuilt(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if p := path.Clean("/" + r.URL.Path); p != "/" && p != "/"+indexName {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", cacheRevalid)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write([]byte(notBuiltPage))
	}
}
