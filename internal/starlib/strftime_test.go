package starlib

import (
	"strings"
	"testing"
	"time"
)

// FuzzStrftime: any format gives a string or an error, never a panic;
// text without directives comes out as it went in.
func FuzzStrftime(f *testing.F) {
	f.Add("%Y-%m-%d %H:%M:%S.%f %z %Z %a %A %b %B %j %p %y %%", int64(1709647629))
	f.Add("%c|%x|%X|%I|%w|%u|%G|%V", int64(-1))
	f.Add("%", int64(0))
	f.Add("%Q plain", int64(1<<40))
	f.Fuzz(func(t *testing.T, format string, sec int64) {
		out, err := Strftime(format, time.Unix(sec, 0).UTC())
		if err != nil {
			return
		}
		if !strings.Contains(format, "%") && out != format {
			t.Fatalf("Strftime(%q) = %q", format, out)
		}
	})
}
