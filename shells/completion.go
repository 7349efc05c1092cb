package shells

import _ "embed"

// BashCompletionCompat goes before cobra's bash completion script in `oca
// completion bash`: the helpers it needs from the bash-completion package,
// defined only where that package is not loaded.
//
//go:embed completion_compat.bash
var BashCompletionCompat string
