# oca: per-project OpenCode accounts, for fish.
# Installed by adding this line to ~/.config/fish/config.fish:
#   oca hook fish | source
#
# Before every prompt __oca_hook works out with builtins alone whether
# anything changed: it looks for the nearest .opencode-account.toml from $PWD
# upward and compares it with the one oca last evaluated, then checks the
# files oca asked it to watch. Leaving a project it undoes oca's variables
# itself. Only when a project file is new or changed does it run oca, and it
# applies oca's output only when oca succeeded. $status is kept.

if status is-interactive
    set -g __oca_bin @OCA@

    # __oca_nearest sets __oca_near to the nearest project file, or to "".
    function __oca_nearest
        set -l d $PWD
        while true
            set -l f (string replace -r '/$' '' -- $d)/.opencode-account.toml
            if test -f $f
                set -g __oca_near $f
                return
            end
            if test "$d" = / -o -z "$d"
                break
            end
            set d (string replace -r '/[^/]*$' '' -- $d)
            test -n "$d"; or set d /
        end
        set -g __oca_near ''
    end

    # __oca_stale: true when a watched file changed.
    function __oca_stale
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

    # __oca_leave puts back what oca changed, where it still holds oca's value.
    function __oca_leave
        set -l u $__oca_undo
        while set -q u[4]
            set -l n $u[1]
            if set -q $n; and test "$$n" = "$u[2]"
                if test "$u[3]" = 1
                    set -gx $n $u[4]
                else
                    set -e -g $n
                end
            end
            set -e u[1..4]
        end
        set -q __oca_undo[1]; and set -e -g __OCA_STATE
        # PATH: only oca's shim entry comes off; what the user added stays.
        if test -n "$__oca_shim"
            while set -l i (contains -i -- $__oca_shim $PATH)
                set -e PATH[$i]
            end
        end
        set -g __oca_shim ''
        set -g __oca_undo
        set -g __oca_watch
        set -g __oca_file ''
    end

    function __oca_run
        set -g __oca_file $__oca_near
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
        __oca_nearest
        if not set -q __oca_file
            # This shell's first prompt: ask oca only where there is
            # something to do (a project here, or oca's record inherited).
            if test -n "$__oca_near" -o -n "$__OCA_STATE"
                __oca_run
            else
                set -g __oca_file ''
            end
        else if test "$__oca_near" != "$__oca_file"
            if test -z "$__oca_near"
                __oca_leave
            else
                __oca_run
            end
        else if __oca_stale
            __oca_run
        end
        return $__oca_status
    end
end
