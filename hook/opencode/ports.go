package opencode

import (
	"cmp"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strconv"

	"github.com/oca-sh/oca/internal/procfs"
	"github.com/oca-sh/oca/internal/procfs/nettcp"
)

// Holder is the process found holding a port's listening socket.
type Holder struct {
	PID  int // 0 when it cannot be seen (another user's process, without privileges)
	PGID int
	Cmd  string // its command line, as ps shows it
	UID  int    // the socket's owner; -1 when nothing listens
}

func (h Holder) String() string {
	who := ""
	switch {
	case h.PID == 0:
		who = "an unknown process"
	case h.Cmd == "":
		who = fmt.Sprintf("pid %d", h.PID)
	default:
		who = fmt.Sprintf("pid %d (%s)", h.PID, h.Cmd)
	}
	if h.UID >= 0 {
		who += " of user " + UserName(h.UID)
	}
	return who
}

// PortHolder finds the process that listens on port (a stranger's
// listener first: it is the one worth naming), and the owner of its
// socket. Listening is false, and UID -1, when nothing listens.
func PortHolder(port int) (h Holder, listening bool) {
	ls, err := nettcp.Listeners(port)
	if err != nil || len(ls) == 0 {
		return Holder{UID: -1}, false
	}
	me := os.Getuid()
	slices.SortStableFunc(ls, func(a, b nettcp.Socket) int {
		return cmp.Compare(boolInt(a.UID == me), boolInt(b.UID == me))
	})
	h = Holder{UID: ls[0].UID}
	if pid := procfs.Holder(ls[0].Inode); pid != 0 {
		h.PID, h.Cmd = pid, procfs.CmdlineString(pid)
		if st, err := procfs.ReadStat(pid); err == nil {
			h.PGID = st.PGID
		}
	}
	return h, true
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// UserName is the login name of uid, or the number when it has none.
func UserName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return u.Username
	}
	return strconv.Itoa(uid)
}

// PortInUseError says that the account's port is held by a process that is
// not the account's server.
type PortInUseError struct {
	Port int
	PID  int    // 0 when the holder could not be found
	Cmd  string // the holder's command line, when found
	UID  int    // the owner of the listening socket; -1 when unknown
	User string // its login name (or number); "" when unknown
}

func (e *PortInUseError) Error() string {
	h := Holder{PID: e.PID, Cmd: e.Cmd, UID: -1}
	msg := fmt.Sprintf("port %d is already in use by %s", e.Port, h)
	if e.User != "" {
		msg += " of user " + e.User
	}
	return msg
}

// Foreign reports whether the port's holder is another user.
func (e *PortInUseError) Foreign() bool { return e.UID >= 0 && e.UID != os.Getuid() }

// PortInUse is the PortInUseError of port's present holder, its command
// passed through redact (nil: as it is).
func PortInUse(port int, redact func(string) string) *PortInUseError {
	h, _ := PortHolder(port)
	if redact != nil {
		h.Cmd = redact(h.Cmd)
	}
	e := &PortInUseError{Port: port, PID: h.PID, Cmd: h.Cmd, UID: h.UID}
	if h.UID >= 0 {
		e.User = UserName(h.UID)
	}
	return e
}
