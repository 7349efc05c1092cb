# oca: per-project OpenCode accounts, for bash.
# Installed by adding this line to ~/.bashrc:  eval "$(oca hook bash)"
#
# At every prompt __oca_hook decides, with builtins alone, whether anything
# can have changed: the directory, or one of the files `oca export` told it to
# watch. Only then does it run oca, and it evaluates oca's output only when
# oca succeeded. It returns the exit status it found, so $? and PIPESTATUS
# reach whatever runs after it unchanged.

__oca_bin=@OCA@

# __oca_stale: true when oca must run again.
__oca_stale() {
  [[ ${__oca_pwd-} == "$PWD" ]] || return 0
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

__oca_run() {
  __oca_pwd=$PWD
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
  if __oca_stale; then
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
