package script

import (
	"testing"
)

func TestHashlibModule(t *testing.T) {
	t.Parallel()
	const abc256 = `"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"`
	runExprCases(t, []exprCase{
		{name: "sha256", expr: `hashlib.sha256("abc").hexdigest()`, want: abc256},
		{name: "sha256 of bytes", expr: `hashlib.sha256(b"abc").hexdigest()`, want: abc256},
		{name: "sha1", expr: `hashlib.sha1("abc").hexdigest()`, want: `"a9993e364706816aba3e25717850c26c9cd0d89d"`},
		{name: "md5 of nothing", expr: `hashlib.md5().hexdigest()`, want: `"d41d8cd98f00b204e9800998ecf8427e"`},
		{name: "sha512", expr: `hashlib.sha512("abc").hexdigest()`,
			want: `"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"`},
		{name: "update", setup: "h = hashlib.sha256()\nh.update(\"a\")\nh.update(b\"bc\")", expr: "h.hexdigest()", want: abc256},
		{name: "digest is bytes", expr: `(type(hashlib.sha256("abc").digest()), len(hashlib.sha256("abc").digest()), len(hashlib.md5().digest()))`, want: `("bytes", 32, 16)`},
		{name: "digest bytes", expr: `hashlib.md5().digest() == b"\xd4\x1d\x8c\xd9\x8f\x00\xb2\x04\xe9\x80\x09\x98\xec\xf8\x42\x7e"`, want: "True"},
		{name: "new by name", expr: `hashlib.new("SHA256", "abc").hexdigest()`, want: abc256},
		{name: "copy keeps the original", setup: "h = hashlib.md5(\"a\")\nc = h.copy()\nc.update(\"b\")",
			expr: `(h.hexdigest() == hashlib.md5("a").hexdigest(), c.hexdigest() == hashlib.md5("ab").hexdigest())`, want: "(True, True)"},
		{name: "attributes", setup: `h = hashlib.sha256()`, expr: "(h.name, h.digest_size, h.block_size)", want: `("sha256", 32, 64)`},
		{name: "algorithms", expr: "hashlib.algorithms_available", want: `["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]`},
		{name: "unknown algorithm", expr: `hashlib.new("sha3_256")`, wantErr: `hashlib.new: unsupported hash type "sha3_256" (have md5, sha1, sha224, sha256, sha384, sha512)`},
		{name: "data must be string or bytes", expr: "hashlib.sha256(1)", wantErr: "hashlib.sha256: for parameter data: got int, want string or bytes"},
		{name: "update needs data", setup: "h = hashlib.sha256()", expr: "h.update()", wantErr: "update: missing argument for data"},
	})
}

func TestHmacModule(t *testing.T) {
	t.Parallel()
	// RFC 4231 test case 2 and RFC 2104's HMAC-MD5 of the same inputs.
	const jefe256 = `"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"`
	const msg = `"what do ya want for nothing?"`
	runExprCases(t, []exprCase{
		{name: "hashlib constructor", expr: `hmac.new("Jefe", ` + msg + `, hashlib.sha256).hexdigest()`, want: jefe256},
		{name: "name", expr: `hmac.new(b"Jefe", ` + msg + `, "sha256").hexdigest()`, want: jefe256},
		{name: "digestmod=", expr: `hmac.new("Jefe", msg=` + msg + `, digestmod="md5").hexdigest()`, want: `"750c783e6ab0b503eaa86e310a5db738"`},
		{name: "update", setup: "h = hmac.new(\"Jefe\", digestmod=hashlib.sha256)\nh.update(\"what do ya \")\nh.update(b\"want for nothing?\")", expr: "h.hexdigest()", want: jefe256},
		{name: "digest twice", setup: `h = hmac.new("Jefe", ` + msg + `, "sha256")`, expr: "(h.digest() == h.digest(), len(h.digest()), h.name)", want: `(True, 32, "hmac-sha256")`},
		{name: "one-shot digest", expr: `hmac.digest("Jefe", ` + msg + `, "sha256") == hmac.new("Jefe", ` + msg + `, hashlib.sha256).digest()`, want: "True"},
		{name: "base64 signature", expr: `base64.b64encode(hmac.new("key", "The quick brown fox jumps over the lazy dog", hashlib.sha256).digest())`,
			want: `"97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="`},
		{name: "compare_digest", expr: `(hmac.compare_digest("abc", "abc"), hmac.compare_digest("abc", "abd"), hmac.compare_digest(b"abc", "abc"), hmac.compare_digest("a", "ab"))`,
			want: "(True, False, True, False)"},
		{name: "digestmod is required", expr: `hmac.new("k", "m")`, wantErr: "hmac.new: digestmod is required, e.g. hmac.new(key, msg, hashlib.sha256)"},
		{name: "unknown digestmod", expr: `hmac.new("k", "m", "sha3")`, wantErr: `hmac.new: unsupported digestmod "sha3" (have md5, sha1, sha224, sha256, sha384, sha512)`},
		{name: "digestmod of the wrong type", expr: `hmac.new("k", "m", 1)`, wantErr: "hmac.new: digestmod must be a name (\"sha256\") or a hashlib function, got int"},
		{name: "key must be string or bytes", expr: `hmac.new(None, "m", "sha256")`, wantErr: "hmac.new: for parameter key: got NoneType, want string or bytes"},
		{name: "copy is not supported", expr: `hmac.new("k", "m", "sha256").copy()`, wantErr: "copy: an hmac object cannot be copied: make a new one"},
	})
}

// A hash object made at load time is frozen with the globals: users can
// read its digest at once, not update it.
func TestHashFrozenAtLoad(t *testing.T) {
	t.Parallel()
	sc := mustLoad(t, `
base = hashlib.sha256("a")
mac = hmac.new("k", "m", "sha256")
def t(u):
    want = hmac.new("k", "m", "sha256").hexdigest()
    if mac.hexdigest() != want or mac.hexdigest() != want:
        fail("shared hmac changed: " + mac.hexdigest())
    c = base.copy()
    c.update("b")
    if c.hexdigest() != hashlib.sha256("ab").hexdigest():
        fail("copy")
def bad(u):
    base.update("b")
users = user(name="U", tasks=[t, bad])
`)
	for i := range 4 {
		vu := newBareVU(i, &fakeRec{})
		if err := task(t, sc, "t")(t.Context(), vu); err != nil {
			t.Fatalf("%v\n%s", err, traceOf(err))
		}
	}
	err := task(t, sc, "bad")(t.Context(), newBareVU(9, &fakeRec{}))
	contains(t, errString(err), "update: this sha256 object was made at load time and is frozen: use h.copy().update(...)")
}
