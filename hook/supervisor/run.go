package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/oca-sh/oca/hook/account"
	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/safepath"

	"golang.org/x/sys/unix"
)

// listeningLine is what OpenCode prints on stdout once its server listens.
const listeningLine = "server listening on"

// run is one OpenCode process and what the supervisor knows of it.
type run struct {
	cmd       *exec.Cmd
	pid       int
	pgid      int // == pid: OpenCode leads its own process group
	start     uint64
	startedAt time.Time

	exited    chan struct{} // closed when the process has exited (not yet reaped)
	listening chan struct{} // closed when stdout said it listens
	ready     chan struct{} // closed when /global/health answered healthy
	taken     chan error    // gets the *PortInUseError when the port's listener is not this run's
	output    sync.WaitGroup

	client opencode.Client // this run's server: its routes, and a check that lets the password reach it alone

	readyTimer *time.Timer
	isReady    bool
	readyAt    time.Time
	takenErr   error              // what came on taken
	cancel     context.CancelFunc // stops the health prober
	reaped     bool
	exitState  string
}

// launch starts OpenCode in its own process group with the built
// environment, its output read line by line into the supervisor's ring and
// log. The port is checked first: a port held by another process is an
// error that names it.
func (s *supervisor) launch() (*run, error) {
	if err := s.checkPort(); err != nil {
		return nil, err
	}
	v, err := s.version()
	if err != nil {
		return nil, err
	}
	s.ver = v
	backup, err := opencode.BeforeServing(s.cfg.DataHome, v)
	if err != nil {
		return nil, &cannotServe{err}
	}
	if backup != "" {
		s.st.Notice = "backed up the OpenCode 1.x database before " + v.String() + " first served it: " + backup
		s.log.Printf("%s", s.st.Notice)
	}
	if s.cfg.StateHome != "" {
		if err := v.PrepareServer(s.cfg.StateHome, s.cfg.Password); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(s.cfg.Opencode, v.ServeArgs(s.cfg.Port)...)
	cmd.Env = s.env
	// Clients name their directory per request (opencode attach --dir);
	// its own is where a request that names none would build an instance
	// (see quietDir).
	cmd.Dir = s.quiet
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("start opencode: %w", err)
	}
	defer devnull.Close()
	cmd.Stdin = devnull
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start opencode: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("start opencode: %w", err)
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	s.out.reset()
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, fmt.Errorf("start %s: %w", s.cfg.Opencode, err)
	}
	r := &run{
		cmd:        cmd,
		pid:        cmd.Process.Pid,
		pgid:       cmd.Process.Pid,
		start:      procfs.StartTime(cmd.Process.Pid),
		startedAt:  time.Now(),
		exited:     make(chan struct{}),
		listening:  make(chan struct{}),
		ready:      make(chan struct{}),
		taken:      make(chan error, 1),
		readyTimer: time.NewTimer(s.cfg.ReadyTimeout),
	}
	r.client = opencode.Client{Port: s.cfg.Port, Password: s.cfg.Password, Check: opencode.OwnGroup(r.pgid), Version: v, Dir: s.quiet}
	var once sync.Once
	onLine := func(stream string) func(string) {
		return func(line string) {
			s.out.add(line)
			s.log.Printf("opencode %s: %s", stream, line)
			if strings.Contains(line, listeningLine) {
				once.Do(func() { close(r.listening) })
			}
		}
	}
	// The keys OpenCode was started with are redacted too, whatever their
	// shape.
	auth, _ := account.ReadAuth(s.cfg.DataHome)
	red := s.red.with(account.AuthSecrets(auth))
	r.output.Add(2)
	go func() { defer r.output.Done(); defer outR.Close(); readLines(outR, red, onLine("stdout")) }()
	go func() { defer r.output.Done(); defer errR.Close(); readLines(errR, red, onLine("stderr")) }()
	go func() {
		// Wait without reaping: while the exited leader stays a zombie its
		// pid, which is also the group id, cannot be reused, so the group
		// can still be cleaned up safely.
		var info unix.Siginfo
		for {
			err := unix.Waitid(unix.P_PID, r.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
			if !errors.Is(err, syscall.EINTR) {
				break
			}
		}
		close(r.exited)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go s.probe(ctx, r)
	return r, nil
}

// probe polls /global/health until OpenCode is healthy, right away when it
// says it listens and every 100 ms otherwise. The password goes only to a
// socket of this run's process group: a listener of anybody else (a
// squatter that bound the port first) ends the probe with r.taken.
func (s *supervisor) probe(ctx context.Context, r *run) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	listening := r.listening
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.exited:
			return
		case <-listening:
			listening = nil
		case <-tick.C:
		}
		ok, err := r.client.Health(ctx)
		if ok && s.discoverable(r) {
			close(r.ready)
			return
		}
		if pie := (*opencode.PortInUseError)(nil); errors.As(err, &pie) {
			pie.Cmd = s.red.redact(pie.Cmd)
			r.taken <- pie
			return
		}
	}
}

// hasExited reports whether the leader has exited.
func (r *run) hasExited() bool {
	select {
	case <-r.exited:
		return true
	default:
		return false
	}
}

// gone reports whether the leader has exited and no other process of its
// group is left.
func (r *run) gone() bool {
	return r.hasExited() && len(procfs.GroupMembers(r.pgid)) == 0
}

// finish cleans up after the leader exited: what is left of its group is
// stopped, the leader reaped, the output drained (briefly: a process that
// left the group may still hold the pipe). It returns how it exited.
func (s *supervisor) finish(r *run) string {
	if r.reaped {
		return r.exitState
	}
	r.cancel()
	r.readyTimer.Stop()
	if len(procfs.GroupMembers(r.pgid)) > 0 {
		s.log.Printf("opencode (pid %d) exited, stopping what is left of its process group", r.pid)
		stopGroup(r.pgid, s.cfg.StopGrace, r.gone, s.log.Printf)
	}
	_ = r.cmd.Wait()
	r.reaped = true
	s.unregister(r)
	r.exitState = "exited"
	if ps := r.cmd.ProcessState; ps != nil {
		r.exitState = ps.String() // "exit status 1", "signal: killed"
	}
	drained := make(chan struct{})
	go func() { r.output.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(500 * time.Millisecond):
	}
	return r.exitState
}

// stop stops a running OpenCode: its process group gets SIGTERM, then after
// StopGrace another SIGTERM (OpenCode sometimes ignores the first while it
// installs plugins), then after StopGrace more SIGKILL. It returns once no
// process of the group is left and the leader is reaped.
func (s *supervisor) stop(r *run, why string) string {
	if !r.gone() {
		s.log.Printf("stopping opencode (pid %d): %s", r.pid, why)
		stopGroup(r.pgid, s.cfg.StopGrace, r.gone, s.log.Printf)
	}
	return s.finish(r)
}

// stopGroup signals process group pgid with SIGTERM, SIGTERM again after
// grace, SIGKILL after another grace, and waits until gone() is true (at
// most a few seconds after SIGKILL).
func stopGroup(pgid int, grace time.Duration, gone func() bool, logf func(string, ...any)) {
	steps := []struct {
		sig  syscall.Signal
		wait time.Duration
		note string
	}{
		{syscall.SIGTERM, grace, ""},
		{syscall.SIGTERM, grace, "process group %d still running after SIGTERM: sending SIGTERM again"},
		{syscall.SIGKILL, 5 * time.Second, "process group %d still running after two SIGTERMs: sending SIGKILL"},
	}
	for _, st := range steps {
		if gone() {
			return
		}
		if st.note != "" {
			logf(st.note, pgid)
		}
		if err := signalGroup(pgid, st.sig); err != nil {
			logf("%v", err)
		}
		if waitUntil(gone, st.wait) {
			return
		}
	}
	logf("process group %d: processes left after SIGKILL", pgid)
}

// waitUntil polls cond every 20 ms for up to d; true when cond became true.
func waitUntil(cond func() bool, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cannotServe is a reason OpenCode cannot be started however often it is
// tried: the supervisor gives up at once.
type cannotServe struct{ err error }

func (e *cannotServe) Error() string { return e.err.Error() }
func (e *cannotServe) Unwrap() error { return e.err }

// version is which OpenCode cfg.Opencode is now (Config.Detect); one oca
// does not know is never started.
func (s *supervisor) version() (opencode.Version, error) {
	if s.cfg.Detect == nil {
		return opencode.Version{Major: 1}, nil
	}
	v, err := s.cfg.Detect()
	if err != nil {
		return v, err
	}
	if !v.Known() {
		return v, &cannotServe{fmt.Errorf("%s is %s: %s", s.cfg.Opencode, v, opencode.Supported)}
	}
	s.st.Version = v.String()
	return v, nil
}

// discoverable tells whether V2's own discovery finds r in the account's
// state home: the preview's server registers itself a moment after it
// answers, and a client that looked in between would start a server of
// its own. (OpenCode 1.x, and the stable line, which oca registers once
// ready: true.)
func (s *supervisor) discoverable(r *run) bool {
	v := r.client.Version
	if s.cfg.StateHome == "" || !v.Preview {
		return true
	}
	reg, ok := v.Registered(s.cfg.StateHome)
	return ok && reg.PID == r.pid && reg.URL == opencode.URL(s.cfg.Port)
}

// registered records a ready run of the stable OpenCode 2 in the account's
// state home, where its clients look for it (the preview's server does it
// itself).
func (s *supervisor) registered(r *run) {
	if s.cfg.StateHome == "" {
		return
	}
	reg := opencode.Registration{ID: "oca-" + s.cfg.Account, Version: r.client.Version.Text,
		URL: opencode.URL(s.cfg.Port), PID: r.pid, Password: s.cfg.Password}
	if err := r.client.Version.Register(s.cfg.StateHome, reg); err != nil {
		s.log.Printf("%v", err)
	}
}

// unregister removes the registration of a run that has ended: a client
// would otherwise send the password to whatever listens on its URL next.
func (s *supervisor) unregister(r *run) {
	if s.cfg.StateHome == "" {
		return
	}
	if err := r.client.Version.Unregister(s.cfg.StateHome, r.pid); err != nil {
		s.log.Printf("%v", err)
	}
}

// quietDir is the working directory of the account's OpenCode: the
// directory an instance is built for when a request names none, whose
// config OpenCode loads from every directory above it (.opencode/plugin/,
// opencode.json). That is stateDir, a directory of oca's own, when no one
// else may write to it or any directory above it (safepath's rule);
// otherwise (a HOME under /tmp, where anyone may make /tmp/.opencode) it is
// "/", above which there is nothing. oca's own requests name a directory
// all the same (opencode.Client.Dir), and clients name theirs.
func quietDir(stateDir string) string {
	if safepath.Check(stateDir, safepath.Rule{Links: true}) == nil {
		return stateDir
	}
	return "/"
}
