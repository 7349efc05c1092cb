#!/bin/sh
# install.sh: build oca with this machine's Go, install it, and say (or, with
# --rc, add) the line that hooks it into your shell.
#
#   ./install.sh [--rc] [--shims] [--prefix DIR] [--shell bash|zsh|fish]
#
# It installs to $PREFIX/bin (default ~/.local/bin). Where that directory is
# not on PATH it says so and, with --rc, adds it to PATH in the rc file too.
# --shims adds oca's shim directory to PATH in ~/.profile (editors, scripts).
# Running it again replaces the binary and never adds a line twice.
set -eu

prefix=${PREFIX:-$HOME/.local}
add_rc=false
add_shims=false
shell=$(basename "${SHELL:-bash}")

usage() {
	sed -n '2,10s/^# \{0,1\}//p' "$0"
	exit "${1:-0}"
}
die() {
	printf 'install.sh: %s\n' "$*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--rc) add_rc=true ;;
	--shims) add_shims=true ;;
	--prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift ;;
	--prefix=*) prefix=${1#*=} ;;
	--shell) [ $# -ge 2 ] || die "--shell needs bash, zsh or fish"; shell=$2; shift ;;
	--shell=*) shell=${1#*=} ;;
	-h | --help) usage 0 ;;
	*) printf 'install.sh: unknown argument %s\n' "$1" >&2; usage 2 ;;
	esac
	shift
done

cd "$(dirname "$0")"
command -v go >/dev/null 2>&1 || die "Go is needed to build oca (https://go.dev/dl/, or your distribution's golang package)"

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
bindir=$prefix/bin
mkdir -p "$bindir"
# Only a build that will download Go modules takes a minute or two: say so
# then, and only then (GOPROXY=off finds whether all are here already).
if GOPROXY=off GOFLAGS=-mod=readonly go list -deps ./cmd/oca ./cmd/oca-export >/dev/null 2>&1; then
	echo "building oca $version with $(go version | cut -d' ' -f3)"
else
	echo "building oca $version with $(go version | cut -d' ' -f3) (first downloading its Go modules: a minute or two)"
fi
# A static binary (no cgo) starts faster. Beside oca goes oca-export, the
# small binary the hook starts when a shell enters a project: it links only
# what entering needs (`oca hook` runs it when it finds it there), and,
# built with the tag oca_notoml, no TOML parser: it reads the records oca
# leaves of the files it parsed, and hands oca what needs a parse.
# Each is a go install into oca's build cache, which links it again only
# when the source changed (go install keeps an up-to-date binary), then
# copied beside where it goes and moved into place.
cache=${XDG_CACHE_HOME:-$HOME/.cache}/oca/build
mkdir -p "$cache"
# With Go's classic garbage collector where this Go still offers it (Go
# 1.25 and 1.26; GOEXPERIMENT=nogreenteagc): Go 1.26's default, Green Tea,
# touches more memory pages at start, and the hook starts oca-export at
# every prompt that enters a project (docs/benchmarks.md: a third less CPU
# a start). A Go without that choice builds with its own.
experiment=${GOEXPERIMENT:+$GOEXPERIMENT,}nogreenteagc
GOEXPERIMENT=$experiment go env GOEXPERIMENT >/dev/null 2>&1 || experiment=${GOEXPERIMENT:-}
GOEXPERIMENT=$experiment GOBIN=$cache CGO_ENABLED=0 go install -trimpath -ldflags "-s -w -X main.version=$version" ./cmd/oca
GOEXPERIMENT=$experiment GOBIN=$cache CGO_ENABLED=0 go install -trimpath -tags oca_notoml -ldflags "-s -w -X main.version=$version" ./cmd/oca-export
tmp=$(mktemp -d "$bindir/.oca-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$cache/oca" "$cache/oca-export" "$tmp/"
mv -f "$tmp/oca-export" "$bindir/oca-export"
mv -f "$tmp/oca" "$bindir/oca"
echo "installed $bindir/oca and $bindir/oca-export ($version)"

if ! command -v opencode >/dev/null 2>&1; then
	echo "note: opencode is not on your PATH; oca needs it to run servers: npm install -g opencode-ai"
fi

case $shell in
bash | zsh)
	rcfile=$HOME/.bashrc
	[ "$shell" = zsh ] && rcfile=${ZDOTDIR:-$HOME}/.zshrc
	line="eval \"\$('$bindir/oca' hook $shell)\""
	pathline="case :\$PATH: in *:'$bindir':*) ;; *) export PATH='$bindir':\$PATH ;; esac"
	;;
fish)
	rcfile=${XDG_CONFIG_HOME:-$HOME/.config}/fish/config.fish
	line="'$bindir/oca' hook fish | source"
	pathline="contains -- '$bindir' \$PATH; or set -gx PATH '$bindir' \$PATH"
	;;
*) die "unknown shell $shell: use --shell bash, zsh or fish" ;;
esac

# Is the install directory on PATH? Otherwise typing oca fails.
case :$PATH: in
*:"$bindir":*) ;;
*)
	if [ -f "$rcfile" ] && grep -qF "$pathline" "$rcfile"; then
		echo "$rcfile already puts $bindir on PATH; open a new shell to use it"
	elif $add_rc; then
		mkdir -p "$(dirname "$rcfile")"
		printf '\n# oca: put %s on PATH\n%s\n' "$bindir" "$pathline" >>"$rcfile"
		echo "$bindir is not on your PATH: added it to PATH in $rcfile"
	else
		echo "$bindir is not on your PATH; add this line to $rcfile (or run ./install.sh --rc):"
		echo "  $pathline"
	fi
	;;
esac

if [ -f "$rcfile" ] && grep -qF "$line" "$rcfile"; then
	echo "$rcfile already has the oca hook"
elif $add_rc; then
	mkdir -p "$(dirname "$rcfile")"
	printf '\n# oca: per-project OpenCode accounts\n%s\n' "$line" >>"$rcfile"
	echo "added the oca hook to $rcfile; open a new shell to use it"
else
	echo "to finish, add this line to $rcfile (or run ./install.sh --rc):"
	echo "  $line"
fi

# --shims: oca's `opencode` first on the login PATH, for what no hooked shell
# starts (an editor from the Dock, cron, a git hook). When oca shims fails,
# PATH stays as it was (an empty entry would be the working directory).
shimsline="if _oca_shims=\$('$bindir/oca' shims); then PATH=\"\$_oca_shims:\$PATH\"; export PATH; fi; unset _oca_shims"
if $add_shims; then
	profile=$HOME/.profile
	if [ -f "$profile" ] && grep -qF "$shimsline" "$profile"; then
		echo "$profile already has oca's shims"
	else
		printf '\n# oca: its opencode first on PATH, for editors and scripts\n%s\n' "$shimsline" >>"$profile"
		echo "added oca's shims to PATH in $profile; log in again to use them"
	fi
fi
