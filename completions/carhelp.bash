# bash completion for carhelp (placeholder)
