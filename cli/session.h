/* What one invocation (or one `carhelp shell` session) knows: resolved global options,
 * config, folders, credential and the one HTTP client. Commands receive it; main builds it. */
#ifndef CARHELP_SESSION_H
#define CARHELP_SESSION_H
#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include "core/error.h"
#include "core/paths.h"
#include "core/config.h"
#include "core/credentials.h"
#include "core/output.h"
#include "core/http.h"

struct session {
    const char *profile;           /* NULL = "default" */
    struct paths paths;
    struct config cfg;             /* resolved: built-in < [default] < [profile] < env < options */
    bool json;                     /* --json */
    const char *api_url_option;    /* --api-url as given, or NULL (the shell passes it on) */
    bool no_input;                 /* --no-input, or stdin is not a TTY */
    bool yes;                      /* -y/--yes */
    int verbosity;                 /* -1 -q, 0 normal, 1 -v, 2 -vv */
    enum color_when color_when;
    bool color_out, color_err;     /* colour resolved for stdout / stderr */
    bool stdin_tty, stdout_tty, stderr_tty;
    struct credential cred;        /* filled by session_load_auth */
    bool have_cred;
    struct http_client *http;      /* created on first use, reused (shell: across commands) */
    bool in_shell;
    /* CMD_SAFETY commands after a config, environment, profile or credential problem: run
     * only what needs no service, then report setup_problem (see main.c dispatch). */
    bool no_service;
    struct ch_error setup_problem;
};

/* The HTTP client, created on first use from cfg (+ token when loaded). */
int session_http(struct session *s, struct http_client **out, struct ch_error *err);
/* Loads the token: CARHELP_TOKEN wins, else the credentials file's profile. Exit 4 with the
 * `carhelp login` hint when there is none, or the chmod hint when the file is insecure. */
int session_load_auth(struct session *s, struct ch_error *err);
/* 0 when the stored credential c of `profile` was issued for url's origin; otherwise CH_AUTH
 * (code "token_origin") with a hint naming the login to run and the profiles bound to that
 * origin. A stored token is never sent to another origin. */
int session_check_origin(struct session *s, const char *profile, const struct credential *c,
                         const char *url, struct ch_error *err);

/* The one message layer (curl's helpf/errorf/warnf idea), all with the `carhelp:` prefix.
 * session_report prints an error as cli.md says (one line + optional hint; with --json the
 * {"error":{...}} document on stderr) and returns its exit code. */
int session_report(struct session *s, const struct ch_error *e);
void msg_warn(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void msg_info(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));  /* not with -q */

/* Asks a yes/no question on the TTY. 0 = yes (or --yes), CH_NO = no, CH_USAGE with err when
 * an answer is needed and --no-input is in force without --yes. */
int session_confirm(struct session *s, const char *question, struct ch_error *err);
/* Reads one line: on a TTY with the prompt (echo off when secret), else the next line of
 * stdin. Trailing newline removed. CH_USAGE on EOF / --no-input when on a TTY. */
int session_read_line(struct session *s, const char *prompt, bool secret, char *out,
                      size_t outsz, struct ch_error *err);
/* Prints one JSON document on stdout (the --json output). */
void session_print_json(struct session *s, const cJSON *doc);

#endif
