package cli

import (
	"os"

	"golang.org/x/term"
)

func stdoutTTY() (bool, int) {
	fd := int(os.Stdout.Fd())
	if !term.IsTerminal(fd) {
		return false, 0
	}
	w, _, err := term.GetSize(fd)
	if err != nil || w <= 0 {
		w = 120
	}
	return true, w
}
