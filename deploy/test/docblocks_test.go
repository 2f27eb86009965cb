package deploytest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docBlock is one fenced block of docs/kubernetes.md with the mark on the
// line before it:
//
//	<!-- run: NAME -->         commands that make kube-e2e runs as written
//	<!-- file: PATH -->        a file's content, which it writes (blocks with
//	                           the same PATH are concatenated in order)
//	<!-- not run: REASON -->   commands it cannot run here (a cloud, another
//	                           cluster's tools), and why
type docBlock struct {
	Kind string // "run", "file", "not run", or "" when unmarked
	Name string // the run's name, the file's path, or the reason
	Lang string // the fence's info string: sh, yaml...
	Text string
	Line int // of the opening fence
}

var docMarkRE = regexp.MustCompile(`^<!-- (run|file|not run): (.+?) -->$`)

// kubernetesDoc is the page that make kube-e2e runs.
const kubernetesDoc = "docs/kubernetes.md"

// readDocBlocks returns the fenced blocks of docs/kubernetes.md.
func readDocBlocks(t testing.TB) []docBlock {
	t.Helper()
	path := filepath.Join(repoRoot(t), kubernetesDoc)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blocks, err := parseDocBlocks(bufio.NewScanner(f))
	if err != nil {
		t.Fatalf("%s: %v", kubernetesDoc, err)
	}
	return blocks
}

func parseDocBlocks(sc *bufio.Scanner) ([]docBlock, error) {
	var (
		out        []docBlock
		cur        *docBlock
		kind, name string
		markLine   int
	)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if cur != nil {
			if line == "```" {
				out = append(out, *cur)
				cur = nil
				continue
			}
			cur.Text += line + "\n"
			continue
		}
		if m := docMarkRE.FindStringSubmatch(line); m != nil {
			kind, name, markLine = m[1], m[2], n
			continue
		}
		if lang, ok := strings.CutPrefix(line, "```"); ok {
			b := docBlock{Lang: lang, Line: n}
			if kind != "" && markLine == n-1 {
				b.Kind, b.Name = kind, name
			}
			kind = ""
			cur = &b
			continue
		}
		if kind != "" && strings.TrimSpace(line) != "" {
			return nil, fmt.Errorf("line %d: the mark %q is not followed by a code block", markLine, kind+": "+name)
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("line %d: code block not closed", cur.Line)
	}
	return out, sc.Err()
}

// run returns the block marked run: name; it fails t unless there is
// exactly one.
func docRun(t testing.TB, blocks []docBlock, name string) docBlock {
	t.Helper()
	var found []docBlock
	for _, b := range blocks {
		if b.Kind == "run" && b.Name == name {
			found = append(found, b)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d blocks marked <!-- run: %s -->, want 1", kubernetesDoc, len(found), name)
	}
	return found[0]
}

// docFile returns the content of the blocks marked file: path, in order.
func docFile(t testing.TB, blocks []docBlock, path string) string {
	t.Helper()
	var text string
	for _, b := range blocks {
		if b.Kind == "file" && b.Name == path {
			text += b.Text
		}
	}
	if text == "" {
		t.Fatalf("%s: no block marked <!-- file: %s -->", kubernetesDoc, path)
	}
	return text
}

// e2eRuns are the blocks the end-to-end tests (kube_e2e_test.go,
// operator_e2e_test.go) run, and
// e2eFiles the files it writes: together, every marked block of the page.
var (
	e2eRuns = []string{
		"image", "load", "target", "base", "master-log", "port-forward", "start", "scale", "scale-down", "counts",
		"hpa", "hpa-load", "hpa-off", "loadbalancer", "cleanup",
		"reports-pv", "headless", "headless-scale", "reports-copy", "headless-again", "headless-failed", "headless-cleanup",
		"helm-install", "helm-upgrade", "helm-uninstall",
		// operator_e2e_test.go
		"operator-install", "operator-sample", "operator-summary", "kube-run", "kube-scale", "kube-ls", "hordetest-delete",
		"operator-uninstall",
	}
	e2eFiles = []string{"my-horde/kustomization.yaml", "my-ci/kustomization.yaml"}
)

// TestKubernetesDocIsTheScript: every command block of docs/kubernetes.md
// is either run by make kube-e2e or says why not, and every block the
// test runs is there, once.
func TestKubernetesDocIsTheScript(t *testing.T) {
	t.Parallel()
	blocks := readDocBlocks(t)
	runs := map[string]int{}
	for _, b := range blocks {
		switch b.Kind {
		case "run":
			runs[b.Name]++
			if b.Lang != "sh" {
				t.Errorf("%s:%d: run: %s is a %q block, want sh", kubernetesDoc, b.Line, b.Name, b.Lang)
			}
			if !slices.Contains(e2eRuns, b.Name) {
				t.Errorf("%s:%d: <!-- run: %s --> but the e2e test does not run it (e2eRuns)", kubernetesDoc, b.Line, b.Name)
			}
		case "file":
			if !slices.Contains(e2eFiles, b.Name) {
				t.Errorf("%s:%d: <!-- file: %s --> but the e2e test does not write it (e2eFiles)", kubernetesDoc, b.Line, b.Name)
			}
		case "not run":
			if len(b.Name) < 10 {
				t.Errorf("%s:%d: <!-- not run: %s -->: say why", kubernetesDoc, b.Line, b.Name)
			}
		case "":
			if b.Lang == "sh" || b.Lang == "bash" || b.Lang == "console" {
				t.Errorf("%s:%d: a %s block without <!-- run: NAME --> or <!-- not run: REASON -->: "+
					"make kube-e2e must run it, or the page must say why it cannot", kubernetesDoc, b.Line, b.Lang)
			}
		}
	}
	for _, name := range e2eRuns {
		if runs[name] != 1 {
			t.Errorf("%s: %d blocks marked <!-- run: %s -->, want 1", kubernetesDoc, runs[name], name)
		}
	}
	for _, f := range e2eFiles {
		docFile(t, blocks, f)
	}
}

func TestParseDocBlocks(t *testing.T) {
	t.Parallel()
	in := "text\n<!-- run: a -->\n```sh\necho 1\necho 2\n```\n\n```yaml\nx: 1\n```\n" +
		"<!-- not run: needs a cloud -->\n```sh\nkubectl get svc -w\n```\n"
	got, err := parseDocBlocks(bufio.NewScanner(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	want := []docBlock{
		{Kind: "run", Name: "a", Lang: "sh", Text: "echo 1\necho 2\n", Line: 3},
		{Lang: "yaml", Text: "x: 1\n", Line: 8},
		{Kind: "not run", Name: "needs a cloud", Lang: "sh", Text: "kubectl get svc -w\n", Line: 12},
	}
	if !slices.Equal(got, want) {
		t.Errorf("parseDocBlocks = %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{"<!-- run: a -->\ntext\n```sh\nx\n```\n", "```sh\nx\n"} {
		if b, err := parseDocBlocks(bufio.NewScanner(strings.NewReader(bad))); err == nil {
			t.Errorf("parseDocBlocks(%q) = %+v, want an error", bad, b)
		}
	}
}
