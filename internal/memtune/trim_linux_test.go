package memtune

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func TestParseSmaps(t *testing.T) {
	t.Parallel()
	const smaps = `00400000-00800000 r-xp 00000000 08:01 1234 /usr/bin/horde
Size:               4096 kB
Rss:                1200 kB
Anonymous:             0 kB
00800000-00900000 rw-p 00400000 08:01 1234 /usr/bin/horde
Rss:                  64 kB
Anonymous:            64 kB
7f0000000000-7f0000001000 r--p 00000000 08:01 99 /tmp/my dir/horde (deleted)
Rss:                   4 kB
Anonymous:             4 kB
7f0000002000-7f0000003000 rw-p 00000000 00:00 0
Rss:                   8 kB
VmFlags: rd wr mr mw me ac
`
	got := parseSmaps([]byte(smaps))
	want := []mapping{
		{start: 0x400000, end: 0x800000, perms: "r-xp", path: "/usr/bin/horde", rss: 1200 << 10, anon: 0},
		{start: 0x800000, end: 0x900000, perms: "rw-p", path: "/usr/bin/horde", rss: 64 << 10, anon: 64 << 10},
		{start: 0x7f0000000000, end: 0x7f0000001000, perms: "r--p", path: "/tmp/my dir/horde (deleted)", rss: 4 << 10, anon: 4 << 10},
		// No Anonymous line: unknown, never taken for "no private page".
		{start: 0x7f0000002000, end: 0x7f0000003000, perms: "rw-p", path: "", rss: 8 << 10, anon: -1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("parseSmaps:\n got %+v\nwant %+v", got, want)
	}
}

// exeRSS returns the resident bytes of this process's read-only mappings
// of its executable, as Trim selects them.
func exeRSS(t *testing.T) int64 {
	t.Helper()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, m := range parseSmaps(b) {
		if m.path == exe && !strings.Contains(m.perms, "w") && m.anon == 0 {
			n += m.rss
		}
	}
	return n
}

// work runs code of several packages and checks its results: after Trim,
// the process must go on running code it had paged in before.
func work() (string, error) {
	var sb strings.Builder
	for i := range 200 {
		fmt.Fprintf(&sb, "%d:%x;", i, sha256.Sum256([]byte(fmt.Sprint(i))))
	}
	words := strings.Split(sb.String(), ";")
	sort.Strings(words)
	b, err := json.Marshal(map[string]any{"n": len(words), "first": words[1]})
	if err != nil {
		return "", err
	}
	if !regexp.MustCompile(`^\{"first":"0:[0-9a-f]{64}","n":201\}$`).Match(b) {
		return "", fmt.Errorf("unexpected %s", b)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b)), nil
}

// TestTrim drops the executable's read-only pages and checks that they
// left the resident set and that the process keeps running: the same
// work gives the same result after the trim as before it.
func TestTrim(t *testing.T) {
	t.Parallel()
	want, err := work()
	if err != nil {
		t.Fatal(err)
	}
	before := exeRSS(t)
	if before == 0 {
		t.Skip("no resident read-only page of the executable to trim")
	}
	dropped, err := Trim()
	if err != nil {
		t.Fatalf("Trim: %v", err)
	}
	if dropped <= 0 {
		t.Fatalf("Trim dropped %d bytes of %d resident", dropped, before)
	}
	after := exeRSS(t)
	if after >= before {
		t.Fatalf("read-only executable pages resident: %d KiB before Trim, %d KiB after", before>>10, after>>10)
	}
	for range 3 {
		got, err := work()
		if err != nil {
			t.Fatalf("after Trim: %v", err)
		}
		if got != want {
			t.Fatalf("after Trim the same work gave %s, before %s", got, want)
		}
	}
	t.Logf("Trim: %d KiB resident before, %d KiB dropped, %d KiB after (other tests run too)", before>>10, dropped>>10, after>>10)
}
