/* The session: the HTTP client and credential on demand, and the one message layer
 * (errors, warnings, confirmations, prompts) with the `carhelp:` prefix. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "session.h"
#include "core/curl_dl.h"
#include "core/origin.h"
#include "i18n.h"

/* ---- HTTP client and credential ---------------------------------------------------------- */

int session_http(struct session *s, struct http_client **out, struct ch_error *err)
{
    if (!s->http) {
        struct http_opts o;
        memset(&o, 0, sizeof o);
        o.base_url = s->cfg.api_url;
        o.timeout_s = s->cfg.timeout_s > 0 ? s->cfg.timeout_s : 15;
        o.connect_timeout_s = o.timeout_s < 5 ? o.timeout_s : 5;
        o.retries = s->cfg.retries >= 0 ? s->cfg.retries : 2;
        o.cacert = s->cfg.cacert;
        o.token = s->have_cred ? s->cred.token : NULL;
        o.verbose = s->verbosity > 0 ? s->verbosity : 0;
        o.trace = stderr;
        o.user_agent = "carhelp/" CARHELP_VERSION;
        s->http = http_client_new(&o);
        if (!s->http)
            return err_set(err, CH_NETWORK, "http_init", _("network"),
                           _("cannot set up the HTTP client: %s"),
                           curl_dl_error() ? curl_dl_error() : _("libcurl initialisation failed"));
    } else if (s->have_cred) {
        http_client_set_token(s->http, s->cred.token);
    }
    *out = s->http;
    return 0;
}

static const char *profile_name(const struct session *s)
{
    return s->profile && *s->profile ? s->profile : "default";
}

static bool token_is_clean(const char *t)
{
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* The profiles of the credentials file whose token is bound to `origin`, for the hint. */
struct bound_profiles {
    const char *origin, *except;
    struct buf names;
    int n;
};

static void collect_bound(const char *profile, const char *api_url, void *ctx)
{
    struct bound_profiles *b = ctx;
    char o[ORIGIN_MAX];
    if (strcmp(profile, b->except) == 0 ||
        url_origin(api_url, o, sizeof o) != 0 || strcmp(o, b->origin) != 0 || b->n >= 5)
        return;
    if (b->n++)
        buf_puts(&b->names, ", ");
    buf_puts(&b->names, profile);
}

int session_check_origin(struct session *s, const char *profile, const struct credential *c,
                         const char *url, struct ch_error *err)
{
    char want[ORIGIN_MAX], have[ORIGIN_MAX], login[ORIGIN_MAX + 200];
    if (url_origin(url, want, sizeof want) != 0) {
        if (curl_dl_error())
            return err_set(err, CH_NETWORK, "http_init", _("network"),
                           _("cannot set up the HTTP client: %s"), curl_dl_error());
        return err_set(err, CH_AUTH, "token_origin", _("credentials"),
                       _("cannot tell which service %s is, so the token of profile '%s' is not sent"),
                       url ? url : "", profile);
    }
    if (c->api_url && url_origin(c->api_url, have, sizeof have) == 0 && strcmp(have, want) == 0)
        return 0;
    if (strcmp(profile, "default") != 0)
        snprintf(login, sizeof login, "carhelp --profile %s --api-url %s login", profile, url);
    else
        snprintf(login, sizeof login, "carhelp --api-url %s login", url);
    if (!c->api_url || !*c->api_url || url_origin(c->api_url, have, sizeof have) != 0) {
        err_set(err, CH_AUTH, "token_origin", _("credentials"),
                _("the token of profile '%s' does not say which service issued it, so it is "
                  "not sent to %s"), profile, want);
        err_hint(err, _("run '%s' to log in again"), login);
        return CH_AUTH;
    }
    err_set(err, CH_AUTH, "token_origin", _("credentials"),
            _("the token of profile '%s' was issued for %s, not %s"), profile, have, want);
    struct bound_profiles b = { .origin = want, .except = profile, .n = 0 };
    buf_init(&b.names);
    credentials_each(s->paths.credentials_file, collect_bound, &b);
    if (b.n == 1)
        err_hint(err, _("run '%s' to log in there, or use --profile %s"), login, b.names.data);
    else if (b.n > 1)
        err_hint(err, _("run '%s' to log in there, or use --profile with one of %s"), login,
                 b.names.data);
    else
        err_hint(err, _("run '%s' to log in there, or use --profile NAME"), login);
    buf_free(&b.names);
    return CH_AUTH;
}

int session_load_auth(struct session *s, struct ch_error *err)
{
    if (s->have_cred)
        return 0;
    const char *env = getenv("CARHELP_TOKEN");
    if (env && *env) {
        if (!token_is_clean(env) || strlen(env) > 4096)
            return err_set(err, CH_USAGE, "invalid_token", "CARHELP_TOKEN",
                           _("the token must not contain spaces or control characters"));
        memset(&s->cred, 0, sizeof s->cred);
        s->cred.token = xstrdup(env);
        s->have_cred = true;
        if (s->http)
            http_client_set_token(s->http, s->cred.token);
        return 0;
    }
    struct credential c;
    memset(&c, 0, sizeof c);
    int rc = credentials_load(s->paths.credentials_file, profile_name(s), &c, err);
    if (rc) {
        credential_free(&c);
        if (!err->hint[0] && rc == CH_AUTH) {
            if (s->profile && strcmp(profile_name(s), "default") != 0)
                err_hint(err, _("run 'carhelp --profile %s login' to log in"), profile_name(s));
            else
                err_hint(err, _("run 'carhelp login' to log in"));
        }
        return rc;
    }
    if (!c.token || !*c.token || !token_is_clean(c.token)) {
        credential_free(&c);
        err_set(err, CH_AUTH, "not_logged_in", _("credentials"),
                _("no usable token for profile '%s' in %s"), profile_name(s),
                s->paths.credentials_file);
        err_hint(err, _("run 'carhelp login' to log in again"));
        return CH_AUTH;
    }
    /* A stored token goes only to the origin it was issued for: nothing is sent elsewhere. */
    if ((rc = session_check_origin(s, profile_name(s), &c, s->cfg.api_url, err))) {
        credential_free(&c);
        return rc;
    }
    s->cred = c;
    s->have_cred = true;
    if (s->http)
        http_client_set_token(s->http, s->cred.token);
    return 0;
}

/* ---- messages ------------------------------------------------------------------------------ */

static void add_str_or_null(cJSON *o, const char *key, const char *v)
{
    if (v && *v)
        cJSON_AddStringToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

int session_report(struct session *s, const struct ch_error *e)
{
    int code = e->exit_code ? e->exit_code : CH_NO;
    if (s && s->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON *o = cJSON_AddObjectToObject(doc, "error");
        cJSON_AddStringToObject(o, "code", e->code[0] ? e->code : "error");
        cJSON_AddStringToObject(o, "message", e->message);
        if (e->http_status)
            cJSON_AddNumberToObject(o, "http_status", (double)e->http_status);
        else
            cJSON_AddNullToObject(o, "http_status");
        add_str_or_null(o, "request_id", e->request_id);
        cJSON_AddNumberToObject(o, "exit_code", code);
        cJSON_AddNumberToObject(o, "retries", e->retries);
        if (e->what[0])
            cJSON_AddStringToObject(o, "what", e->what);
        if (e->hint[0])
            cJSON_AddStringToObject(o, "hint", e->hint);
        char *text = cJSON_PrintUnformatted(doc);
        if (text)
            fprintf(stderr, "%s\n", text);
        free(text);
        cJSON_Delete(doc);
        fflush(stderr);
        return code;
    }
    /* err_set keeps its fields safe already; some callers fill `what` or the request ID
     * themselves, so every field passes the sanitiser again on its way out (it is idempotent). */
    char what[sizeof e->what], message[sizeof e->message], rid[sizeof e->request_id],
        hint[sizeof e->hint];
    bool col = s && s->color_err;
    fprintf(stderr, "%scarhelp:%s ", c_bold(col), c_reset(col));
    if (e->what[0])
        fprintf(stderr, "%s: ", term_safe(e->what, what, sizeof what));
    fputs(term_safe(e->message[0] ? e->message : _(exit_code_name(code)), message, sizeof message),
          stderr);
    if (e->request_id[0])
        fprintf(stderr, " (%s %s)", _("request"), term_safe(e->request_id, rid, sizeof rid));
    fputc('\n', stderr);
    if (e->hint[0])
        fprintf(stderr, "%s%s:%s %s\n", c_yellow(col), _("hint"), c_reset(col),
                term_safe(e->hint, hint, sizeof hint));
    fflush(stderr);
    return code;
}

/* Warnings and notes quote files, the service and the user: one line, through the sanitiser. */
static void put_safe_line(const char *fmt, va_list ap)
{
    struct buf raw = BUF_INIT;
    buf_init(&raw);
    buf_vprintf(&raw, fmt, ap);
    term_print(stderr, raw.data, TERM_ONE_LINE, NULL);
    fputc('\n', stderr);
    buf_free(&raw);
}

void msg_warn(struct session *s, const char *fmt, ...)
{
    bool col = s && s->color_err;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "carhelp: %s%s:%s ", c_yellow(col), _("warning"), c_reset(col));
    put_safe_line(fmt, ap);
    va_end(ap);
}

void msg_info(struct session *s, const char *fmt, ...)
{
    if (s && s->verbosity < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("carhelp: ", stderr);
    put_safe_line(fmt, ap);
    va_end(ap);
}

/* ---- prompts ------------------------------------------------------------------------------- */

/* The terminal state saved while echo is off, so Ctrl-C (twice) can put it back. */
static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;

/* Async-signal-safe: called from the SIGINT handler before _exit. */
void session_tty_restore(void)
{
    if (tio_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
        tio_saved = 0;
    }
}

static void echo_off(void)
{
    struct termios t;
    if (tcgetattr(STDIN_FILENO, &t) != 0)
        return;
    saved_tio = t;
    tio_saved = 1;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
}

/* "One-time code: " -> "one-time code" for "expected ... on standard input". */
static void describe_prompt(const char *prompt, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s", prompt && *prompt ? prompt : "a line");
    size_t n = strlen(out);
    while (n && (out[n - 1] == ' ' || out[n - 1] == ':' || out[n - 1] == '?'))
        out[--n] = '\0';
    if (out[0] >= 'A' && out[0] <= 'Z' && !(out[1] >= 'A' && out[1] <= 'Z'))
        out[0] = (char)(out[0] - 'A' + 'a');
}

int session_read_line(struct session *s, const char *prompt, bool secret, char *out,
                      size_t outsz, struct ch_error *err)
{
    char what[160];
    describe_prompt(prompt, what, sizeof what);
    if (outsz)
        out[0] = '\0';
    bool tty = s->stdin_tty;
    if (tty && s->no_input)
        return err_set(err, CH_USAGE, "input_needed", "", _("%s needed, but --no-input is set"),
                       what);
    if (tty && prompt) {
        fputs(prompt, stderr);
        fflush(stderr);
    }
    if (tty && secret)
        echo_off();

    char *line = NULL;
    size_t cap = 0;
    errno = 0;
    ssize_t n = getline(&line, &cap, stdin);
    int saved = errno;
    if (tty && secret) {
        session_tty_restore();
        fputc('\n', stderr);
    }

    int rc = 0;
    if (n < 0) {
        if (ch_interrupted || saved == EINTR)
            rc = err_set(err, CH_INTERRUPTED, "interrupted", "", _("interrupted"));
        else
            rc = err_set(err, CH_USAGE, "input_missing", "",
                         _("expected %s on standard input"), what);
        clearerr(stdin);
    } else {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if ((size_t)n >= outsz)
            rc = err_set(err, CH_USAGE, "input_too_long", "", _("%s is too long"), what);
        else
            memcpy(out, line, (size_t)n + 1);
    }
    if (line) {
        if (secret)
            memset(line, 0, cap);
        free(line);
    }
    return rc;
}

int session_confirm(struct session *s, const char *question, struct ch_error *err)
{
    if (s->yes)
        return 0;
    if (s->no_input) {
        err_set(err, CH_USAGE, "confirmation_needed", "", _("confirmation needed; pass --yes"));
        return CH_USAGE;
    }
    char prompt[640], answer[32];
    snprintf(prompt, sizeof prompt, "%s [y/N] ", question);
    int rc = session_read_line(s, prompt, false, answer, sizeof answer, err);
    if (rc == CH_USAGE && strcmp(err->code, "input_too_long") == 0)
        rc = 0, answer[0] = '\0';
    if (rc)
        return rc;
    if (strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0)
        return 0;
    return err_set(err, CH_NO, "not_confirmed", "", _("not confirmed; nothing was done"));
}

void session_print_json(struct session *s, const cJSON *doc)
{
    (void)s;
    char *text = cJSON_PrintUnformatted(doc);
    if (!text)
        return;
    fputs(text, stdout);
    fputc('\n', stdout);
    free(text);
}
