# bash completion for carhelp                                  -*- shell-script -*-
# Thin on purpose: the candidates come from the program itself (`carhelp __complete WORD...`
# prints one candidate per line for the last WORD), which reads the same command table as
# dispatch, --help and the man-page check. Needs bash-completion 2.x (_init_completion).
# Use: installed by `make install`, or `source <(carhelp completion bash)`.

_carhelp()
{
    local cur prev words cword split
    _init_completion -s || return

    local prog=${words[0]}
    [[ $prog == */* && -x $prog ]] || prog=carhelp

    local -a args
    if [[ $split == true ]]; then
        # --opt=VALUE: complete VALUE as if it were typed as `--opt VALUE`.
        args=("${words[@]:1:cword-1}" "$prev" "$cur")
    else
        args=("${words[@]:1:cword-1}" "$cur")
    fi

    local IFS=$'\n'
    COMPREPLY=($(command "$prog" __complete "${args[@]}" 2>/dev/null))
} &&
    complete -F _carhelp carhelp

# ex: filetype=sh
