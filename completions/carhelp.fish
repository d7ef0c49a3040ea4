# fish completion for carhelp. Thin on purpose: the candidates come from the program itself
# (`carhelp __complete WORD...` prints one candidate per line for the last WORD), which reads
# the same command table as dispatch, --help and the man-page check.
# Use: installed by `make install`, or `carhelp completion fish | source`.
complete -c carhelp -f -a '(carhelp __complete (commandline -opc)[2..-1] (commandline -ct))'
