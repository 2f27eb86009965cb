package script

import (
	"regexp"
	"testing"
)

// csv(split=True) deals the rows to workers: disjoint shares that cover
// every row, and the whole file without a share.
func TestCSVSplitSharesRows(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{
		// The script reports what it got through a load error: the public
		// way out of the top level.
		"main.star": []byte("rows = csv(\"u.csv\", split=True)\nall = csv(\"u.csv\")\n" +
			"fail(\"rows=\" + \" \".join([r[\"name\"] for r in rows]) + \";all=\" + str(len(all)) + \";\")\n"),
		"u.csv": []byte("name\na\nb\nc\nd\ne\n"),
	}
	rx := regexp.MustCompile(`rows=([a-z ]*);all=(\d+);`)
	tests := []struct {
		share Share
		want  string
	}{
		{Share{}, "a b c d e"},
		{Share{Index: 0, Count: 2}, "a c e"},
		{Share{Index: 1, Count: 2}, "b d"},
		{Share{Index: 2, Count: 3}, "c"},
		{Share{Index: 4, Count: 3}, "b e"}, // a late joiner shares index 4 mod 3
	}
	for _, tt := range tests {
		_, err := LoadFiles(files, "main.star", Options{Share: tt.share})
		if err == nil {
			t.Fatal("the script's fail() did not stop the load")
		}
		m := rx.FindStringSubmatch(err.Error())
		if m == nil {
			t.Fatalf("unexpected error: %v", err)
		}
		if m[1] != tt.want || m[2] != "5" {
			t.Errorf("share %+v: rows %q (all %s), want %q (all 5)", tt.share, m[1], m[2], tt.want)
		}
	}
}
