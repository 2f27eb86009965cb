package memtune

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Trim drops from this process's page tables the read-only pages of its
// executable (code, constants, tables of the runtime), so that its
// resident memory counts only the pages it touches from now on. Call it
// once start-up is over: package initialisation alone touches code and
// data of every package linked in — the Kubernetes client libraries of
// `horde operator` and `horde kube` too — about 40 MB resident in every
// horde process, of which a process running users uses 4 to 5 MB
// afterwards. The pages stay in the page cache, shared by every process
// running the binary; one used again is mapped again on its next access.
//
// Only mappings of the executable file that are not writable and hold no
// private copy of a page (smaps "Anonymous: 0 kB") are dropped: they are
// exactly the file's contents. It returns how many bytes were resident in
// them.
func Trim() (int64, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, err
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	var dropped int64
	for _, m := range parseSmaps(smaps) {
		if m.path != exe || strings.Contains(m.perms, "w") || m.anon != 0 || m.rss == 0 {
			continue
		}
		// MADV_DONTNEED on a private file mapping with no private page
		// only unmaps: the next access maps the page cache's page again.
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_DONTNEED); e != 0 {
			return dropped, fmt.Errorf("madvise %x-%x: %w", m.start, m.end, e)
		}
		dropped += m.rss
	}
	return dropped, nil
}

// mapping is one entry of /proc/self/smaps.
type mapping struct {
	start, end uintptr
	perms      string
	path       string
	rss, anon  int64 // bytes
}

// parseSmaps reads the mappings of a smaps file (proc(5)): a header line
// "start-end perms offset dev inode [path]" then "Key: value kB" lines.
func parseSmaps(b []byte) []mapping {
	var out []mapping
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		line := s.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if strings.HasSuffix(f[0], ":") {
			if len(out) == 0 || len(f) < 2 {
				continue
			}
			m := &out[len(out)-1]
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				continue
			}
			switch f[0] {
			case "Rss:":
				m.rss = n << 10
			case "Anonymous:":
				m.anon = n << 10
			}
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok || len(f) < 5 {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		m := mapping{start: uintptr(start), end: uintptr(end), perms: f[1], anon: -1}
		if len(f) >= 6 {
			// The path may contain spaces (and ends " (deleted)" when
			// the file was replaced): everything after the inode.
			m.path = strings.Join(f[5:], " ")
		}
		out = append(out, m)
	}
	return out
}
