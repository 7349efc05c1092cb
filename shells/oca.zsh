# oca: per-project OpenCode accounts, for zsh.
# Installed by adding this line to ~/.zshrc:  eval "$(oca hook zsh)"
#
# At every prompt __oca_hook works out with builtins alone whether anything
# changed: it looks for the nearest .opencode-account.toml from $PWD upward
# and compares it with the one oca last evaluated, then checks the files oca
# asked it to watch. Leaving a project it undoes oca's variables itself.
# Only when a project file is new or changed does it run oca, and it applies
# oca's output only when oca succeeded. $? is kept.

typeset -g __oca_bin=@OCA@

# __oca_nearest sets __oca_near to the nearest project file, or to "".
__oca_nearest() {
  emulate -L zsh
  local d=$PWD
  while :; do
    if [[ -f ${d%/}/.opencode-account.toml ]]; then
      typeset -g __oca_near=${d%/}/.opencode-account.toml
      return
    fi
    [[ $d == / || -z $d ]] && break
    d=${d%/*}
    [[ -n $d ]] || d=/
  done
  typeset -g __oca_near=
}

# __oca_stale: true when a watched file changed.
__oca_stale() {
  emulate -L zsh
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

# __oca_leave puts back what oca changed, where it still holds oca's value.
__oca_leave() {
  emulate -L zsh
  local i n
  for (( i = 1; i + 3 <= ${#__oca_undo}; i += 4 )); do
    n=${__oca_undo[i]}
    [[ -n ${(P)n+set} && ${(P)n} == "${__oca_undo[i+1]}" ]] || continue
    if [[ ${__oca_undo[i+2]} == 1 ]]; then
      export "$n=${__oca_undo[i+3]}"
    else
      unset "$n"
    fi
  done
  (( ${#__oca_undo} )) && unset __OCA_STATE
  # PATH: only oca's shim entry comes off; what the user added stays.
  if [[ -n ${__oca_shim-} && -n ${PATH+set} ]]; then
    local p=":$PATH:"
    while [[ $p == *":$__oca_shim:"* ]]; do p=${p/":$__oca_shim:"/:}; done
    p=${p#:}
    export PATH="${p%:}"
  fi
  typeset -ga __oca_undo=() __oca_watch=()
  typeset -g __oca_file= __oca_shim=
}

__oca_run() {
  typeset -g __oca_file=$__oca_near
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
  __oca_nearest
  if [[ -z ${__oca_file+set} ]]; then
    # This shell's first prompt: ask oca only where there is something to
    # do (a project here, or oca's record inherited from another shell).
    if [[ -n $__oca_near || -n ${__OCA_STATE-} ]]; then
      __oca_run
    else
      typeset -g __oca_file=
    fi
  elif [[ $__oca_near != "$__oca_file" ]]; then
    if [[ -z $__oca_near ]]; then
      __oca_leave
    else
      __oca_run
    fi
  elif __oca_stale; then
    __oca_run
  fi
  return $__oca_status
}

if [[ -o interactive ]]; then
  typeset -ga precmd_functions
  (( ${precmd_functions[(Ie)__oca_hook]} )) || precmd_functions+=(__oca_hook)
fi
