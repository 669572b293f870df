/**
 * The hand-off helper's source (Go, standard library only; it documents itself). The supervisor script builds it
 * once per container with the container's own Go toolchain, in the background beside the first process, and a
 * restart uses it once it is there: the new process then starts while the old one still serves, and only its
 * first bind waits for the old process's end (supervisor-script.ts, "Hand-off"). One import per line: the CLI
 * bundle must hold no `import (` (scripts/build-cli.mjs).
 */
export const HANDOFF_HELPER_SOURCE = String.raw`// nh's hand-off for a restart: runs the new process while the old one still serves, and holds the new
// process's first bind(2) that could take an address the old one holds until the old process is gone. The
// service is then down for the old process's exit and the rest of one bind, not for the new process's start.
//
// handoff OLD AFTER COMMAND [ARG]...: OLD is the old process group, sent TERM at that bind (or when the command
// ends before one); AFTER is the old process's end fifo, which ends or gets a line once that process is gone.
// Where seccomp's user notification is refused it renames itself to NAME.off (the script then stops using it)
// and does what nh's held shell does: TERM, wait for the end, exec.
package main

import "encoding/binary"
import "fmt"
import "os"
import "os/exec"
import "os/signal"
import "runtime"
import "strconv"
import "strings"
import "sync"
import "syscall"
import "unsafe"

// Per architecture: the audit arch, bind's and seccomp's syscall numbers.
var arches = map[string][3]uint32{
	"amd64": {0xc000003e, 49, 317},
	"arm64": {0xc00000b7, 200, 277},
}

type sockFilter struct {
	code   uint16
	jt, jf uint8
	k      uint32
}

type sockFprog struct {
	len    uint16
	filter *sockFilter
}

// struct seccomp_notif and struct seccomp_notif_resp.
type notification struct {
	id         uint64
	pid, flags uint32
	nr         int32
	arch       uint32
	ip         uint64
	args       [6]uint64
}

type response struct {
	id    uint64
	val   int64
	error int32
	flags uint32
}

const (
	notifRecv       = 0xc0502100 // SECCOMP_IOCTL_NOTIF_RECV
	notifSend       = 0xc0182101 // SECCOMP_IOCTL_NOTIF_SEND
	notifContinue   = 1          // SECCOMP_USER_NOTIF_FLAG_CONTINUE (Linux 5.5)
	filterNewListen = 1 << 3     // SECCOMP_FILTER_FLAG_NEW_LISTENER
	retUserNotif    = 0x7fc00000
	retAllow        = 0x7fff0000
	prSetNoNewPrivs = 38
	setModeFilter   = 1
	familyUnix      = 1
	familyInet      = 2
	familyInet6     = 10
)

// main runs on the process's main thread only: the seccomp filter is that thread's and the command, forked from
// it, inherits it; and the script finds the command in /proc/PID/task/PID/children, the main thread's children.
func init() {
	runtime.LockOSThread()
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "nh-handoff: usage: handoff OLD AFTER COMMAND [ARG]...")
		os.Exit(126)
	}
	old, _ := strconv.Atoi(os.Args[1])
	after, argv := os.Args[2], os.Args[3:]
	var once sync.Once
	stopOld := func() {
		once.Do(func() {
			if old > 0 {
				syscall.Kill(-old, syscall.SIGTERM)
			}
		})
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "nh-handoff: %s: not found\n", argv[0])
		stopOld()
		os.Exit(127)
	}
	listener, err := notifyBinds()
	if err != nil {
		fmt.Fprintf(os.Stderr, "nh-handoff: %v; restarts stop the old process first\n", err)
		os.Rename(os.Args[0], os.Args[0]+".off")
		stopOld()
		waitForEnd(after)
		err = syscall.Exec(path, argv, os.Environ())
		fmt.Fprintf(os.Stderr, "nh-handoff: %s: %v\n", argv[0], err)
		os.Exit(126)
	}
	// The group's TERM is for the command, and this helper ends with it. A handler, not SIG_IGN: an ignored
	// signal would be inherited by the command.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	// Fds from 3 up that are not close-on-exec pass through: fd 4, the new process's end fifo, among them.
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{0, 1, 2}})
	if err != nil {
		fmt.Fprintf(os.Stderr, "nh-handoff: %s: %v\n", argv[0], err)
		stopOld()
		os.Exit(126)
	}
	// The end fifo then ends with the command, not with this helper's own exit after it: the next hand-off's
	// bind goes on that much sooner.
	var fifo syscall.Stat_t
	if syscall.Fstat(4, &fifo) == nil && fifo.Mode&syscall.S_IFMT == syscall.S_IFIFO {
		syscall.Close(4)
	}
	go func() {
		var status syscall.WaitStatus
		for {
			if _, err := syscall.Wait4(pid, &status, 0, nil); err != syscall.EINTR {
				break
			}
		}
		// Ended before any bind: the restart still replaces the old process, as it would without the hand-off.
		stopOld()
		if status.Signaled() {
			os.Exit(128 + int(status.Signal()))
		}
		os.Exit(status.ExitStatus())
	}()
	answer(listener, func() {
		stopOld()
		waitForEnd(after)
	})
}

// Installs the filter that sends every bind(2) of this thread's descendants to the returned listener.
func notifyBinds() (uintptr, error) {
	arch, ok := arches[runtime.GOARCH]
	if !ok {
		return 0, fmt.Errorf("no seccomp filter for %s", runtime.GOARCH)
	}
	if !kernelAtLeast(5, 5) {
		return 0, fmt.Errorf("Linux before 5.5 cannot let a held bind go on")
	}
	prog := []sockFilter{
		{0x20, 0, 0, 4},            // A = arch
		{0x15, 0, 3, arch[0]},      // another arch: allow
		{0x20, 0, 0, 0},            // A = syscall number
		{0x15, 0, 1, arch[1]},      // not bind: allow
		{0x06, 0, 0, retUserNotif}, // bind: ask the listener
		{0x06, 0, 0, retAllow},
	}
	fprog := sockFprog{uint16(len(prog)), &prog[0]}
	install := func() (uintptr, syscall.Errno) {
		fd, _, e := syscall.RawSyscall(uintptr(arch[2]), setModeFilter, filterNewListen, uintptr(unsafe.Pointer(&fprog)))
		return fd, e
	}
	fd, e := install()
	if e == syscall.EACCES {
		// Without CAP_SYS_ADMIN a filter needs no_new_privs, which the command inherits: a setuid binary it runs
		// gains no privileges.
		if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetNoNewPrivs, 1, 0); e != 0 {
			return 0, fmt.Errorf("no_new_privs: %v", e)
		}
		fd, e = install()
	}
	if e != 0 {
		return 0, fmt.Errorf("seccomp: %v", e)
	}
	return fd, nil
}

// Answers each held bind: the first one that could take an address the old process holds waits for handOver
// first; every bind then goes on as the command made it.
func answer(listener uintptr, handOver func()) {
	handed := false
	for {
		var n notification
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, listener, notifRecv, uintptr(unsafe.Pointer(&n))); e != 0 {
			if e == syscall.EINTR || e == syscall.ENOENT {
				continue
			}
			fmt.Fprintf(os.Stderr, "nh-handoff: %v\n", e)
			handOver()
			select {}
		}
		if !handed && mayCollide(n) {
			handed = true
			handOver()
		}
		r := response{id: n.id, flags: notifContinue}
		syscall.Syscall(syscall.SYS_IOCTL, listener, notifSend, uintptr(unsafe.Pointer(&r)))
	}
}

// A bind of a port (not port 0) or of a unix socket; the address is read from the process's memory. Unreadable
// counts as colliding: the hand-off then happens a little early, never late.
func mayCollide(n notification) bool {
	mem, err := os.Open("/proc/" + strconv.Itoa(int(n.pid)) + "/mem")
	if err != nil {
		return true
	}
	defer mem.Close()
	b := make([]byte, 4)
	if _, err := mem.ReadAt(b, int64(n.args[1])); err != nil {
		return true
	}
	switch binary.LittleEndian.Uint16(b) {
	case familyUnix:
		return true
	case familyInet, familyInet6:
		return binary.BigEndian.Uint16(b[2:]) != 0
	}
	return false
}

// Until the old process is gone: its end fifo reaches its end, or the script writes a line there after the stop.
// Opened without blocking (a fifo no one holds any more, the old process gone and the script done with it, is at
// its end at once, where a blocking open would wait for a writer that never comes), then read blocking, on this
// thread: the bind goes on the moment the kernel wakes it.
func waitForEnd(after string) {
	fd, err := syscall.Open(after, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer syscall.Close(fd)
	if syscall.SetNonblock(fd, false) == nil {
		for {
			if _, err := syscall.Read(fd, make([]byte, 1)); err != syscall.EINTR {
				return
			}
		}
	}
}

func kernelAtLeast(major, minor int) bool {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return false
	}
	var release strings.Builder
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		release.WriteByte(byte(c))
	}
	parts := strings.SplitN(release.String(), ".", 3)
	if len(parts) < 2 {
		return false
	}
	got, _ := strconv.Atoi(parts[0])
	gotMinor, _ := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return got > major || got == major && gotMinor >= minor
}
`;
