package supervisor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/oca-sh/oca/hook/opencode"
	"github.com/oca-sh/oca/hook/supervisor/statedir"
	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/procfs/nettcp"

	"github.com/oca-sh/oca/internal/atomicfile"
)

// Phases of a supervisor, as written in status.json.
const (
	PhaseStarting   = "starting"   // OpenCode launched, not yet healthy
	PhaseReady      = "ready"      // /global/health answered healthy:true
	PhaseRestarting = "restarting" // OpenCode died; waiting out the backoff
	PhaseFailing    = "failing"    // gave up after a crash loop or a taken port; the supervisor exits
	PhaseStopping   = "stopping"   // stopping OpenCode's process group
	PhaseStopped    = "stopped"    // no server (also: no status file, or its supervisor is gone)
)

const statusName = "status.json"

// Status is the supervisor's state, written to StateDir/status.json
// (atomically, mode 0600) at every phase change and read by ReadStatus.
type Status struct {
	Account string `json:"account"`
	Phase   string `json:"phase"`
	Port    int    `json:"port"`
	URL     string `json:"url"`

	SupervisorPID   int    `json:"supervisor_pid,omitempty"`
	SupervisorStart uint64 `json:"supervisor_start,omitempty"` // /proc/PID/stat field 22, guards against pid reuse

	OpencodePID   int    `json:"opencode_pid,omitempty"`
	OpencodePGID  int    `json:"opencode_pgid,omitempty"` // its process group: what a new supervisor kills when it finds an orphan
	OpencodeStart uint64 `json:"opencode_start,omitempty"`

	StartedAt         time.Time `json:"started_at,omitzero"`          // the supervisor started
	OpencodeStartedAt time.Time `json:"opencode_started_at,omitzero"` // the current OpenCode process started
	ReadyAt           time.Time `json:"ready_at,omitzero"`            // the current OpenCode process became healthy
	UpdatedAt         time.Time `json:"updated_at,omitzero"`

	Version    string   `json:"version,omitempty"` // the OpenCode it runs, as oca names it
	Notice     string   `json:"notice,omitempty"`  // something done once that the user should hear of (a database backed up)
	Restarts   int      `json:"restarts"`
	LastError  string   `json:"last_error,omitempty"`
	LastOutput []string `json:"last_output,omitempty"` // OpenCode's last lines, secrets redacted

	// Stale is set by ReadStatus, never written: the file names a
	// supervisor that is gone.
	Stale bool `json:"stale,omitempty"`
	// Orphan is set by ReadStatus when the status is stale but the
	// OpenCode it names still runs (its supervisor was killed); the next
	// supervisor stops it before starting its own.
	Orphan bool `json:"orphan,omitempty"`
}

// writeStatus writes st to StateDir/status.json through a temporary file and
// a rename, so readers never see half a file.
func writeStatus(stateDir string, st Status) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode status: %w", err)
	}
	return atomicfile.Write(filepath.Join(stateDir, statusName), append(b, '\n'), 0o600)
}

// readStatusFile reads status.json as written, without judging it.
func readStatusFile(stateDir string) (Status, error) {
	b, err := os.ReadFile(filepath.Join(stateDir, statusName))
	if err != nil {
		return Status{}, err
	}
	var st Status
	if err := json.Unmarshal(b, &st); err != nil {
		return Status{}, fmt.Errorf("parse %s: %w", filepath.Join(stateDir, statusName), err)
	}
	return st, nil
}

// ReadStatus returns the account's status. With no status file the phase is
// "stopped". When the supervisor named in the file is gone (its pid dead or
// reused) the status is stale: Stale is true and a phase other than
// "stopped" or "failing" reads as "stopped" ("failing" is kept, with its
// reason, because a supervisor that gave up has exited on purpose). Orphan
// tells that a stale status's OpenCode still runs.
//
// A supervisor that Ensure started and that has not taken the lock yet
// makes the status "starting", whatever the file of an earlier one says
// (`oca server restart` of a failing server, then `oca server wait`).
//
// The file can be out of date: a supervisor that could not write it (a
// full disk) keeps running. So when the file does not name the supervisor
// that holds the lock, the status comes from the lock and the processes:
// the holder's OpenCode child, "ready" when it listens on a port, else
// "starting"; LastError says so.
func ReadStatus(stateDir string) (Status, error) {
	st, err := readStatusFile(stateDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		st = Status{Phase: PhaseStopped}
	case err != nil:
		return Status{}, err
	}
	live := procfs.Alive(st.SupervisorPID, st.SupervisorStart)
	if st.Phase != PhaseStopped && st.Phase != PhaseFailing && !live {
		st.Stale = true
		st.Phase = PhaseStopped
		st.Orphan = procfs.Alive(st.OpencodePID, st.OpencodeStart)
	}
	if live {
		return st, nil
	}
	holder := statedir.LockHolder(stateDir)
	if holder <= 0 {
		if pid, start := startingSupervisor(stateDir); pid > 0 {
			// The file is an earlier supervisor's (one that gave up, say):
			// not the current one's, which Ensure started and which has
			// not taken its lock yet.
			return Status{Account: st.Account, Port: st.Port, URL: st.URL, Phase: PhaseStarting,
				SupervisorPID: pid, SupervisorStart: start}, nil
		}
		return st, nil
	}
	return fromProcesses(st, holder), nil
}

// fromProcesses is the status of the supervisor holder, which status.json
// does not describe, as /proc tells it.
func fromProcesses(file Status, holder int) Status {
	st := Status{
		Account: file.Account, Port: file.Port, URL: file.URL,
		Phase:           PhaseStarting,
		SupervisorPID:   holder,
		SupervisorStart: procfs.StartTime(holder),
	}
	for _, pid := range procfs.Children(holder) {
		ps, err := procfs.ReadStat(pid)
		if err != nil {
			continue
		}
		st.OpencodePID, st.OpencodePGID, st.OpencodeStart = pid, ps.PGID, ps.Start
		if port := portArg(procfs.Cmdline(pid)); port > 0 {
			st.Port, st.URL = port, opencode.URL(port)
		}
		if st.Port > 0 {
			if ownsListener(pid, st.Port) {
				st.Phase = PhaseReady
			}
		}
		break
	}
	// A supervisor writes its status within milliseconds of taking the
	// lock: a young one that has not yet is starting, and nothing is wrong.
	if st.Phase == PhaseReady || procfs.Age(holder) > 2*time.Second {
		st.LastError = fmt.Sprintf("status.json does not describe supervisor pid %d (it could not be written: a full disk?); phase read from its processes", holder)
	}
	return st
}

// portArg reads "--port N" from a command line.
func portArg(args []string) int {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--port" {
			if p, err := strconv.Atoi(args[i+1]); err == nil {
				return p
			}
		}
	}
	return 0
}

// ownsListener reports whether pid holds a socket listening on port.
func ownsListener(pid, port int) bool {
	ls, err := nettcp.Listeners(port)
	if err != nil {
		return false
	}
	mine := procfs.SocketInodes(pid)
	for _, l := range ls {
		if slices.Contains(mine, l.Inode) {
			return true
		}
	}
	return false
}
