package cli

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    map[string][]string
		wantErr string
	}{
		{"locust style", "# comment\n[horde]\nusers = 10\nspawn_rate=2\nhost = \"http://x\"\n",
			map[string][]string{"users": {"10"}, "spawn-rate": {"2"}, "host": {"http://x"}}, ""},
		{"repeated", "tags = a\ntags = b\n", map[string][]string{"tags": {"a", "b"}}, ""},
		{"empty value", "csv =\n", map[string][]string{"csv": {""}}, ""},
		{"no equals", "users 10\n", nil, "c.conf:1: want \"key = value\""},
		{"no key", "\n = 3\n", nil, "c.conf:2: missing key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseConfig(strings.NewReader(tt.in), "c.conf")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add("users = 10\nspawn_rate = 2\n")
	f.Add("[x]\n#c\nk='v'\n")
	f.Add("=\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseConfig(strings.NewReader(s), "f.conf")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.conf") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for k := range m {
			if k == "" || strings.Contains(k, "_") {
				t.Fatalf("bad key %q", k)
			}
		}
	})
}
