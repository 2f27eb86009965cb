package e2e

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The image as a user runs it (docs/docker.md): built by scripts/image.sh
// from a static binary, a target, a master configured by environment alone
// and two workers, all in containers on the host network. The master ends
// the test by itself with exit 0, and what it counted is what the target
// served, request for request.
func TestContainerImageRunsDistributedTest(t *testing.T) {
	t.Parallel()
	began := time.Now()
	eng := containerEngine(t)
	version := fmt.Sprintf("e2e-%d", time.Now().UnixNano())
	img := buildImage(t, eng, version)
	t.Logf("%s built %s; %v since the test began", eng.name, img, time.Since(began).Round(time.Millisecond))
	checkImageConfig(t, eng, img, version)
	checkImageFiles(t, eng, img)

	targetAddr, bind, web := freeAddr(t), freeAddr(t), freeAddr(t)
	_, _ = eng.run(t, "target", img, nil, nil, "target", "--addr", targetAddr)
	waitHTTP(t, "http://"+targetAddr+"/_horde/counts", 30*time.Second)

	out := t.TempDir()
	if err := os.Chmod(out, 0o777); err != nil { // written by uid 65532
		t.Fatal(err)
	}
	_, webPort, _ := net.SplitHostPort(web)
	m, master := eng.run(t, "master", img, []string{"-v", out + ":/out"}, []string{
		"HORDE_MODE=master", "HORDE_SCRIPT=/examples/seed.star", "TARGET_HOST=http://" + targetAddr,
		"HORDE_HEADLESS=true", "HORDE_USERS=10", "HORDE_SPAWN_RATE=100", "HORDE_RUN_TIME=3s",
		"HORDE_EXPECT_WORKERS=2", "HORDE_EXPECT_WORKERS_MAX_WAIT=60s", "HORDE_BIND=" + bind,
		"HORDE_WEB_HOST=127.0.0.1", "HORDE_WEB_PORT=" + webPort, "HORDE_AUTH_TOKEN=" + token,
		"HORDE_JSON=/out/summary.json"})
	waitHTTP(t, "http://"+web+"/stats/requests", 30*time.Second)
	if uid := eng.processUser(t, master); uid != "65532" {
		t.Errorf("the master runs as user %q in its container, want 65532", uid)
	}
	// Workers outlive the master (they wait for it to come back): the
	// reconnect timeout bounds them, and the cleanup removes them.
	for _, id := range []string{"w1", "w2"} {
		_, _ = eng.run(t, "worker-"+id, img, nil, []string{"HORDE_MODE=worker", "HORDE_MASTER=" + bind,
			"HORDE_AUTH_TOKEN=" + token, "HORDE_ID=" + id, "HORDE_RECONNECT_TIMEOUT=30s"})
	}

	if code := m.exitCode(90 * time.Second); code != 0 {
		t.Fatalf("master container exited %d, want 0", code)
	}
	checkCounts(t, filepath.Join(out, "summary.json"), "http://"+targetAddr+"/_horde/counts")
	t.Logf("the whole test took %v", time.Since(began).Round(time.Millisecond))
}

// engine is the container engine the test drives: docker or podman.
type engine struct {
	name string
	// runFlags are what every `run` needs here: podman on this kind of
	// machine needs runc and ulimits within the host's hard limits.
	runFlags []string
}

// containerEngine picks docker if its daemon answers, else podman (as
// scripts/image.sh does). It skips when neither can run; a podman that is
// installed but does not work fails the test: CI installs it to be used.
func containerEngine(t *testing.T) engine {
	t.Helper()
	if _, err := exec.LookPath("docker"); err == nil {
		if exec.Command("docker", "info").Run() == nil {
			return engine{name: "docker"}
		}
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("no container engine: neither a docker daemon nor podman (apt-get install podman runc)")
	}
	if out, err := exec.Command("podman", "info").CombinedOutput(); err != nil {
		t.Fatalf("podman is installed but does not work: %v\n%s", err, out)
	}
	return engine{name: "podman", runFlags: []string{"--runtime", "runc",
		"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--timeout", "180"}}
}

// cmd runs the engine with args, bounded in time, and returns its output.
func (e engine) cmd(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, e.name, args...).CombinedOutput()
	if err != nil {
		err = fmt.Errorf("%s %s: %w\n%s", e.name, strings.Join(args, " "), err, out)
	}
	return out, err
}

// buildImage builds an image of a static horde with scripts/image.sh,
// under a tag of this test, labelled with version; the image is removed
// at the end.
func buildImage(t *testing.T, eng engine, version string) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	img := "localhost/horde-e2e:" + version
	script := exec.Command(filepath.Join(root, "scripts", "image.sh"), "-b", staticHorde(t, root), "-t", img)
	script.Dir = root
	script.Env = append(os.Environ(), "ENGINE="+eng.name, "VERSION="+version)
	t.Cleanup(func() {
		if _, err := eng.cmd("rmi", "-f", img); err != nil {
			t.Logf("removing the test image: %v", err)
		}
	})
	if out, err := script.CombinedOutput(); err != nil {
		t.Fatalf("scripts/image.sh: %v\n%s", err, out)
	}
	return img
}

// staticHorde returns a horde binary that runs on an empty base image: the
// package's own if it was built with CGO_ENABLED=0, else a new build. That
// build leaves out -trimpath (which make build uses) so that it shares the
// build cache with TestMain's: a cold -trimpath build takes minutes here.
func staticHorde(t *testing.T, root string) string {
	t.Helper()
	if out, err := exec.Command("go", "version", "-m", hordeBin).Output(); err == nil &&
		strings.Contains(string(out), "CGO_ENABLED=0") {
		return hordeBin
	}
	bin := filepath.Join(t.TempDir(), "horde")
	build := exec.Command("go", "build", "-ldflags", "-s -w", "-o", bin, "./cmd/horde")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	began := time.Now()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building a static horde: %v\n%s", err, out)
	}
	t.Logf("built a static horde in %v", time.Since(began).Round(time.Millisecond))
	return bin
}

// checkImageConfig asserts what `docker inspect` shows a user: nonroot,
// the entrypoint, the two ports and the version label.
func checkImageConfig(t *testing.T, eng engine, img, version string) {
	t.Helper()
	out, err := eng.cmd("image", "inspect", "--format", "{{json .Config}}", img)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		User         string
		Entrypoint   []string
		ExposedPorts map[string]struct{}
		Labels       map[string]string
	}
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if c.User != "65532:65532" {
		t.Errorf("image user %q, want 65532:65532", c.User)
	}
	if strings.Join(c.Entrypoint, " ") != "/horde" {
		t.Errorf("entrypoint %q, want [/horde]", c.Entrypoint)
	}
	for _, p := range []string{"8089/tcp", "5557/tcp"} {
		if _, ok := c.ExposedPorts[p]; !ok {
			t.Errorf("port %s not exposed: %v", p, c.ExposedPorts)
		}
	}
	if v := c.Labels["org.opencontainers.image.version"]; v != version {
		t.Errorf("label org.opencontainers.image.version %q, want %q", v, version)
	}
}

// checkImageFiles reads the image's file system: the binary, the example
// scripts, and a /tmp that the nonroot user can write to.
func checkImageFiles(t *testing.T, eng engine, img string) {
	t.Helper()
	name := containerName("files")
	if _, err := eng.cmd("create", "--name", name, img); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = eng.cmd("rm", "-f", name) }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	export := exec.CommandContext(ctx, eng.name, "export", name)
	r, err := export.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := export.Start(); err != nil {
		t.Fatal(err)
	}
	modes := map[string]os.FileMode{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		modes[strings.Trim(h.Name, "/")] = h.FileInfo().Mode()
	}
	if err := export.Wait(); err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{
		"horde":              0o755,
		"examples/seed.star": 0o644,
		"tmp":                os.ModeDir | os.ModeSticky | 0o777,
	}
	for path, mode := range want {
		if got, ok := modes[path]; !ok || got != mode {
			t.Errorf("/%s in the image: mode %v (present %v), want %v", path, got, ok, mode)
		}
	}
}

// run starts a container of img in the foreground with the host network,
// a unique name and --rm, and removes it at the end of the test whatever
// happened. Its output is the proc's output; its exit code the proc's.
// It returns the container's name too.
func (e engine) run(t *testing.T, role, img string, flags, env []string, args ...string) (*proc, string) {
	t.Helper()
	name := containerName(role)
	all := append([]string{"run", "--rm", "--name", name, "--network", "host"}, e.runFlags...)
	all = append(all, flags...)
	for _, kv := range env {
		all = append(all, "-e", kv)
	}
	all = append(append(all, img), args...)
	p := startCmd(t, role, exec.Command(e.name, all...))
	// Registered after startCmd's cleanup, so it runs first: the container
	// goes, then the client that ran it ends by itself.
	t.Cleanup(func() {
		rm := []string{"rm", "-f", name}
		if e.name == "podman" {
			rm = []string{"rm", "-f", "--ignore", "-t", "0", name}
		}
		_, _ = e.cmd(rm...)
	})
	return p, name
}

// processUser is the user (a uid: the image has no /etc/passwd) of the
// main process of the running container name.
func (e engine) processUser(t *testing.T, name string) string {
	t.Helper()
	args := []string{"top", name, "user"} // podman's descriptor: no ps(1) in the image
	if e.name == "docker" {
		args = []string{"top", name, "-o", "uid"} // ps(1) on the host
	}
	out, err := e.cmd(args...)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(strings.TrimSpace(string(out)))
	if len(lines) < 2 {
		t.Fatalf("%s top: %q", e.name, out)
	}
	return lines[len(lines)-1]
}

// startCmd runs cmd as a proc of the test, as start does for horde.
func startCmd(t *testing.T, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	p := launch(t, name, cmd)
	t.Cleanup(func() {
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("--- output of %s:\n%s", name, p.output())
		}
	})
	return p
}

// containerName is unique to this test process and role.
func containerName(role string) string {
	return fmt.Sprintf("horde-e2e-%d-%d-%s", os.Getpid(), time.Now().UnixNano()%1e9, role)
}

// waitHTTP polls url until it answers 200.
func waitHTTP(t *testing.T, url string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	var last error
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = errors.New(resp.Status)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer within %v: %v", url, d, last)
}

// checkCounts compares the master's summary with what the target served,
// endpoint by endpoint.
func checkCounts(t *testing.T, summaryPath, countsURL string) {
	t.Helper()
	b, err := os.ReadFile(summaryPath)
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Totals struct {
			Requests int64 `json:"requests"`
			Failures int64 `json:"failures"`
		} `json:"totals"`
		Endpoints []struct {
			Method   string `json:"method"`
			Name     string `json:"name"`
			Requests int64  `json:"requests"`
		} `json:"endpoints"`
		Workers []struct {
			ID string `json:"id"`
		} `json:"workers"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	resp, err := http.Get(countsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	served := map[string]int64{}
	if err := json.NewDecoder(resp.Body).Decode(&served); err != nil {
		t.Fatal(err)
	}
	counted := map[string]int64{}
	for _, e := range sum.Endpoints {
		counted[e.Method+" "+e.Name] = e.Requests
	}
	if sum.Totals.Requests == 0 || sum.Totals.Failures != 0 || len(sum.Workers) != 2 {
		t.Errorf("summary: %d requests, %d failures, %d workers; want some, none and 2\n%s",
			sum.Totals.Requests, sum.Totals.Failures, len(sum.Workers), b)
	}
	if fmt.Sprint(counted) != fmt.Sprint(served) {
		t.Errorf("the master counted %v, the target served %v", counted, served)
	}
	t.Logf("%d requests counted by the master in containers, all served by the target: %v", sum.Totals.Requests, served)
}
