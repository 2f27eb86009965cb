package script

import (
	"strings"
	"testing"
)

// exprCase is one expression a script evaluates at load time: the test
// compares its repr(), or the load error it fails with.
type exprCase struct {
	name    string
	setup   string // statements run before, from line 1
	expr    string
	want    string // repr() of the value
	wantErr string // a substring of the load error
}

// runExprCases loads a script per case that computes repr(expr) after
// setup and hands it out as the user's name.
func runExprCases(t *testing.T, cases []exprCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := tc.setup + "\n__got = repr(" + tc.expr + ")\ndef t(u): pass\nusers = user(name=__got, tasks=[t])\n"
			sc, err := loadSrc(t, src)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("got %s, want an error containing %q", sc.Users[0].Name, tc.wantErr)
				}
				contains(t, err.Error(), tc.wantErr)
				if strings.Contains(err.Error(), "panic") {
					t.Errorf("error mentions a panic: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if got := sc.Users[0].Name; got != tc.want {
				t.Errorf("%s\n got %s\nwant %s", tc.expr, got, tc.want)
			}
		})
	}
}

func TestUUIDModule(t *testing.T) {
	t.Parallel()
	const canonical = `"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"`
	runExprCases(t, []exprCase{
		{name: "uuid4 is a version 4 uuid", setup: "u = uuid.uuid4()", expr: "(re.fullmatch(" + canonical + ", str(u)) != None, u.version, type(u))", want: `(True, 4, "uuid.UUID")`},
		{name: "uuid4 differs each call", expr: "len(set([str(uuid.uuid4()) for _ in range(100)]))", want: "100"},
		{name: "hex is str without dashes", setup: "u = uuid.uuid4()", expr: `(u.hex == str(u).replace("-", ""), len(u.hex))`, want: "(True, 32)"},
		{name: "formats with %s", setup: "u = uuid.uuid4()", expr: `"id-%s" % u == "id-" + str(u)`, want: "True"},
		{name: "UUID parses the canonical form", expr: `str(uuid.UUID("12345678-1234-5678-1234-567812345678"))`, want: `"12345678-1234-5678-1234-567812345678"`},
		{name: "UUID parses braces, urn and bare hex", setup: `a, b = uuid.UUID("{12345678-1234-5678-1234-567812345678}"), uuid.UUID("urn:uuid:12345678-1234-5678-1234-567812345678")`, expr: `(a == b, b == uuid.UUID("12345678123456781234567812345678"))`, want: "(True, True)"},
		{name: "urn and bytes", setup: `u = uuid.UUID("12345678123456781234567812345678")`, expr: "(u.urn, len(u.bytes))", want: `("urn:uuid:12345678-1234-5678-1234-567812345678", 16)`},
		{name: "usable as a dict key", setup: `d = {uuid.UUID("12345678123456781234567812345678"): 1}`, expr: `d[uuid.UUID("12345678-1234-5678-1234-567812345678")]`, want: "1"},
		{name: "ordered", expr: `uuid.UUID("00000000000000000000000000000001") < uuid.UUID("00000000000000000000000000000002")`, want: "True"},
		{name: "malformed", expr: `uuid.UUID("not-a-uuid")`, wantErr: `main.star:2:23: uuid.UUID: badly formed hexadecimal UUID string "not-a-uuid"`},
		{name: "not hex", expr: `uuid.UUID("1234567812345678123456781234567z")`, wantErr: "badly formed hexadecimal UUID string"},
		{name: "uuid4 takes no arguments", expr: "uuid.uuid4(4)", wantErr: "uuid.uuid4: got 1 arguments, want at most 0"},
	})
}

func TestBase64Module(t *testing.T) {
	t.Parallel()
	runExprCases(t, []exprCase{
		{name: "encode a string", expr: `base64.b64encode("user:pass")`, want: `"dXNlcjpwYXNz"`},
		{name: "encode bytes", expr: `base64.b64encode(b"\xff\xfe")`, want: `"//4="`},
		{name: "encode empty", expr: `base64.b64encode("")`, want: `""`},
		{name: "urlsafe encode", expr: `base64.urlsafe_b64encode(b"\xff\xfe")`, want: `"__4="`},
		{name: "basic auth header", expr: `"Basic " + base64.b64encode("%s:%s" % ("ellen_key", "education"))`, want: `"Basic ZWxsZW5fa2V5OmVkdWNhdGlvbg=="`},
		{name: "decode to bytes", expr: `base64.b64decode("dXNlcjpwYXNz")`, want: `b"user:pass"`},
		{name: "decode then str", expr: `str(base64.b64decode("dXNlcjpwYXNz"))`, want: `"user:pass"`},
		{name: "decode bytes input", expr: `base64.b64decode(b"YQ==")`, want: `b"a"`},
		{name: "decode without padding", expr: `base64.urlsafe_b64decode("__4")`, want: `b"\xff\xfe"`},
		{name: "decode a JWT payload", expr: `json.decode(str(base64.urlsafe_b64decode("eyJzdWIiOiIxMjMiLCJuYW1lIjoiRWxsZW4ifQ")))["name"]`, want: `"Ellen"`},
		{name: "decode ignores line breaks", expr: `base64.b64decode("dXNl\ncjpw\r\nYXNz")`, want: `b"user:pass"`},
		{name: "round trip", expr: `base64.b64decode(base64.b64encode(b"\x00\x01\x02"))`, want: `b"\x00\x01\x02"`},
		{name: "standard aliases", expr: `base64.standard_b64decode(base64.standard_b64encode("x"))`, want: `b"x"`},
		{name: "invalid characters", expr: `base64.b64decode("!!!!")`, wantErr: "base64.b64decode: not valid base64 (illegal base64 data at input byte 0)"},
		{name: "wrong padding", expr: `base64.b64decode("YQ=")`, wantErr: "base64.b64decode: not valid base64"},
		{name: "urlsafe rejects + and /", expr: `base64.urlsafe_b64decode("//4=")`, wantErr: "base64.urlsafe_b64decode: not valid base64"},
		{name: "not a string", expr: "base64.b64encode(1)", wantErr: "base64.b64encode: for parameter s: got int, want string or bytes"},
	})
}
