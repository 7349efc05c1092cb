# oca's completion for fish. Load it with:  oca completion fish | source
# (or save it as ~/.config/fish/completions/oca.fish).
# oca itself works out the candidates (`oca __complete WORDS...`).

complete -c oca -e
complete -c oca -f -a '(command @OCA@ __complete (commandline -opc)[2..-1] (commandline -ct))'
