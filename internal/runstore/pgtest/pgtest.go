// Package pgtest starts a real PostgreSQL server for tests: initdb and
// pg_ctl from Debian's postgresql package, in a temporary directory,
// listening on 127.0.0.1 only, with trust auth for the superuser "horde";
// as root it runs as "nobody", since PostgreSQL refuses root. It is a
// test helper package, as net/http/httptest is.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver NewDB uses
)

// Server is a real PostgreSQL server that a test started in a
// temporary directory, listening on 127.0.0.1 only, with trust auth for
// the superuser "horde".
type Server struct {
	bin  string // the directory of initdb, pg_ctl and postgres
	dir  string // owns data/ and the log
	port int
	cred *syscall.Credential // the unprivileged user it runs as when we are root
}

// pgBinDir finds Debian's PostgreSQL binaries: pg_ctl in PATH (resolved,
// as /usr/local/bin may hold links), else the newest
// /usr/lib/postgresql/*/bin.
func pgBinDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start initialises and starts a server. PostgreSQL refuses to run as
// root, so as root it runs as "nobody" in a directory that nobody owns.
func Start() (*Server, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "horde-runstore-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			return nil, fmt.Errorf("running as root and no user nobody to run PostgreSQL as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	if s.port, err = FreePort(); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", "horde", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		s.remove()
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	conf := fmt.Sprintf("\nport = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nfsync = off\nmax_connections = 200\n", s.port)
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		f.Close()
	}
	if err != nil {
		s.remove()
		return nil, err
	}
	if err := s.Start(); err != nil {
		s.remove()
		return nil, err
	}
	return s, nil
}

// run runs one of the server's programs as the server's user.
func (s *Server) run(prog string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(s.bin, prog), args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (s *Server) Start() error {
	data, log := filepath.Join(s.dir, "data"), filepath.Join(s.dir, "server.log")
	if out, err := s.run("pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "start"); err != nil {
		b, _ := os.ReadFile(log)
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, b)
	}
	return nil
}

func (s *Server) Stop() error {
	if out, err := s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

func (s *Server) remove() { os.RemoveAll(s.dir) }

// Close stops the server and removes its files.
func (s *Server) Close() {
	_ = s.Stop()
	s.remove()
}

// URL returns the URL of database db.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://horde@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

var dbSeq atomic.Int64

// NewDB creates an empty database and returns its URL.
func (s *Server) NewDB(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	admin, err := sql.Open("pgx", s.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return s.URL(name)
}

// FreePort returns a port nothing listens on now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ErrNoBinaries is Start's error when PostgreSQL is not installed.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries (initdb, pg_ctl) in PATH or /usr/lib/postgresql/*/bin; apt-get install postgresql")

// PIDFile is the server's postmaster.pid (its first line is the pid).
func (s *Server) PIDFile() string { return filepath.Join(s.dir, "data", "postmaster.pid") }

// Shared is one server for a whole test binary, started by the first test
// that needs it; call Close from TestMain.
type Shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Get returns the shared server, or skips the test with the reason when
// PostgreSQL is not installed.
func (sh *Shared) Get(t testing.TB) *Server {
	t.Helper()
	sh.once.Do(func() { sh.srv, sh.err = Start() })
	if errors.Is(sh.err, ErrNoBinaries) {
		t.Skipf("skipping PostgreSQL: %v", sh.err)
	}
	if sh.err != nil {
		t.Fatalf("start PostgreSQL: %v", sh.err)
	}
	return sh.srv
}

// Close stops the shared server, if it started.
func (sh *Shared) Close() {
	if sh.srv != nil {
		sh.srv.Close()
	}
}
