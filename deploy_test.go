package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The systemd units keep the exposure systemd-analyze rates them at 2.0 or
// below, so that a change that loosens the sandbox is noticed here.
func TestSystemdUnitsExposure(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	for _, unit := range []string{"deploy/notpanel.service", "deploy/notpanel-backup.service"} {
		out, err := exec.Command("systemd-analyze", "security", "--offline=true", unit).CombinedOutput()
		m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("%s: no exposure level in the output (%v):\n%s", unit, err, out)
		}
		if level, _ := strconv.ParseFloat(string(m[1]), 64); level > 2.0 {
			t.Errorf("%s: exposure %.1f, want 2.0 or below:\n%s", unit, level, out)
		}
	}
}

// Every system call that serve, a backup and an admin command make, run as
// an unprivileged user as the unit runs them, is one the unit's
// SystemCallFilter allows: a call it refused would fail in production with
// EPERM, where no test runs.
func TestSystemdUnitAllowsTheCallsMade(t *testing.T) {
	for _, tool := range []string{"systemd-analyze", "strace"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	if testing.Short() {
		t.Skip("traces a server")
	}
	allowed, denied := unitSyscallFilter(t, "deploy/notpanel.service")

	// A directory the unprivileged user can use, with a copy of this test
	// binary (which runs main when asked) that it can execute.
	dir, err := os.MkdirTemp("", "notpanel-syscalls-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o777)
	bin := filepath.Join(dir, "notpanel")
	if out, err := exec.Command("cp", os.Args[0], bin).CombinedOutput(); err != nil {
		t.Fatalf("copy the binary: %v %s", err, out)
	}
	os.Chmod(bin, 0o755)
	db := filepath.Join(dir, "notpanel.db")
	traced := func(name string, args ...string) *exec.Cmd {
		prefix := []string{"-f", "-qq", "-o", filepath.Join(dir, name+".trace")}
		if os.Geteuid() == 0 {
			// As root, SQLite hands its files to the database's owner
			// with fchown; the service never runs as root.
			prefix = append(prefix, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
		}
		cmd := exec.Command("strace", append(append(prefix, bin, "--db", db), args...)...)
		cmd.Env = append(os.Environ(), "NOTPANEL_RUN_MAIN=1")
		cmd.Dir = dir
		return cmd
	}
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := traced(name, args...).Output()
		if err != nil {
			t.Fatalf("notpanel %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out))
	}

	run("useradd", "user", "add", "alice")
	key := run("keycreate", "key", "create", "alice")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	serve := traced("serve", "serve", "--listen", addr, "--ops-listen", "127.0.0.1:0")
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	answered := false
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !answered; time.Sleep(50 * time.Millisecond) {
		resp, err := http.PostForm("http://"+addr+"/api/v2", url.Values{"key": {key}, "action": {"balance"}})
		if err == nil {
			resp.Body.Close()
			answered = resp.StatusCode == 200
		}
	}
	// SIGTERM to the server itself (strace would only detach), as
	// systemctl stop sends it; setpriv execs notpanel in its own process.
	children, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", serve.Process.Pid, serve.Process.Pid))
	pid, err := strconv.Atoi(strings.TrimSpace(string(children)))
	if err != nil {
		serve.Process.Kill()
		t.Fatalf("the traced server's pid: %q", children)
	}
	syscall.Kill(pid, syscall.SIGTERM)
	if err := serve.Wait(); err != nil || !answered {
		t.Fatalf("serve under strace: answered %v, exit %v", answered, err)
	}
	run("funds", "funds", "add", "alice", "5")
	run("backup", "backup", filepath.Join(dir, "copy.db"))
	run("audit", "audit")

	used := map[string]bool{}
	traces, _ := filepath.Glob(filepath.Join(dir, "*.trace"))
	call := regexp.MustCompile(`^\d+ +([a-z0-9_]+)\(`)
	for _, f := range traces {
		file, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if m := call.FindStringSubmatch(sc.Text()); m != nil {
				used[m[1]] = true
			}
		}
		file.Close()
	}
	if len(used) < 20 {
		t.Fatalf("only %d system calls traced; is strace working?", len(used))
	}
	// The calls of setpriv itself, before it runs notpanel, are no
	// business of the unit's.
	for _, own := range []string{"setresuid", "setresgid", "setgroups", "capget", "capset", "prctl"} {
		delete(used, own)
	}
	for name := range used {
		if !allowed[name] || denied[name] {
			t.Errorf("%s is made by notpanel but refused by the unit's SystemCallFilter", name)
		}
	}
}

// unitSyscallFilter reads a unit's SystemCallFilter lines and expands their
// groups with systemd-analyze: what the allow lines name, and what the ~
// lines take away.
func unitSyscallFilter(t *testing.T, unit string) (allowed, denied map[string]bool) {
	t.Helper()
	b, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	allowed, denied = map[string]bool{}, map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		v, found := strings.CutPrefix(line, "SystemCallFilter=")
		if !found {
			continue
		}
		into := allowed
		if v, found = strings.CutPrefix(v, "~"); found {
			into = denied
		}
		for _, name := range strings.Fields(v) {
			for _, c := range expandSyscalls(t, name) {
				into[c] = true
			}
		}
	}
	if len(allowed) == 0 {
		t.Fatalf("%s has no SystemCallFilter", unit)
	}
	return allowed, denied
}

func expandSyscalls(t *testing.T, name string) []string {
	t.Helper()
	if !strings.HasPrefix(name, "@") {
		return []string{name}
	}
	out, err := exec.Command("systemd-analyze", "syscall-filter", name).Output()
	if err != nil {
		t.Fatalf("systemd-analyze syscall-filter %s: %v", name, err)
	}
	var calls []string
	for _, line := range strings.Split(string(out), "\n")[1:] {
		f := strings.TrimSpace(line)
		if f == "" || strings.HasPrefix(f, "#") || strings.Contains(f, " ") {
			continue
		}
		calls = append(calls, expandSyscalls(t, f)...)
	}
	if len(calls) == 0 {
		panic(fmt.Sprintf("group %s is empty", name))
	}
	return slices.Compact(calls)
}
