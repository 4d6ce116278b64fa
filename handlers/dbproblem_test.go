package handlers

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/neonauth-admin/dashboard/internal/pgtest"
	"github.com/neonauth-admin/dashboard/neonauth"
)

// switchProxy forwards TCP connections to a database until it is switched
// off, which closes every connection and refuses new ones: a users database
// that goes away while the dashboard runs.
type switchProxy struct {
	l     net.Listener
	mu    sync.Mutex
	off   bool
	conns []net.Conn
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{l: l}
	t.Cleanup(func() { l.Close(); p.switchOff() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			var up net.Conn
			if !p.off {
				up, err = net.Dial("tcp", target)
			}
			if p.off || err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *switchProxy) switchOff() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.off = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestUsersDatabaseDownIsAServiceUnavailable: with the users database down,
// the signups panel answers the database problem with 503 (not a 500 "went
// wrong"), and every panel names the database, also when it went away after
// the dashboard had opened it.
func TestUsersDatabaseDownIsAServiceUnavailable(t *testing.T) {
	t.Parallel()
	wantDBProblem := func(t *testing.T, r *testResponse, name string) {
		t.Helper()
		r.wantStatus(t, http.StatusServiceUnavailable)
		got := r.text("api-error")
		if !strings.Contains(got, "Database unreachable") || !strings.Contains(got, "Could not connect to "+name+" on host 127.0.0.1:") {
			t.Errorf("error box = %q, want the database %s named", got, name)
		}
		if strings.Contains(got, "Something went wrong") || strings.Contains(got, "connect to .") {
			t.Errorf("error box = %q", got)
		}
	}
	signups := func(a *testApp) *testResponse {
		return a.htmxGet("/projects/"+a.projectID+"/users/signups?provider=stack", "signups")
	}
	browse := func(a *testApp) *testResponse {
		return a.htmxGet("/projects/"+a.projectID+"/users/browse?provider=stack", "users-browser")
	}

	t.Run("down from the start", func(t *testing.T) {
		a := newUsersApp(t, usersAppConfig{})
		a.configureUsers(neonauth.UserDBConfig{PerProject: map[string]string{a.projectID: pgtest.DeadServerURL(t, "pw-never-shown")}})
		a.enableStack()
		wantDBProblem(t, signups(a), "appdb")
		wantDBProblem(t, browse(a), "appdb")
	})
	t.Run("goes down after opening", func(t *testing.T) {
		d := newUsersDB(t)
		u, err := url.Parse(d.connString)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(u.Path, "/")
		proxy := newSwitchProxy(t, u.Host)
		u.Host = proxy.l.Addr().String()
		a := newIndexApp(t, u.String(), 0)
		a.enableStack()
		browse(a).wantStatus(t, http.StatusOK)
		signups(a).wantStatus(t, http.StatusOK)
		proxy.switchOff()
		wantDBProblem(t, browse(a), name)
		wantDBProblem(t, signups(a), name)
	})
}
