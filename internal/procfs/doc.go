// Package procfs is oca's one reader of Linux's /proc: the TCP sockets of
// /proc/net/tcp{,6} with their owners, which processes hold a socket, and
// what a process is (its stat line, command line, environment, working
// directory, memory, the flocks it holds). It imports nothing of oca's.
//
// Every function reads /proc afresh; none caches. Where /proc is missing
// (not Linux), Readable is false and the socket functions find nothing.
package procfs
