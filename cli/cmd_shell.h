/* The interactive shell and the guided triage: both run commands in-process through the same
 * dispatcher main() uses, sharing one session (and its HTTP client) across commands. */
#ifndef CARHELP_CMD_SHELL_H
#define CARHELP_CMD_SHELL_H
struct session;

/* Parses argv (argv[0] is the program name) and runs it like main does; shared keeps the HTTP
 * client between calls. Returns the exit code. */
int dispatch_argv(struct session *shared, int argc, char **argv);
/* The guided triage (the `triage` command, and a bare `carhelp` on a TTY). */
int triage_run(struct session *s);
/* Completion candidates for the last of words[0..n-1] (the one being completed), from the
 * command table and the recent-ID cache; emit is called once per candidate. */
void complete_candidates(char **words, int n, void (*emit)(void *ctx, const char *cand), void *ctx);
#endif
