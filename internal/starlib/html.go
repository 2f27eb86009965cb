package starlib

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/andybalholm/cascadia"
	"go.starlark.net/starlark"
	"golang.org/x/net/html"
)

// ParseHTML parses an HTML document as a browser does: it never fails on
// malformed markup. The caller parses once and selects many times.
func ParseHTML(body []byte) *html.Node {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil { // only a failing reader errs; a bytes.Reader does not
		return &html.Node{Type: html.DocumentNode}
	}
	return doc
}

// Select implements select(css): every element under root that matches
// the selector, in document order, as a list of elements.
func Select(fn string, root *html.Node, css string) (*starlark.List, error) {
	m, err := compileCSS(fn, css)
	if err != nil {
		return nil, err
	}
	nodes := cascadia.QueryAll(root, m)
	out := make([]starlark.Value, len(nodes))
	for i, n := range nodes {
		out[i] = &Element{n: n}
	}
	return starlark.NewList(out), nil
}

// SelectOne implements select_one(css): the first match, or None.
func SelectOne(fn string, root *html.Node, css string) (starlark.Value, error) {
	m, err := compileCSS(fn, css)
	if err != nil {
		return nil, err
	}
	if n := cascadia.Query(root, m); n != nil {
		return &Element{n: n}, nil
	}
	return starlark.None, nil
}

func compileCSS(fn, css string) (cascadia.Matcher, error) {
	if strings.TrimSpace(css) == "" {
		return nil, fmt.Errorf("%s: empty CSS selector", fn)
	}
	g, err := cascadia.ParseGroup(css)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid CSS selector %q: %v", fn, css, err)
	}
	return g, nil
}

// Element is one HTML element found by select: .text, .html, .attr(name),
// .select(css) and friends, after BeautifulSoup's names. It is a read-only
// view of the parsed response.
type Element struct{ n *html.Node }

var _ starlark.HasAttrs = (*Element)(nil)

func (e *Element) String() string        { return "<element " + e.n.Data + ">" }
func (e *Element) Type() string          { return "element" }
func (e *Element) Freeze()               {}
func (e *Element) Truth() starlark.Bool  { return true }
func (e *Element) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: element") }

// AttrNames implements starlark.HasAttrs.
func (e *Element) AttrNames() []string {
	return []string{"attr", "attrs", "html", "outer_html", "select", "select_one", "tag", "text"}
}

// Attr implements starlark.HasAttrs.
func (e *Element) Attr(name string) (starlark.Value, error) {
	switch name {
	case "tag":
		return starlark.String(e.n.Data), nil
	case "text":
		var b strings.Builder
		text(&b, e.n)
		return starlark.String(b.String()), nil
	case "html":
		var b bytes.Buffer
		for c := e.n.FirstChild; c != nil; c = c.NextSibling {
			if err := html.Render(&b, c); err != nil {
				return nil, fmt.Errorf("html: %w", err)
			}
		}
		return starlark.String(b.String()), nil
	case "outer_html":
		var b bytes.Buffer
		if err := html.Render(&b, e.n); err != nil {
			return nil, fmt.Errorf("outer_html: %w", err)
		}
		return starlark.String(b.String()), nil
	case "attrs":
		d := starlark.NewDict(len(e.n.Attr))
		for _, a := range e.n.Attr {
			_ = d.SetKey(starlark.String(a.Key), starlark.String(a.Val)) // a fresh dict
		}
		return d, nil
	case "attr", "select", "select_one":
		return starlark.NewBuiltin(name, elementMethod).BindReceiver(e), nil
	}
	return nil, nil
}

// elementMethod implements attr(name, default=None), select(css) and
// select_one(css).
func elementMethod(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	e := b.Receiver().(*Element)
	if b.Name() == "attr" {
		var name string
		var def starlark.Value = starlark.None
		if err := starlark.UnpackArgs("attr", args, kwargs, "name", &name, "default?", &def); err != nil {
			return nil, err
		}
		for _, a := range e.n.Attr {
			if a.Namespace == "" && a.Key == strings.ToLower(name) {
				return starlark.String(a.Val), nil
			}
		}
		return def, nil
	}
	var css string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "css", &css); err != nil {
		return nil, err
	}
	if b.Name() == "select" {
		return Select("select", e.n, css)
	}
	return SelectOne("select_one", e.n, css)
}

// text appends the text of n and its descendants, without comments.
func text(b *strings.Builder, n *html.Node) {
	switch n.Type {
	case html.TextNode:
		b.WriteString(n.Data)
	case html.CommentNode:
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		text(b, c)
	}
}
