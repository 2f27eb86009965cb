package web

import (
	"net/http"
	"strings"
)

// notFound handles a path no API route matches: under /api/ it is a JSON
// 404 (a client of the API wants an error it can read); anything else is
// the UI's (its files, and its own routes if it has any; package webui
// says how to build the UI when the binary has none).
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	api := r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")
	switch {
	case !api && s.ui != nil:
		s.ui.ServeHTTP(w, r)
	default:
		s.writeError(w, http.StatusNotFound, "not found")
	}
}
