// Package paths holds the one answer to "does this path lie in that
// directory", which trust records, data homes, leases, config dirs and
// doctor all ask. It compares strings: callers give clean absolute paths
// (resolved where links matter to them).
package paths

import "strings"

// Within reports whether path is dir or lies below it. The root directory
// holds every path; a trailing slash on dir is ignored; "/ab" is not within
// "/a".
func Within(path, dir string) bool {
	dir = strings.TrimRight(dir, "/")
	if dir == "" {
		return strings.HasPrefix(path, "/")
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}
