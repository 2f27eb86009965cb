package runstore

import (
	"os"
	"testing"

	"github.com/horde-load/horde/internal/runstore/pgtest"
)

// pgShared is the package's one PostgreSQL server.
var pgShared pgtest.Shared

// postgres returns the shared server, or skips the test with the reason.
func postgres(t testing.TB) *pgtest.Server { return pgShared.Get(t) }

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	code := m.Run()
	pgShared.Close()
	os.Exit(code)
}
