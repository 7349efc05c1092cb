# oca: per-project OpenCode accounts, for zsh.
# Installed by adding this line to ~/.zshrc:  eval "$(oca hook zsh)"
#
# At every prompt __oca_hook decides, with builtins alone, whether anything
# can have changed: the directory, or one of the files `oca export` told it to
# watch. Only then does it run oca, and it evaluates oca's output only when
# oca succeeded. It returns the exit status it found, so $? reaches whatever
# runs after it unchanged.

typeset -g __oca_bin=@OCA@

# __oca_stale: true when oca must run again.
__oca_stale() {
  emulate -L zsh
  [[ ${__oca_pwd-} == "$PWD" ]] || return 0
  local i p s
  for (( i = 1; i < ${#__oca_watch}; i += 2 )); do
    p=${__oca_watch[i]} s=${__oca_watch[i+1]}
    case $s in
      ('') [[ -e $p ]] && return 0 ;;
      (.) [[ -e $p ]] || return 0 ;;
      (*) [[ ! -e $p || ! -e $s || $p -nt $s || $p -ot $s ]] && return 0 ;;
    esac
  done
  return 1
}

__oca_run() {
  typeset -g __oca_pwd=$PWD
  if [[ ! -x $__oca_bin ]]; then
    if [[ -z ${__oca_gone-} ]]; then
      typeset -g __oca_gone=1
      print -r -- "oca: $__oca_bin is gone; the hook rests until it is back (or remove the oca line from ~/.zshrc)" >&2
    fi
    return
  fi
  typeset -g __oca_gone=
  local out
  if out=$("$__oca_bin" export zsh --pid "$$"); then
    eval "$out"
  else
    typeset -ga __oca_watch=()
  fi
}

__oca_hook() {
  local __oca_status=$?
  if __oca_stale; then
    __oca_run
  fi
  return $__oca_status
}

if [[ -o interactive ]]; then
  typeset -ga precmd_functions
  (( ${precmd_functions[(Ie)__oca_hook]} )) || precmd_functions+=(__oca_hook)
fi
