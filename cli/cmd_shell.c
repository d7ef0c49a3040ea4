/* `carhelp shell`: the same commands without the prefix, run in-process through dispatch_argv
 * with one session (and one HTTP client) across commands. GNU readline on a TTY (completion from
 * complete_candidates, history in $CARHELP_STATE_DIR/history without secrets), getline
 * otherwise. Errors never end the shell; `exit` or Ctrl-D do. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <readline/readline.h>
#include <readline/history.h>

#include "command.h"
#include "session.h"
#include "i18n.h"
#include "cmd_shell.h"

extern const struct opt global_opts[];

#define MAX_WORDS 256

/* ---- splitting a line like a POSIX shell ------------------------------------------------ */

struct words {
    char *v[MAX_WORDS + 2];
    int n;
};

static void words_free(struct words *w)
{
    for (int i = 0; i < w->n; i++)
        free(w->v[i]);
    w->n = 0;
}

/* Splits line into words: 'single quotes', "double quotes" (with \\ \" \$ \` escapes) and
 * backslash escapes. Returns 0, or 1 for an unbalanced quote or a trailing backslash; when
 * lenient, an open quote ends the last word instead (completion of a half-typed line).
 * *open_last is set when the line ends inside a word (no trailing blank). */
static int split_line(const char *line, struct words *w, bool lenient, bool *open_last)
{
    size_t cap = strlen(line) + 1;
    char *cur = malloc(cap);
    if (!cur)
        abort();
    size_t len = 0;
    bool in_word = false;
    int rc = 0;
    w->n = 0;
    const char *p = line;
    for (;;) {
        char ch = *p;
        if (ch == '\0' || ch == ' ' || ch == '\t' || ch == '\n') {
            if (in_word && w->n < MAX_WORDS) {
                cur[len] = '\0';
                w->v[w->n++] = strdup(cur);
            }
            if (open_last)
                *open_last = in_word && ch == '\0';
            in_word = false;
            len = 0;
            if (ch == '\0')
                break;
            p++;
            continue;
        }
        in_word = true;
        if (ch == '\\') {
            if (!p[1]) {
                if (!lenient)
                    rc = 1;
                p++;
                continue;
            }
            cur[len++] = p[1];
            p += 2;
        } else if (ch == '\'') {
            const char *end = strchr(p + 1, '\'');
            if (!end) {
                if (!lenient) {
                    rc = 1;
                    break;
                }
                end = p + strlen(p);
            }
            memcpy(cur + len, p + 1, (size_t)(end - p - 1));
            len += (size_t)(end - p - 1);
            p = *end ? end + 1 : end;
        } else if (ch == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1] && strchr("\\\"$`\n", p[1])) {
                    if (p[1] != '\n')
                        cur[len++] = p[1];
                    p += 2;
                } else {
                    cur[len++] = *p++;
                }
            }
            if (!*p) {
                if (!lenient) {
                    rc = 1;
                    break;
                }
            } else {
                p++;
            }
        } else {
            cur[len++] = ch;
            p++;
        }
    }
    free(cur);
    if (rc)
        words_free(w);
    w->v[w->n] = NULL;
    return rc;
}

/* ---- history ---------------------------------------------------------------------------- */

static bool is_secret_option(const char *word)
{
    if (strncmp(word, "--", 2) != 0)
        return false;
    const char *name = word + 2;
    size_t n = strcspn(name, "=");
    const struct opt *tables[2] = { global_opts, NULL };
    for (int t = 0; t < 1; t++)
        for (const struct opt *o = tables[t]; o && o->name; o++)
            if ((o->flags & OPTF_SECRET) && strlen(o->name) == n && !strncmp(o->name, name, n))
                return true;
    for (const struct command *const *c = commands; *c; c++) {
        const struct command *const *subs = (*c)->subs;
        const struct command *one[2] = { *c, NULL };
        for (int pass = 0; pass < 2; pass++) {
            const struct command *const *list = pass ? subs : one;
            for (; list && *list; list++)
                for (const struct opt *o = (*list)->opts; o && o->name; o++)
                    if ((o->flags & OPTF_SECRET) && strlen(o->name) == n &&
                        !strncmp(o->name, name, n))
                        return true;
        }
    }
    return false;
}

/* An OTP (4-8 digits) or something like an ID-card number (15+ digits, maybe a final X),
 * also inside a longer word ("--message=ID 11010519491231002X" is one word). */
static bool looks_secret_number(const char *w)
{
    size_t n = strlen(w), digits = strspn(w, "0123456789");
    if (digits == n && n >= 4 && n <= 8)
        return true;
    if (n >= 15 && (digits == n || (digits == n - 1 && (w[n - 1] == 'X' || w[n - 1] == 'x'))))
        return true;
    for (const char *p = w; *p; p++)
        if (strspn(p, "0123456789") >= 15)
            return true;
    return false;
}

/* The token this shell would send now (CARHELP_TOKEN or the profile's), so that a token
 * pasted at the prompt by mistake never reaches the history. NULL when there is none. */
static char *current_token(struct session *s)
{
    const char *env = getenv("CARHELP_TOKEN");
    if (env && *env)
        return strdup(env);
    struct credential c;
    struct ch_error err;
    memset(&c, 0, sizeof c);
    char *token = NULL;
    if (credentials_load(s->paths.credentials_file, s->profile, &c, &err) == 0 && c.token &&
        *c.token)
        token = strdup(c.token);
    credential_free(&c);
    return token;
}

/* Lines that must never reach the history file (nor readline's in-memory list). */
static bool line_has_secret(const char *line, const char *token)
{
    struct words w;
    if (token && strlen(token) >= 8 && strstr(line, token))
        return true;
    if (split_line(line, &w, true, NULL))
        return true;
    bool secret = false;
    for (int i = 0; i < w.n && !secret; i++) {
        const char *a = w.v[i];
        if (strcmp(a, "login") == 0 || strcmp(a, "--with-token") == 0 || strcmp(a, "verify") == 0 ||
            strstr(a, "token") || strstr(a, "otp") || strstr(a, "password") || strstr(a, "id-number") ||
            is_secret_option(a) || looks_secret_number(a))
            secret = true;
    }
    words_free(&w);
    return secret;
}

struct history_file {
    char path[PATH_MAX + 16];
    bool broken;    /* warned once; no more writes */
};

static void history_warn(struct session *s, struct history_file *h, const char *why)
{
    if (!h->broken)
        msg_warn(s, _("history file %s: %s; history is not kept this session"), h->path, why);
    h->broken = true;
}

/* Opens the history file without following a symbolic link (a link there would make the
 * shell read or append to whatever it points at) and only when it is a regular file of
 * ours; an existing file that group or others may use loses those bits (0644 -> 0600: it
 * holds no secrets, so refusing it would only lose the user's history). -1 with a warning, or -1 and errno
 * ENOENT when there is no file yet and `flags` has no O_CREAT. */
static int history_open(struct session *s, struct history_file *h, int flags)
{
    int fd = open(h->path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int saved = errno;
        struct stat lst;
        if (saved == ELOOP && lstat(h->path, &lst) == 0 && S_ISLNK(lst.st_mode))
            history_warn(s, h, _("it is a symbolic link"));
        else if (saved != ENOENT)
            history_warn(s, h, strerror(saved));
        errno = saved;
        return -1;
    }
    struct stat st;
    char why[128];
    if (fstat(fd, &st) != 0) {
        history_warn(s, h, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        history_warn(s, h, _("it is not a regular file"));
    } else if (st.st_uid != geteuid()) {
        snprintf(why, sizeof why, _("it belongs to uid %ld, not you"), (long)st.st_uid);
        history_warn(s, h, why);
    } else if ((st.st_mode & 077) && fchmod(fd, st.st_mode & 0700) != 0) {
        history_warn(s, h, strerror(errno));
    } else {
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0)
            fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        return fd;
    }
    close(fd);
    errno = EPERM;
    return -1;
}

static void history_load(struct session *s, struct history_file *h)
{
    struct ch_error err;
    snprintf(h->path, sizeof h->path, "%s/history", s->paths.state_dir);
    if (paths_mkdir(s->paths.state_dir, 0700, &err)) {
        history_warn(s, h, _("cannot create its folder"));
        return;
    }
    int fd = history_open(s, h, O_RDONLY);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0) {
            history_warn(s, h, strerror(errno));
            close(fd);
        }
        return;
    }
    char *line = NULL, *token = current_token(s);
    size_t cap = 0;
    ssize_t n;
    int kept = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        if ((size_t)n != strlen(line) || n > 4096) {   /* a NUL byte or a runaway line */
            history_warn(s, h, _("it looks corrupt"));
            clear_history();
            break;
        }
        line[strcspn(line, "\n")] = '\0';
        if (*line && !line_has_secret(line, token)) {
            add_history(line);
            kept++;
        }
    }
    free(token);
    free(line);
    fclose(f);
    stifle_history(1000);
}

static void history_record(struct session *s, struct history_file *h, const char *line)
{
    char *token = current_token(s);
    bool secret = *line && line_has_secret(line, token);
    free(token);
    if (!*line || secret)
        return;
    add_history(line);
    if (h->broken)
        return;
    /* Created 0600 whatever the umask (readline's write_history would use the umask). */
    int fd = history_open(s, h, O_WRONLY | O_APPEND | O_CREAT);
    if (fd < 0)
        return;
    if (write(fd, line, strlen(line)) < 0 || write(fd, "\n", 1) < 0)
        history_warn(s, h, strerror(errno));
    close(fd);
}

/* ---- completion --------------------------------------------------------------------------- */

struct cands {
    char **v;
    int n, cap;
};

static void collect(void *ctx, const char *cand)
{
    struct cands *c = ctx;
    if (c->n + 2 > c->cap) {
        c->cap = c->cap ? c->cap * 2 : 32;
        c->v = realloc(c->v, (size_t)c->cap * sizeof *c->v);
        if (!c->v)
            abort();
    }
    c->v[c->n++] = strdup(cand);
}

static struct cands matches;

static char *next_match(const char *text, int state)
{
    static int i;
    (void)text;
    if (!state)
        i = 0;
    return i < matches.n ? strdup(matches.v[i++]) : NULL;
}

static char **shell_complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1;   /* never fall back to file names */
    for (int i = 0; i < matches.n; i++)
        free(matches.v[i]);
    matches.n = 0;
    char *head = strndup(rl_line_buffer, (size_t)start);
    struct words w;
    split_line(head ? head : "", &w, true, NULL);
    free(head);
    if (w.n < MAX_WORDS)
        w.v[w.n++] = strdup(text);
    w.v[w.n] = NULL;
    if (w.n == 1 && strncmp("exit", text, strlen(text)) == 0)
        collect(&matches, "exit");
    complete_candidates(w.v, w.n, collect, &matches);
    words_free(&w);
    if (!matches.n)
        return NULL;
    return rl_completion_matches(text, next_match);
}

/* ---- signals ------------------------------------------------------------------------------ */

static void on_shell_sigint(int sig)
{
    (void)sig;
    ch_interrupted = 1;    /* a request in flight stops; readline's hook clears the line */
}

static int on_rl_signal(void)
{
    if (ch_interrupted) {
        ch_interrupted = 0;
        rl_replace_line("", 0);
        rl_crlf();
        rl_on_new_line();
        rl_redisplay();
    }
    return 0;
}

/* A Ctrl-C that came while readline was busy (not blocked in read) is handled before the next
 * key is read. */
static int shell_getc(FILE *f)
{
    on_rl_signal();
    return rl_getc(f);
}

/* ---- prompt ------------------------------------------------------------------------------- */

static void make_prompt(struct session *s, int last_rc, char *out, size_t outsz)
{
    struct credential c;
    struct ch_error err;
    memset(&c, 0, sizeof c);
    char who[96] = "";
    const char *profile = s->profile ? s->profile : "default";
    if (credentials_load(s->paths.credentials_file, s->profile, &c, &err) == 0) {
        term_safe(c.subject ? c.subject : "?", who, sizeof who);   /* the service named it */
        credential_free(&c);
    } else {
        snprintf(who, sizeof who, "%s", _("not logged in"));
    }
    char code[16] = "";
    if (last_rc)
        snprintf(code, sizeof code, " [%d]", last_rc);
    snprintf(out, outsz, "carhelp (%s: %s)%s> ", profile, who, code);
}

/* ---- the loop ----------------------------------------------------------------------------- */

/* Runs one line. Returns -1 for `exit`, else the command's exit code. */
static int run_line(struct session *s, const char *line, int last_rc)
{
    struct words w;
    if (split_line(line, &w, false, NULL)) {
        fprintf(stderr, "carhelp: %s\n", _("unbalanced quotes (or a trailing backslash) in the line; nothing was run"));
        return 2;
    }
    if (w.n == 0)
        return last_rc;
    if (strcmp(w.v[0], "exit") == 0 || strcmp(w.v[0], "quit") == 0) {
        int code = w.n > 1 ? atoi(w.v[1]) : 0;
        words_free(&w);
        return -1 - (code & 0xff);
    }
    if (strcmp(w.v[0], "shell") == 0) {
        fprintf(stderr, "carhelp: %s\n", _("already in the shell"));
        words_free(&w);
        return 2;
    }
    /* argv: program name, the shell's own global options, then the line. */
    char *argv[MAX_WORDS + 8];
    int argc = 0;
    argv[argc++] = (char *)"carhelp";
    if (s->profile) {
        argv[argc++] = (char *)"--profile";
        argv[argc++] = (char *)s->profile;
    }
    if (s->api_url_option) {   /* the service the shell was started for, token check and all */
        argv[argc++] = (char *)"--api-url";
        argv[argc++] = (char *)s->api_url_option;
    }
    if (s->json)
        argv[argc++] = (char *)"--json";
    if (s->verbosity > 0)
        argv[argc++] = (char *)"-v";
    if (s->verbosity < 0)
        argv[argc++] = (char *)"-q";
    for (int i = 0; i < w.n; i++)
        argv[argc++] = w.v[i];
    argv[argc] = NULL;
    ch_interrupted = 0;
    int rc = dispatch_argv(s, argc, argv);
    ch_interrupted = 0;
    fflush(stdout);
    words_free(&w);
    return rc;
}

static int shell_exec(struct session *s, const struct parsed *p)
{
    (void)p;
    s->in_shell = true;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_shell_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);

    int last = 0, rc = 0;
    if (!isatty(0)) {
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, stdin) > 0) {
            line[strcspn(line, "\n")] = '\0';
            rc = run_line(s, line, last);
            if (rc < 0)
                break;
            last = rc;
        }
        free(line);
        sigaction(SIGINT, &old, NULL);
        return rc < 0 ? -1 - rc : last;
    }

    struct history_file h;
    memset(&h, 0, sizeof h);
    rl_readline_name = "carhelp";
    rl_variable_bind("enable-bracketed-paste", "off");
    rl_catch_signals = 0;
    rl_signal_event_hook = on_rl_signal;
    rl_getc_function = shell_getc;
    rl_attempted_completion_function = shell_complete;
    rl_basic_word_break_characters = " \t\n\"'";
    rl_completer_quote_characters = "\"'";
    using_history();
    history_load(s, &h);
    if (!s->json && s->verbosity >= 0)
        printf("%s\n", _("carhelp shell: type a command without 'carhelp', Tab to complete, 'help' for the "
                         "commands, 'exit' or Ctrl-D to leave."));
    for (;;) {
        char prompt[256];
        make_prompt(s, last, prompt, sizeof prompt);
        ch_interrupted = 0;
        char *line = readline(prompt);
        if (!line) {
            printf("\n");
            rc = -1;
            break;
        }
        history_record(s, &h, line);
        rc = run_line(s, line, last);
        free(line);
        if (rc < 0)
            break;
        last = rc;
    }
    for (int i = 0; i < matches.n; i++)
        free(matches.v[i]);
    free(matches.v);
    memset(&matches, 0, sizeof matches);
    clear_history();
    sigaction(SIGINT, &old, NULL);
    return -1 - rc;
}

const struct command cmd_shell = {
    .name = "shell",
    .synopsis = "",
    .summary = N_("an interactive shell: the commands without 'carhelp', with Tab completion and history"),
    .description = N_("Reads commands without the 'carhelp' prefix and runs them in-process with one "
                      "connection. Quoting works as in a POSIX shell. Tab completes commands, options, "
                      "values and recent IDs; history is kept in $CARHELP_STATE_DIR/history (mode 0600) "
                      "without lines that carry secrets. Ctrl-C stops the running request, Ctrl-D or "
                      "'exit' leaves. The prompt shows the profile, who is logged in and the last "
                      "non-zero exit status."),
    .min_args = 0,
    .max_args = 0,
    .exec = shell_exec,
};
