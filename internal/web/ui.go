package web

import (
	"net/http"
	"strings"
)

// uiMissingPage is what GET / shows when the binary was built without the
// UI bundle.
const uiMissingPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>horde</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>horde</h1>
<p>The web UI is not built into this binary: run <code>make build</code>.</p>
<p>The API works: <a href="api/v1/stats">api/v1/stats</a>, <a href="metrics">metrics</a>,
<a href="api/v1/report.html">the HTML report</a>.</p>
</body></html>
`

// notFound handles a path no API route matches: under /api/ it is a JSON
// 404 (a client of the API wants an error it can read); anything else is
// the UI's (its files, and its own routes if it has any).
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	api := r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")
	switch {
	case !api && s.ui != nil:
		s.ui.ServeHTTP(w, r)
	case !api && r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(uiMissingPage))
	default:
		s.writeError(w, http.StatusNotFound, "not found")
	}
}
