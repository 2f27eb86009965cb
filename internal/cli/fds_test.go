package cli

import (
	"strings"
	"testing"

	"github.com/horde-load/horde/internal/exitcode"
)

// More users in one process than it can hold connections for are refused
// up front, naming how many processes would do.
func TestCheckOpenFiles(t *testing.T) {
	t.Parallel()
	if err := checkOpenFiles(18000, 1, 20000); err != nil {
		t.Errorf("18,000 users under a limit of 20,000: %v", err)
	}
	err := checkOpenFiles(25000, 1, 20000)
	if exitcode.Code(err) != exitcode.BadInput || !strings.Contains(err.Error(), "--processes 2") {
		t.Errorf("25,000 users under 20,000: %v, want exit 2 suggesting --processes 2", err)
	}
	if err := checkOpenFiles(1000, 1, 0); err != nil {
		t.Errorf("an unknown limit: %v", err)
	}
	r := horde(t, nil, "run", "http://127.0.0.1:1/", "--headless", "-u", "100000", "-t", "1s")
	if r.code != exitcode.BadInput || !strings.Contains(r.stderr, "open files") {
		t.Errorf("100,000 users in one process: exit %d %q", r.code, r.stderr)
	}
}
