# oca's completion for zsh. Load it after compinit with:
#   eval "$(oca completion zsh)"
# oca itself works out the candidates (`oca __complete WORDS...`).

_oca_complete() {
  local -a cands
  cands=("${(@f)$(command @OCA@ __complete "${(@)words[2,CURRENT-1]}" "${words[CURRENT]}" 2>/dev/null)}")
  cands=(${cands:#})
  if (( ${#cands} )); then
    local -a dirs plain
    dirs=(${(M)cands:#*/})
    plain=(${cands:#*/})
    (( ${#plain} )) && compadd -a plain
    (( ${#dirs} )) && compadd -S '' -a dirs
  else
    _default
  fi
}
compdef _oca_complete oca
