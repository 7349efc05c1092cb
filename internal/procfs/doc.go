// Package procfs is oca's one reader of Linux's /proc: which processes hold
// a socket, and what a process is (its stat line, command line,
// environment, working directory, memory, the flocks it holds); its
// sub-package nettcp lists the kernel's TCP sockets with their owners
// (sock_diag, else /proc/net/tcp{,6}). It imports nothing of oca's.
//
// Every function reads /proc afresh; none caches.
package procfs
