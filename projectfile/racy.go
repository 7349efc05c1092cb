package projectfile

import (
	"syscall"
	"time"
)

// RacyWindow is how old a file's last change must be before its stat
// signature stands for its content, on a filesystem oca does not know to
// keep times to the nanosecond: a write within the same tick of the clock
// that stamped the one before leaves size and times as they were (the
// racy-git problem), and FAT keeps times to 2 s. A file changed more
// recently is read and hashed every time, until it is older.
const RacyWindow = 2 * time.Second

// FineRacyWindow is RacyWindow on the local filesystems that stamp a change
// to the nanosecond from the kernel's clock (ext4, XFS, Btrfs, tmpfs, ...):
// that clock advances by a tick of at most 10 ms (HZ=100), and a write
// after the one recorded, later than the clock oca read before it looked
// at the file, is stamped later than the tick before that.
const FineRacyWindow = 50 * time.Millisecond

// RacyWindowOf is the racy window of the filesystem that holds path:
// FineRacyWindow where that filesystem is one of those below, else (FAT,
// a network or FUSE filesystem, whose times another clock may stamp, or a
// path statfs cannot answer for) RacyWindow.
func RacyWindowOf(path string) time.Duration {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(path, &fs); err != nil {
		return RacyWindow
	}
	return racyWindow(fs.Type)
}

// racyWindow is the racy window of a filesystem by its statfs magic number
// (linux/magic.h).
func racyWindow(magic int64) time.Duration {
	switch magic {
	case 0xEF53, // ext2, ext3, ext4
		0x58465342, // xfs
		0x9123683E, // btrfs
		0x01021994, // tmpfs
		0x858458F6, // ramfs
		0x794C7630, // overlayfs (its upper layer's times)
		0xF2F52010, // f2fs
		0x2FC12FC1, // zfs
		0xCA451A4E: // bcachefs
		return FineRacyWindow
	}
	return RacyWindow
}
