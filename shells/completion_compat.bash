# The two helpers of the bash-completion package that cobra's completion
# script calls, for a bash without that package: enough for oca's words.
# Where bash-completion is loaded, its own stay.
if ! declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
  # Called as: _get_comp_words_by_ref -n =: cur prev words cword; the four
  # are the caller's locals.
  # shellcheck disable=SC2034
  _get_comp_words_by_ref() {
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  }
fi
if ! declare -F _filedir >/dev/null 2>&1; then
  _filedir() {
    local IFS=$'\n'
    if [[ ${1-} == -d ]]; then
      mapfile -t COMPREPLY < <(compgen -d -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
    compopt -o filenames 2>/dev/null
  }
fi
