# oca: per-project OpenCode accounts, for fish.
# Installed by adding this line to ~/.config/fish/config.fish:
#   oca hook fish | source
#
# Before every prompt __oca_hook decides, with builtins alone, whether
# anything can have changed: the directory, or one of the files `oca export`
# told it to watch. Only then does it run oca, and it evaluates oca's output
# only when oca succeeded. $status is left as it was.

if status is-interactive
    set -g __oca_bin @OCA@

    # __oca_stale: true when oca must run again.
    function __oca_stale
        test "$__oca_pwd" = "$PWD"; or return 0
        set -l w $__oca_watch
        while set -q w[2]
            set -l p $w[1]
            set -l s $w[2]
            set -e w[1..2]
            switch $s
                case ''
                    test -e $p; and return 0
                case .
                    test -e $p; or return 0
                case '*'
                    test ! -e $p -o ! -e $s -o $p -nt $s -o $p -ot $s; and return 0
            end
        end
        return 1
    end

    function __oca_run
        set -g __oca_pwd $PWD
        if not test -x $__oca_bin
            if not set -q __oca_gone
                set -g __oca_gone 1
                echo "oca: $__oca_bin is gone; the hook rests until it is back (or remove the oca line from config.fish)" >&2
            end
            return
        end
        set -e -g __oca_gone
        set -l out (command $__oca_bin export fish --pid $fish_pid)
        if test $status -eq 0
            string join \n -- $out | source
        else
            set -g __oca_watch
        end
    end

    function __oca_hook --on-event fish_prompt
        set -l __oca_status $status
        if __oca_stale
            __oca_run
        end
        return $__oca_status
    end
end
