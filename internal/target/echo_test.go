package target

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// /echo reads forms, files and cookies as a script's port needs to check
// them; /basic-auth and /cookies behave like httpbin's.
func TestEchoFormsFilesCookies(t *testing.T) {
	t.Parallel()
	_, hs := start(t, Options{})
	c := client(t, hs, false)

	r := call(t, c, "POST", hs.URL+"/echo", "application/x-www-form-urlencoded", "user=a&user=b&x=1")
	form := r.decode(t)["form"].(map[string]any)
	if r.status != 200 || form["x"].([]any)[0] != "1" || len(form["user"].([]any)) != 2 {
		t.Fatalf("url-encoded form: %d %s", r.status, r.body)
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("title", "report")
	fw, _ := mw.CreateFormFile("upload", "a.txt")
	_, _ = fw.Write([]byte("hello file"))
	_ = mw.Close()
	r = call(t, c, "POST", hs.URL+"/echo", mw.FormDataContentType(), body.String())
	got := r.decode(t)
	f := got["files"].(map[string]any)["upload"].([]any)[0].(map[string]any)
	if f["filename"] != "a.txt" || f["content"] != "hello file" || f["size"] != 10.0 ||
		got["form"].(map[string]any)["title"].([]any)[0] != "report" {
		t.Fatalf("multipart: %s", r.body)
	}

	req, _ := http.NewRequest("GET", hs.URL+"/echo", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: "s1"})
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ Cookies map[string]string }
	if err := decodeJSON(resp, &e); err != nil || e.Cookies["session"] != "s1" {
		t.Fatalf("cookies: %+v %v", e, err)
	}

	r = call(t, c, "POST", hs.URL+"/echo", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ncut short")
	r.wantError(t, http.StatusBadRequest, "reading the form")
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	s, hs := start(t, Options{})
	c := client(t, hs, false)
	for _, tc := range []struct {
		user, pass string
		set        bool
		want       int
	}{{"ann", "pw", true, 200}, {"ann", "bad", true, 401}, {"", "", false, 401}} {
		req, _ := http.NewRequest("GET", hs.URL+"/basic-auth/ann/pw", nil)
		if tc.set {
			req.SetBasicAuth(tc.user, tc.pass)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%q:%q: status %d, want %d", tc.user, tc.pass, resp.StatusCode, tc.want)
		}
		if tc.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("401 without a Basic challenge")
		}
	}
	if n := s.Counts()["GET /basic-auth/ann/pw"]; n != 3 {
		t.Errorf("counted %d, want 3", n)
	}
}

func TestCookies(t *testing.T) {
	t.Parallel()
	_, hs := start(t, Options{})
	c := client(t, hs, true) // with a cookie jar
	r := call(t, c, "GET", hs.URL+"/cookies/set?a=1&b=two", "", "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = call(t, c, "GET", hs.URL+"/cookies", "", "")
	got := r.decode(t)["cookies"].(map[string]any)
	if got["a"] != "1" || got["b"] != "two" {
		t.Fatalf("cookies sent back: %s", r.body)
	}
	r = call(t, c, "GET", hs.URL+"/cookies/set?bad%3Bname=1", "", "")
	r.wantError(t, http.StatusBadRequest, "cookie names")
}
