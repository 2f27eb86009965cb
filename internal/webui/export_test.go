package webui

import "io/fs"

// Helpers the tests use that the program does not.

// Built reports whether the binary embeds a built UI; when it does not,
// Handler serves the "run make build" page.
func Built() bool {
	_, err := fs.Stat(bundle(), indexName)
	return err == nil
}
