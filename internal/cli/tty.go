package cli

import (
	"os"

	"github.com/horde-load/horde/internal/report"
	"golang.org/x/term"
)

// stdoutTerminal is what the process's standard output is.
func stdoutTerminal() report.Terminal {
	fd := int(os.Stdout.Fd())
	if !term.IsTerminal(fd) {
		return report.Terminal{}
	}
	w, h, err := term.GetSize(fd)
	if err != nil || w <= 0 {
		w, h = 120, 0
	}
	return report.Terminal{TTY: true, Width: w, Height: h}
}
