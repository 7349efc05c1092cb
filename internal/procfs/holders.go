package procfs

import (
	"os"
	"slices"
	"strconv"
	"strings"
)

// SocketInodes returns the inodes of the sockets among pid's descriptors
// (none when they cannot be read: another user's process, or gone).
func SocketInodes(pid int) []string {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
	fds, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, fd := range fds {
		if ino, ok := socketInode(dir + fd.Name()); ok {
			out = append(out, ino)
		}
	}
	return out
}

// socketInode reads a descriptor's link: socket:[INODE].
func socketInode(fdPath string) (string, bool) {
	link, err := os.Readlink(fdPath)
	if err != nil {
		return "", false
	}
	ino, ok := strings.CutPrefix(link, "socket:[")
	if !ok || !strings.HasSuffix(ino, "]") {
		return "", false
	}
	return ino[:len(ino)-1], true
}

// Holders finds, in one pass over /proc/*/fd, the processes holding each
// of inodes: inode -> pids, each pid once (in /proc's order; a socket
// passed to a child is held by both). Processes whose descriptors cannot be read (another
// user's, without privileges) are not seen.
func Holders(inodes ...string) map[string][]int {
	want := map[string]bool{}
	for _, ino := range inodes {
		if ino != "" && ino != "0" {
			want[ino] = true
		}
	}
	out := map[string][]int{}
	if len(want) == 0 {
		return out
	}
	for _, pid := range Pids() {
		for _, ino := range SocketInodes(pid) {
			if want[ino] && !slices.Contains(out[ino], pid) {
				out[ino] = append(out[ino], pid)
			}
		}
	}
	return out
}

// Holder is the first process found holding the socket inode, or 0.
func Holder(inode string) int {
	if pids := Holders(inode)[inode]; len(pids) > 0 {
		return pids[0]
	}
	return 0
}
