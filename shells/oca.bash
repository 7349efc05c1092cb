# oca: per-project OpenCode accounts, for bash.
# Installed by adding this line to ~/.bashrc:  eval "$(oca hook bash)"
#
# At every prompt __oca_hook works out with builtins alone whether anything
# changed: it looks for the nearest .opencode-account.toml from $PWD upward
# and compares it with the one oca last evaluated, then checks the files oca
# asked it to watch. Leaving a project it undoes oca's variables itself.
# Only when a project file is new or changed does it run oca, and it applies
# oca's output only when oca succeeded. It returns the exit status it found,
# so $? reaches whatever runs after it unchanged.

__oca_bin=@OCA@

# __oca_nearest sets __oca_near to the nearest project file, or to "".
__oca_nearest() {
  local d=$PWD
  while :; do
    if [[ -f ${d%/}/.opencode-account.toml ]]; then
      __oca_near=${d%/}/.opencode-account.toml
      return
    fi
    [[ $d == / || -z $d ]] && break
    d=${d%/*}
    [[ -n $d ]] || d=/
  done
  __oca_near=
}

# __oca_stale: true when a watched file changed.
__oca_stale() {
  local i p s
  for ((i = 0; i + 1 < ${#__oca_watch[@]}; i += 2)); do
    p=${__oca_watch[i]} s=${__oca_watch[i + 1]}
    case $s in
      '') [[ -e $p ]] && return 0 ;;
      .) [[ -e $p ]] || return 0 ;;
      *) [[ ! -e $p || ! -e $s || $p -nt $s || $p -ot $s ]] && return 0 ;;
    esac
  done
  return 1
}

# __oca_leave puts back what oca changed, where it still holds oca's value.
__oca_leave() {
  local i n
  for ((i = 0; i + 3 < ${#__oca_undo[@]}; i += 4)); do
    n=${__oca_undo[i]}
    [[ -n ${!n+set} && ${!n} == "${__oca_undo[i + 1]}" ]] || continue
    if [[ ${__oca_undo[i + 2]} == 1 ]]; then
      export "$n=${__oca_undo[i + 3]}"
    else
      unset "$n"
    fi
  done
  if ((${#__oca_undo[@]})); then unset __OCA_STATE; fi
  # PATH: only oca's shim entry comes off; what the user added stays.
  if [[ -n ${__oca_shim-} && -n ${PATH+set} ]]; then
    local p=":$PATH:"
    while [[ $p == *":$__oca_shim:"* ]]; do p=${p/":$__oca_shim:"/:}; done
    p=${p#:}
    export PATH="${p%:}"
  fi
  __oca_shim=''
  __oca_undo=() __oca_watch=() __oca_file=
}

__oca_run() {
  __oca_file=$__oca_near
  if [[ ! -x $__oca_bin ]]; then
    if [[ -z ${__oca_gone-} ]]; then
      __oca_gone=1
      printf 'oca: %s is gone; the hook rests until it is back (or remove the oca line from ~/.bashrc)\n' "$__oca_bin" >&2
    fi
    return
  fi
  __oca_gone=
  local out
  if out=$("$__oca_bin" export bash --pid "$$"); then
    eval "$out"
  else
    __oca_watch=()
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
      __oca_file=
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
  return "$__oca_status"
}

# __oca_install joins the prompt: bash-preexec's precmd list when it is
# loaded, else PROMPT_COMMAND, as an array (bash 5.1+) or a string. Sourcing
# the rc twice installs once.
__oca_install() {
  local nl=$'\n' u=
  if [[ $- == *u* ]]; then u=1; set +u; fi
  # shellcheck disable=SC2128,SC2178 # PROMPT_COMMAND may be a string, on purpose
  if [[ -n ${bash_preexec_imported-}${__bp_imported-} ]]; then
    [[ " ${precmd_functions[*]} " == *" __oca_hook "* ]] || precmd_functions+=(__oca_hook)
  elif [[ ${PROMPT_COMMAND@a} == *a* ]]; then
    [[ " ${PROMPT_COMMAND[*]} " == *" __oca_hook "* ]] || PROMPT_COMMAND+=(__oca_hook)
  else
    case "$nl${PROMPT_COMMAND-}$nl" in
      *[";$nl"]__oca_hook[";$nl"]*) ;;
      *) PROMPT_COMMAND=${PROMPT_COMMAND:+$PROMPT_COMMAND$nl}__oca_hook ;;
    esac
  fi
  if [[ -n $u ]]; then set -u; fi
}

if [[ $- == *i* ]]; then
  __oca_install
fi
