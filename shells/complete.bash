# oca's completion for bash. Load it with:  eval "$(oca completion bash)"
# oca itself works out the candidates (`oca __complete WORDS...`), so this
# script stays the same as commands change.

_oca_complete() {
  local IFS=$'\n' cur=${COMP_WORDS[COMP_CWORD]}
  # shellcheck disable=SC2207 # one candidate per line, IFS is a newline
  COMPREPLY=($(command @OCA@ __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null))
  if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == */ ]]; then
    compopt -o nospace 2>/dev/null
  fi
}
complete -o default -F _oca_complete oca
