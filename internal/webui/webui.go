// Package webui serves horde's browser UI: the static bundle that
// `make ui` builds from ui/ into dist/, embedded in the binary at compile
// time. The master mounts Handler at "/".
//
// It is not the API: the page talks to /api/v1/... and its SSE stream,
// which package web serves. When the binary was built without the bundle
// (plain `go build`, no Node), Handler serves a short page that says how
// to build it, so Go builds and tests never need Node.
package webui

import (
	"embed"
	"io/fs"
	"net/http"
)

// dist is the built bundle; only dist/.gitkeep is committed.
//
//go:embed all:dist
var dist embed.FS

// Handler returns the handler that serves the UI: index.html at "/" (never
// cached without revalidation) and the content-hashed files under
// /assets/ (cached for a year). Anything else is 404.
func Handler() http.Handler {
	return handlerFor(bundle())
}

// bundle is the embedded dist directory as the root of a file system.
func bundle() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil { // cannot happen: "dist" is a valid, embedded path
		panic(err)
	}
	return sub
}
