// Package examples holds horde's example scripts. They are embedded so
// that `horde demo` can run the tutorial's scenario from anywhere.
package examples

import "embed"

// Files are the example scripts and their data files.
//
//go:embed *.star *.csv
var Files embed.FS
