/* carhelp: global options, dispatch from the command table, need-flags, exit status and the
 * stdout write check. Everything between argv and a command's exec happens here, once. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <readline/readline.h>
#include <cjson/cJSON.h>

#include "command.h"
#include "session.h"
#include "i18n.h"
#include "core/validate.h"
#include "cmd_outbox.h"
#include "cmd_shell.h"

/* Shared inside the CLI frame (command.c, help.c, session.c, cmd_complete.c). */
extern const struct opt global_opts[];
extern const struct command cmd_complete;
int command_candidates(const struct command *const *table, const char *prefix,
                       const struct command **out, int max);
int edit_distance(const char *a, const char *b, int cap);
void suggest_consider(const char *word, const char *cand, const char **best, int *best_d);
const char *command_suggest(const struct command *const *table, const char *word, char *buf,
                            size_t bufsz);
void help_command(FILE *f, const struct command *parent, const struct command *c);
void help_usage(FILE *f);
void session_tty_restore(void);

enum { G_API_URL, G_PROFILE, G_JSON, G_QUIET, G_VERBOSE, G_COLOR, G_TIMEOUT, G_RETRIES,
       G_NO_INPUT, G_YES, G_CACERT, G_VERSION, G_HELP };

struct cmdline {
    struct parsed g;                  /* the global options, indexed like global_opts */
    struct parsed p;                  /* the command's own options and positionals */
    const struct command *top, *sub;  /* resolved command and subcommand */
    struct ch_error err;              /* the first usage error */
    bool err_is_command;              /* the error is an unknown command (shown even with --help) */
    bool raw;                         /* `__complete`: the rest are words, not options */
};

static const struct command *cmdline_cmd(const struct cmdline *cl)
{
    return cl->sub ? cl->sub : cl->top;
}

static void cmd_path(const struct cmdline *cl, char *out, size_t outsz)
{
    if (cl->sub)
        snprintf(out, outsz, "%s %s", cl->top->name, cl->sub->name);
    else
        snprintf(out, outsz, "%s", cl->top ? cl->top->name : "");
}

static void usage_error(struct cmdline *cl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void usage_error(struct cmdline *cl, const char *fmt, ...)
{
    if (cl->err.exit_code)
        return;
    char what[128], msg[sizeof cl->err.message];
    cmd_path(cl, what, sizeof what);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_set(&cl->err, CH_USAGE, "usage", what, "%s", msg);
}

/* ---- did you mean ---------------------------------------------------------------------- */

static const char *suggest_option(const struct command *c, const char *name)
{
    const char *best = NULL;
    int best_d = 3;
    if (c && c->opts)
        for (const struct opt *o = c->opts; o->name; o++)
            suggest_consider(name, o->name, &best, &best_d);
    for (const struct opt *o = global_opts; o->name; o++)
        suggest_consider(name, o->name, &best, &best_d);
    return best;
}

/* ---- parsing ------------------------------------------------------------------------ */

/* An unknown word (command, subcommand, option) is echoed with at most this many characters. */
#define ECHO_CHARS 20

/* Options people try for a token or password: cli.md never takes one on the command line. */
static bool is_secret_option_name(const char *name)
{
    static const char *const names[] = {"token", "password", "passwd", "pass", "otp", "code",
                                        "secret", "api-key", "auth", NULL};
    for (const char *const *n = names; *n; n++)
        if (strcmp(name, *n) == 0)
            return true;
    return false;
}

static const struct opt *find_long(const struct opt *opts, const char *name, size_t n, int *idx)
{
    for (int i = 0; opts && opts[i].name && i < MAX_OPTS; i++)
        if (strlen(opts[i].name) == n && strncmp(opts[i].name, name, n) == 0) {
            *idx = i;
            return &opts[i];
        }
    return NULL;
}

static const struct opt *find_short(const struct opt *opts, char ch, int *idx)
{
    for (int i = 0; opts && opts[i].name && i < MAX_OPTS; i++)
        if (opts[i].short_name && opts[i].short_name == ch) {
            *idx = i;
            return &opts[i];
        }
    return NULL;
}

static void opt_display(const struct opt *o, bool as_short, char *out, size_t outsz)
{
    if (as_short)
        snprintf(out, outsz, "-%c", o->short_name);
    else
        snprintf(out, outsz, "--%s", o->name);
}

/* Stores one occurrence of option o (value NULL for flags) into p. */
static void store_opt(struct cmdline *cl, struct parsed *p, const struct opt *o, int idx,
                      const char *value, bool as_short)
{
    char disp[72];
    opt_display(o, as_short, disp, sizeof disp);
    if (o->type == OPT_FLAG) {
        p->count[idx]++;
        p->val[idx] = "";
        return;
    }
    if (o->choices) {
        bool ok = false;
        for (const char *const *ch = o->choices; *ch; ch++)
            ok = ok || strcmp(*ch, value) == 0;
        if (!ok) {
            char list[256] = "";
            size_t used = 0;
            for (const char *const *ch = o->choices; *ch; ch++)
                used += (size_t)snprintf(list + used, used < sizeof list ? sizeof list - used : 0,
                                         "%s%s", used ? ", " : "", *ch);
            usage_error(cl, _("invalid value '%s' for '%s' (expected %s)"), value, disp, list);
            return;
        }
    }
    if (o->type == OPT_MULTI) {
        if (p->count[idx] >= MAX_MULTI) {
            usage_error(cl, _("too many '%s' options (at most %d)"), disp, MAX_MULTI);
            return;
        }
        p->multi[idx][p->count[idx]] = value;
    }
    p->count[idx]++;
    p->val[idx] = value;
}

static void parse_long(struct cmdline *cl, int argc, char **argv, int *i)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    const struct command *c = cmdline_cmd(cl);
    int idx = -1;
    struct parsed *p = &cl->p;
    const struct opt *o = c ? find_long(c->opts, arg, n, &idx) : NULL;
    if (!o) {
        o = find_long(global_opts, arg, n, &idx);
        p = &cl->g;
    }
    if (!o) {
        char name[128], shown[128];
        snprintf(name, sizeof name, "%.*s", (int)(n < 100 ? n : 100), arg);
        bool first_error = !cl->err.exit_code;
        bool token = term_word(name, ECHO_CHARS, shown, sizeof shown);
        if (token) {
            usage_error(cl, _("unknown option '--%s' (looks like a token: not shown)"), shown);
            if (first_error)
                err_hint(&cl->err, _("a token is never a command-line argument: set "
                                     "CARHELP_TOKEN, or give it to 'carhelp login --with-token' "
                                     "on standard input"));
            return;
        }
        usage_error(cl, _("unknown option '--%s'"), shown);
        if (first_error && is_secret_option_name(name))
            err_hint(&cl->err, _("secrets are never taken as arguments (ps and shell history "
                                 "would show them): 'carhelp login' asks for them, "
                                 "'login --with-token' reads a token from stdin, or set "
                                 "CARHELP_TOKEN"));
        const char *s = suggest_option(c, name);
        if (s && cl->err.exit_code && !cl->err.hint[0])
            err_hint(&cl->err, _("did you mean '--%s'?"), s);
        return;
    }
    if (o->type == OPT_FLAG) {
        if (eq) {
            usage_error(cl, _("option '--%s' takes no value"), o->name);
            return;
        }
        store_opt(cl, p, o, idx, NULL, false);
        return;
    }
    const char *value = eq ? eq + 1 : NULL;
    if (!value) {
        if (*i + 1 >= argc) {
            usage_error(cl, _("option '--%s' needs a value (%s)"), o->name,
                        o->metavar ? o->metavar : "VALUE");
            return;
        }
        value = argv[++*i];
    }
    store_opt(cl, p, o, idx, value, false);
}

static void parse_short(struct cmdline *cl, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    const struct command *c = cmdline_cmd(cl);
    for (int j = 1; arg[j]; j++) {
        int idx = -1;
        struct parsed *p = &cl->p;
        const struct opt *o = c ? find_short(c->opts, arg[j], &idx) : NULL;
        if (!o) {
            o = find_short(global_opts, arg[j], &idx);
            p = &cl->g;
        }
        if (!o) {
            char one[2] = { arg[j], '\0' }, shown[32];
            term_word(one, 1, shown, sizeof shown);   /* a control or half a character */
            usage_error(cl, _("unknown option '-%s'"), shown);
            return;
        }
        if (o->type == OPT_FLAG) {
            store_opt(cl, p, o, idx, NULL, true);
            continue;
        }
        const char *value = arg[j + 1] ? &arg[j + 1] : NULL;
        if (!value) {
            if (*i + 1 >= argc) {
                usage_error(cl, _("option '-%c' needs a value (%s)"), o->short_name,
                            o->metavar ? o->metavar : "VALUE");
                return;
            }
            value = argv[++*i];
        }
        store_opt(cl, p, o, idx, value, true);
        return;
    }
}

/* The word is echoed cut to its first ECHO_CHARS characters and made safe; a word that looks
 * like a pasted token is never shown (4 characters of it) nor compared with the commands. */
static void unknown_command(struct cmdline *cl, const struct command *const *table,
                            const char *word)
{
    if (cl->err.exit_code)
        return;
    char shown[128];
    bool token = term_word(word, ECHO_CHARS, shown, sizeof shown);
    const struct command *cands[8];
    int n = token ? 0 : command_candidates(table, word, cands, 8);
    if (token) {
        usage_error(cl, _("unknown command '%s' (looks like a token: not shown)"), shown);
        err_hint(&cl->err, _("a token is never a command-line argument: set CARHELP_TOKEN, or "
                             "give it to 'carhelp login --with-token' on standard input"));
    } else if (n > 1) {
        char list[256] = "";
        size_t used = 0;
        for (int k = 0; k < n && k < 8; k++)
            used += (size_t)snprintf(list + used, used < sizeof list ? sizeof list - used : 0,
                                     "%s%s", k ? ", " : "", cands[k]->name);
        usage_error(cl, _("ambiguous command '%s': %s"), shown, list);
    } else {
        usage_error(cl, _("unknown command '%s'"), shown);
        char buf[64];
        const char *s = command_suggest(table, word, buf, sizeof buf);
        if (s)
            err_hint(&cl->err, _("did you mean '%s'?"), s);
        else if (cl->top)
            err_hint(&cl->err, _("run 'carhelp %s --help' to see its commands"), cl->top->name);
        else
            err_hint(&cl->err, _("run 'carhelp --help' to see the commands"));
    }
    cl->err_is_command = true;
}

static void parse_word(struct cmdline *cl, char *word)
{
    if (!cl->top) {
        cl->top = command_find(commands, word);
        if (!cl->top)
            unknown_command(cl, commands, word);
        else if (cl->top == &cmd_complete)
            cl->raw = true;
        return;
    }
    if (cl->top->subs && !cl->sub) {
        cl->sub = command_find(cl->top->subs, word);
        if (!cl->sub)
            unknown_command(cl, cl->top->subs, word);
        return;
    }
    cl->p.pos[cl->p.npos++] = word;
}

static void parse_cmdline(struct cmdline *cl, int argc, char **argv)
{
    bool dashdash = false;
    cl->p.pos = calloc((size_t)argc + 1, sizeof *cl->p.pos);
    if (!cl->p.pos)
        abort();
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        bool broken = cl->err_is_command;   /* after an unknown command only globals count */
        if (cl->raw || dashdash) {
            if (!broken)
                parse_word(cl, arg);
        } else if (strcmp(arg, "--") == 0) {
            dashdash = true;
        } else if (arg[0] == '-' && arg[1] == '-') {
            parse_long(cl, argc, argv, &i);
        } else if (arg[0] == '-' && arg[1]) {
            parse_short(cl, argc, argv, &i);
        } else if (!broken) {
            parse_word(cl, arg);
        }
    }
}

/* ---- --version ------------------------------------------------------------------------ */

static int print_version(bool json)
{
    if (json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "version", CARHELP_VERSION);
        cJSON *f = cJSON_AddObjectToObject(doc, "features");
        cJSON_AddStringToObject(f, "readline", rl_library_version ? rl_library_version : "");
        cJSON_AddStringToObject(f, "http", http_backend_version());
        cJSON_AddBoolToObject(f, "qrencode", 1);
        cJSON_AddBoolToObject(f, "libpng", 1);
        cJSON_AddStringToObject(doc, "default_api_url", DEFAULT_API_URL);
        char *text = cJSON_PrintUnformatted(doc);
        if (text)
            printf("%s\n", text);
        free(text);
        cJSON_Delete(doc);
        return CH_OK;
    }
    printf("carhelp %s\n", CARHELP_VERSION);
    printf("features: readline %s, %s, qrencode, libpng\n",
           rl_library_version ? rl_library_version : "?", http_backend_version());
    printf("default API: %s\n", DEFAULT_API_URL);
    return CH_OK;
}

/* ---- the session ------------------------------------------------------------------------ */

static const char *nonempty_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static enum color_when color_from(const char *s)
{
    if (s && strcmp(s, "always") == 0)
        return COLOR_ALWAYS;
    if (s && strcmp(s, "never") == 0)
        return COLOR_NEVER;
    return COLOR_AUTO;
}

static void session_basics(struct session *s, const struct cmdline *cl)
{
    const struct parsed *g = &cl->g;
    s->json = g->count[G_JSON] > 0;
    s->api_url_option = g->val[G_API_URL];
    s->yes = g->count[G_YES] > 0;
    s->verbosity = g->count[G_VERBOSE] > 0 ? (g->count[G_VERBOSE] > 1 ? 2 : 1)
                   : g->count[G_QUIET] > 0 ? -1 : 0;
    s->stdin_tty = isatty(0);
    s->stdout_tty = isatty(1);
    s->stderr_tty = isatty(2);
    s->no_input = g->count[G_NO_INPUT] > 0 || !s->stdin_tty;
    s->profile = g->val[G_PROFILE] ? g->val[G_PROFILE] : nonempty_env("CARHELP_PROFILE");
    /* Until the config is read, colour follows --color and NO_COLOR only. */
    s->color_when = g->val[G_COLOR] ? color_from(g->val[G_COLOR])
                    : nonempty_env("NO_COLOR") ? COLOR_NEVER : COLOR_AUTO;
    s->color_out = color_enabled(s->color_when, 1);
    s->color_err = color_enabled(s->color_when, 2);
}

/* Built-in < [default] < [profile] < environment < command line. */
static int session_configure(struct session *s, const struct cmdline *cl, bool read_config,
                             struct ch_error *err)
{
    static const struct { int g; const char *key; const char *source; } from_cli[] = {
        { G_API_URL, "api_url", "--api-url" }, { G_TIMEOUT, "timeout", "--timeout" },
        { G_RETRIES, "retries", "--retries" }, { G_COLOR, "color", "--color" },
        { G_CACERT, "cacert", "--cacert" },
    };
    int rc = paths_resolve(&s->paths, err);
    if (rc && read_config)
        return rc;
    config_defaults(&s->cfg);
    if (read_config) {
        if (s->profile && !*s->profile)
            return err_set(err, CH_USAGE, "bad_profile", "--profile", _("empty profile name"));
        rc = config_load_file(&s->cfg, s->paths.config_file, s->profile, err);
        if (!rc)
            rc = config_load_env(&s->cfg, err);
        if (rc)
            return rc;
    }
    for (size_t k = 0; k < sizeof from_cli / sizeof from_cli[0]; k++) {
        const char *v = cl->g.val[from_cli[k].g];
        if (v && (rc = config_set(&s->cfg, from_cli[k].key, v, from_cli[k].source, err)))
            return rc;
    }
    if (read_config || cl->g.val[G_COLOR]) {
        s->color_when = color_from(s->cfg.color);
        s->color_out = color_enabled(s->color_when, 1);
        s->color_err = color_enabled(s->color_when, 2);
    }
    return 0;
}

static const char *api_url_source(const struct cmdline *cl)
{
    if (cl->g.val[G_API_URL])
        return "--api-url";
    if (nonempty_env("CARHELP_API_URL"))
        return "CARHELP_API_URL";
    return "api_url";
}

static int run_needs(struct session *s, const struct cmdline *cl, const struct command *c,
                     struct ch_error *err)
{
    int rc;
    if ((c->flags & CMD_NEEDS_NETWORK) &&
        (rc = validate_api_url(api_url_source(cl), s->cfg.api_url, err)))
        return rc;
    if ((c->flags & CMD_NEEDS_AUTH) && (rc = session_load_auth(s, err)))
        return rc;
    if (c->flags & CMD_NEEDS_NETWORK) {
        struct http_client *h;
        if ((rc = session_http(s, &h, err)))
            return rc;
    }
    return 0;
}

static void session_close(struct session *s)
{
    if (s->http)
        http_client_free(s->http);
    s->http = NULL;
    if (s->have_cred)
        credential_free(&s->cred);
    s->have_cred = false;
    config_free(&s->cfg);
}

/* ---- exit --------------------------------------------------------------------------------- */

/* git's idea: output that did not reach its destination is a failure, not a success. */
static int finish(int rc)
{
    int failed = 0, saved = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        failed = 1;
        saved = errno;
    }
    if (fclose(stdout) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (failed) {
        fprintf(stderr, "carhelp: %s: %s\n", _("error writing output"),
                saved ? strerror(saved) : _("unknown error"));
        if (rc == CH_OK)
            rc = CH_USAGE;
    }
    return rc;
}

static void on_sigint(int sig)
{
    (void)sig;
    if (ch_interrupted) {           /* the second Ctrl-C: leave now */
        session_tty_restore();
        _exit(CH_INTERRUPTED);
    }
    ch_interrupted = 1;
}

static void install_sigint(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;                /* no SA_RESTART: a blocking read returns EINTR */
    sigaction(SIGINT, &sa, NULL);
}

/* The HTTP client a shell keeps across commands, when this command's settings match it. */
static void shell_http_borrow(struct session *s, struct session *shared)
{
    if (!shared || !shared->http)
        return;
    const struct http_opts *o = http_client_opts(shared->http);
    const char *cacert = s->cfg.cacert ? s->cfg.cacert : "";
    int timeout = s->cfg.timeout_s > 0 ? s->cfg.timeout_s : 15;
    int verbose = s->verbosity > 0 ? s->verbosity : 0;
    size_t n = strlen(s->cfg.api_url ? s->cfg.api_url : "");
    while (n > 0 && s->cfg.api_url[n - 1] == '/')
        n--;
    if (strlen(o->base_url) == n && strncmp(o->base_url, s->cfg.api_url, n) == 0 &&
        strcmp(o->cacert ? o->cacert : "", cacert) == 0 && o->timeout_s == timeout &&
        o->verbose == verbose) {
        s->http = shared->http;
        http_client_set_token(s->http, NULL);   /* session_http sets it again when loaded */
    } else {
        http_client_free(shared->http);
    }
    shared->http = NULL;
}

/* The CMD_SAFETY command this command line runs (not for --help), or NULL. */
static const struct command *safety_command(const struct cmdline *cl)
{
    const struct command *c = cl->top ? cmdline_cmd(cl) : NULL;
    if (!c || !c->exec || !(c->flags & CMD_SAFETY) || cl->err_is_command || cl->g.count[G_HELP])
        return NULL;
    return c;
}

/* After a setup problem: built-in defaults, no credential, no HTTP client; the problem is
 * kept for the command to report after what it can print. */
static void session_without_service(struct session *s, const struct ch_error *problem)
{
    struct ch_error scratch;
    session_close(s);
    config_init(&s->cfg);
    config_defaults(&s->cfg);
    if (paths_resolve(&s->paths, &scratch))
        memset(&s->paths, 0, sizeof s->paths);
    s->setup_problem = *problem;
    s->no_service = true;
}

static int dispatch(struct cmdline *cl, struct session *shared)
{
    struct session s;
    struct ch_error err;
    memset(&s, 0, sizeof s);
    err_clear(&err);
    config_init(&s.cfg);
    session_basics(&s, cl);
    s.in_shell = shared != NULL;

    /* Safety first: the emergency guidance comes out before anything that could fail or
     * wait, even a mistyped option of the same command line. */
    const struct command *safety = safety_command(cl);
    if (safety && safety->preface)
        safety->preface(&s, &cl->p);
    if (cl->err.exit_code && (cl->err_is_command || !cl->g.count[G_HELP]))
        return session_report(&s, &cl->err);
    if (cl->g.count[G_HELP]) {
        help_command(stdout, cl->sub ? cl->top : NULL, cmdline_cmd(cl));
        return CH_OK;
    }
    if (!cl->top && !shared && !cl->g.count[G_JSON] && !cl->g.count[G_NO_INPUT] &&
        s.stdin_tty && s.stdout_tty) {
        /* A bare `carhelp` on a TTY: the guided triage. */
        int trc = session_configure(&s, cl, true, &err);
        trc = trc ? session_report(&s, &err) : triage_run(&s);
        session_close(&s);
        return trc;
    }
    if (!cl->top) {
        help_usage(stderr);
        return CH_USAGE;
    }
    if (cl->top->subs && !cl->sub) {
        help_command(stderr, NULL, cl->top);
        return CH_USAGE;
    }
    const struct command *c = cmdline_cmd(cl);
    if (!c->exec) {
        help_command(stderr, cl->sub ? cl->top : NULL, c);
        return CH_USAGE;
    }
    if (cl->p.npos < c->min_args || (c->max_args >= 0 && cl->p.npos > c->max_args)) {
        char what[128];
        cmd_path(cl, what, sizeof what);
        err_set(&err, CH_USAGE, "usage", what, "%s",
                cl->p.npos < c->min_args ? _("missing argument") : _("too many arguments"));
        err_hint(&err, "usage: carhelp %s%s%s", what, c->synopsis && *c->synopsis ? " " : "",
                 c->synopsis ? c->synopsis : "");
        return session_report(&s, &err);
    }
    /* Input first (cli.md "Input validation"): before the config, the credential and any
     * request, so bad input is exit 2 whoever is logged in. */
    if (c->validate && c->validate(&cl->p, &err))
        return session_report(&s, &err);

    int rc = session_configure(&s, cl, !(c->flags & CMD_NO_CONFIG), &err);
    if (!rc)
        shell_http_borrow(&s, shared);
    if (!rc)
        rc = run_needs(&s, cl, c, &err);
    if (rc && safety) {
        /* What needs no service still runs; the command reports the problem after it. */
        session_without_service(&s, &err);
        rc = c->exec(&s, &cl->p);
    } else if (rc) {
        rc = session_report(&s, &err);
    } else {
        rc = c->exec(&s, &cl->p);
    }
    if (rc == CH_OK && !(c->flags & (CMD_HIDDEN | CMD_NO_CONFIG)) && strcmp(cl->top->name, "outbox"))
        outbox_mention_pending(&s);   /* "N requests wait in the outbox" on stderr */
    if (shared && !shared->http) {   /* the shell keeps the connection for the next command */
        shared->http = s.http;
        s.http = NULL;
    }
    session_close(&s);
    return rc;
}

int dispatch_argv(struct session *shared, int argc, char **argv)
{
    struct cmdline cl;
    memset(&cl, 0, sizeof cl);
    parse_cmdline(&cl, argc, argv);
    int rc;
    if (cl.g.count[G_VERSION] && !cl.raw)
        rc = print_version(cl.g.count[G_JSON] > 0);
    else
        rc = dispatch(&cl, shared);
    free(cl.p.pos);
    fflush(stdout);
    return rc;
}

/* Tokens, one-time codes, passwords and ID numbers pass through this process's memory: no
 * core file may copy them to disk, and no other program of the same user may attach to read
 * them (ssh-agent does the same). exec() makes children dumpable again. */
static void keep_secrets_out_of_core_dumps(void)
{
    struct rlimit none = {0, 0};
    (void)setrlimit(RLIMIT_CORE, &none);
#ifdef __linux__
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

int main(int argc, char **argv)
{
    keep_secrets_out_of_core_dumps();
    struct cmdline cl;
    memset(&cl, 0, sizeof cl);
    /* --version comes first and does nothing else (a benchmark holds it under 5 ms). */
    parse_cmdline(&cl, argc, argv);
    if (cl.g.count[G_VERSION] && !cl.raw) {
        free(cl.p.pos);
        return finish(print_version(cl.g.count[G_JSON] > 0));
    }
    /* Parse again with the catalogues in place, so usage errors are translated. */
    free(cl.p.pos);
    memset(&cl, 0, sizeof cl);
    i18n_init();
    parse_cmdline(&cl, argc, argv);
    install_sigint();
    int rc = dispatch(&cl, NULL);
    free(cl.p.pos);
    return finish(rc);
}
