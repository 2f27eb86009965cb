package cli

import (
	"io"
	"strings"
	"testing"
)

// FuzzRunFlags parses arbitrary command lines and environment values for
// `horde run`: never a panic, and a flag that parsed keeps a sane value.
func FuzzRunFlags(f *testing.F) {
	f.Add("-u 10 -r 2 -t 1m30s --headless", "5")
	f.Add("--users=abc", "x")
	f.Add("-t -1 --stop-timeout 1e99", "1h")
	f.Add("--tags a,b -E c --json", "")
	f.Fuzz(func(t *testing.T, args, envVal string) {
		env := Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) (string, bool) {
			if k == "HORDE_RUN_TIME" || k == "HORDE_USERS" || k == "HORDE_TAGS" {
				return envVal, true
			}
			return "", false
		}}
		cmd := newRunCmd(env)
		cmd.RunE = nil
		if err := cmd.ParseFlags(strings.Fields(args)); err != nil {
			return
		}
		if _, err := sources(cmd, env); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if rt := cmd.Flags().Lookup("run-time").Value.String(); strings.HasPrefix(rt, "-") {
			t.Fatalf("negative run time accepted: %q", rt)
		}
	})
}
