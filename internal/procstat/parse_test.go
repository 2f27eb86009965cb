package procstat

import (
	"fmt"
	"strings"
	"testing"
)

// statLine builds a /proc/<pid>/stat line as the kernel writes it, with
// the given comm and times and plausible values everywhere else.
func statLine(comm string, utime, stime, start uint64) string {
	after := []string{"R", "1", "1", "0", "0", "-1", "4194304", "101", "0", "0", "0",
		fmt.Sprint(utime), fmt.Sprint(stime), "0", "0", "20", "0", "12", "0",
		fmt.Sprint(start), "3133440", "382", "18446744073709551615"}
	for range 30 {
		after = append(after, "0")
	}
	return "4242 (" + comm + ") " + strings.Join(after, " ") + "\n"
}

func TestParseStat(t *testing.T) {
	t.Parallel()
	real := "3023 (cat) R 3020 3020 1405 0 -1 4194304 101 0 0 0 7 3 0 0 20 0 1 0 2126277 " +
		"3133440 382 18446744073709551615 94068031160320 94068031180201 140734504832320 0 0 0 0 0 0 0 " +
		"0 0 17 1 0 0 0 0 0 94068031196208 94068031197824 94068281290752 140734504835778 " +
		"140734504835798 140734504835798 140734504837099 0\n"
	tests := []struct {
		name    string
		in      string
		want    procStat
		wantErr bool
	}{
		{name: "real line", in: real, want: procStat{utime: 7, stime: 3, starttime: 2126277}},
		{name: "plain comm", in: statLine("horde", 150, 50, 1000), want: procStat{150, 50, 1000}},
		{name: "comm with spaces", in: statLine("my worker 1", 1, 2, 3), want: procStat{1, 2, 3}},
		{name: "comm with parens", in: statLine("a) R 9 9 (b", 11, 12, 13), want: procStat{11, 12, 13}},
		{name: "comm is a close paren", in: statLine(")", 4, 5, 6), want: procStat{4, 5, 6}},
		{name: "empty comm", in: statLine("", 4, 5, 6), want: procStat{4, 5, 6}},
		{name: "big numbers", in: statLine("x", 1<<62, 1<<40, 1<<50), want: procStat{1 << 62, 1 << 40, 1 << 50}},
		{name: "empty", in: "", wantErr: true},
		{name: "no parens", in: "1 cat R 1 2 3", wantErr: true},
		{name: "close before open", in: "1 )cat( R " + strings.Repeat("0 ", 30), wantErr: true},
		{name: "too few fields", in: "1 (cat) R 1 2 3 4 5 6 7 8 9 10 11 12", wantErr: true},
		{name: "negative utime", in: strings.Replace(statLine("x", 77, 0, 0), " 77 ", " -77 ", 1), wantErr: true},
		{name: "text in starttime", in: strings.Replace(statLine("x", 0, 0, 987654), "987654", "abc", 1), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseStat([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseStat error = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("parseStat = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseStatm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{in: "765 423 395 5 0 123 0\n", want: 423},
		{in: "1 0 0 0 0 0 0", want: 0},
		{in: "765", wantErr: true},
		{in: "", wantErr: true},
		{in: "765 x 395", wantErr: true},
		{in: "765 -1 395", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseStatm([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseStatm(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("parseStatm(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzParseStat checks that any input parses or fails without panicking,
// and that a line the kernel could write parses back to its own times
// whatever the comm holds.
func FuzzParseStat(f *testing.F) {
	f.Add([]byte(statLine("horde", 150, 50, 1000)), "horde", uint64(1), uint64(2), uint64(3))
	f.Add([]byte(statLine("a) b (c", 1, 2, 3)), "a) b (c", uint64(0), uint64(0), uint64(0))
	f.Add([]byte("1 (x"), ") ) )", uint64(1<<63), uint64(9), uint64(1))
	f.Add([]byte(""), "", uint64(0), uint64(0), uint64(0))
	f.Fuzz(func(t *testing.T, raw []byte, comm string, utime, stime, start uint64) {
		_, _ = parseStat(raw)
		want := procStat{utime: utime, stime: stime, starttime: start}
		got, err := parseStat([]byte(statLine(comm, utime, stime, start)))
		if err != nil {
			t.Fatalf("parseStat of a valid line with comm %q: %v", comm, err)
		}
		if got != want {
			t.Fatalf("comm %q: parseStat = %+v, want %+v", comm, got, want)
		}
	})
}
