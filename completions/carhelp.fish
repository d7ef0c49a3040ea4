# fish completion for carhelp (placeholder)
