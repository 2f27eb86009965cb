package runstore

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"latest", "latest-passed", "LATEST", "3f9a", "3f9a2c01dd4e5b67", "3f9", "xyz1", " latest ", "3f9a2c01dd4e5b6789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			return
		}
		switch r.Kind {
		case RefLatest, RefLatestPassed:
			if r.ID != "" {
				t.Errorf("%q: %+v", s, r)
			}
		case RefID:
			if len(r.ID) < MinPrefix || len(r.ID) > 2*idBytes || strings.Trim(r.ID, "0123456789abcdef") != "" {
				t.Errorf("%q: id %q is not 4-16 lower-case hex digits", s, r.ID)
			}
			if !strings.EqualFold(strings.TrimSpace(s), r.ID) {
				t.Errorf("%q: id %q is not what was typed", s, r.ID)
			}
		default:
			t.Errorf("%q: kind %d", s, r.Kind)
		}
	})
}

func FuzzParseLabel(f *testing.F) {
	for _, s := range []string{"env=prod", "k=", "=v", "a=b=c", "no-equals", "sp ace=x", "k=\x00", "ké=vé"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, v, err := ParseLabel(s)
		if err != nil {
			return
		}
		if k+"="+v != s || k == "" || strings.ContainsAny(k, "= \t\n\x00") || strings.ContainsRune(v, 0) {
			t.Errorf("ParseLabel(%q) = %q, %q", s, k, v)
		}
		if cleanText(k) != k && utf8.ValidString(k) {
			t.Errorf("key %q would change when stored", k)
		}
	})
}

func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{"", "runs.db", "sqlite:runs.db", "sqlite://", "postgres://u:p@h/db", "postgresql://h:5432/x?sslmode=disable",
		"mysql://x", "postgres://%zz", "C:\\runs.db", "./a://b", "postgres:///db?host=/tmp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLocation(s)
		if err != nil {
			return
		}
		switch l.Kind {
		case KindSQLite:
			if l.Path == "" || l.URL != "" || !strings.HasSuffix(s, l.Path) {
				t.Errorf("%q: %+v", s, l)
			}
		case KindPostgres:
			if l.URL != s || l.Path != "" {
				t.Errorf("%q: %+v", s, l)
			}
			_ = l.String()
		default:
			t.Errorf("%q: kind %q", s, l.Kind)
		}
	})
}

// FuzzSpoolFile feeds FlushSpool's reader arbitrary files: it returns a
// run that a store can take, or an error, never a panic.
func FuzzSpoolFile(f *testing.F) {
	good, _ := json.Marshal(spoolFile{Store: "x", Row: row{Seq: 2, Run: Run{ID: "0123456789abcdef", Status: StatusRunning}, History: []byte{1, 2}}})
	f.Add(good)
	f.Add([]byte(`{"row":{"seq":1,"run":{"ID":"0123456789abcdef","Status":"done"}}}`))
	f.Add([]byte(`{`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		name := filepath.Join(dir, "k_0123456789abcdef.json")
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
		w, err := readSpoolFile(name)
		if err != nil {
			return
		}
		if w.Run.ID != "0123456789abcdef" || !w.Run.Status.Valid() || w.Seq < 1 {
			t.Errorf("accepted %+v", w)
		}
	})
}

// FuzzDecompress reads arbitrary stored blobs; compress and decompress
// round-trip.
func FuzzDecompress(f *testing.F) {
	var c compressor
	f.Add([]byte{}, []byte{blobGzip, 0x1f, 0x8b})
	f.Add([]byte("history"), []byte{blobRaw, 'x'})
	f.Fuzz(func(t *testing.T, plain, stored []byte) {
		_, _ = decompress(stored)
		got, err := decompress(c.compress(plain))
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("round trip of %d bytes: %d bytes, %v", len(plain), len(got), err)
		}
	})
}
