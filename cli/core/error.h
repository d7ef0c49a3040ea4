/* Errors and the exit codes of cli.md. Below the command layer, functions return an exit
 * code (0 = success) and fill a struct ch_error; only the command layer prints it. */
#ifndef CARHELP_ERROR_H
#define CARHELP_ERROR_H
#include <stdarg.h>

enum ch_exit {
    CH_OK = 0,
    CH_NO = 1,            /* the check said no */
    CH_USAGE = 2,         /* usage error or invalid input */
    CH_NOT_FOUND = 3,
    CH_AUTH = 4,          /* not authenticated */
    CH_DENIED = 5,        /* permission denied */
    CH_NETWORK = 6,       /* DNS, connect, TLS, timeout */
    CH_SERVICE = 7,       /* 5xx after retries, malformed or oversized response */
    CH_STATE = 8,         /* rejected by state / conflict */
    CH_RATE = 9,          /* rate limited or locked out */
    CH_OUTBOX = 10,       /* saved to the outbox */
    CH_UNDECIDED = 11,    /* could not decide */
    CH_INTERRUPTED = 130
};

struct ch_error {
    int exit_code;          /* one of enum ch_exit; 0 when no error */
    char code[64];          /* snake_case: the API's error code or our own (invalid_phone, network, ...) */
    char what[160];         /* what failed: "login", "GET /v1/meta", "--phone" */
    char message[512];      /* why, one line, no secrets, no unmasked PII */
    char hint[512];         /* optional next step, "" when none */
    long http_status;       /* 0 when no HTTP response */
    char request_id[128];   /* X-Request-Id of the failing response, "" when none */
    int retries;            /* retries performed before giving up */
};

void err_clear(struct ch_error *e);
/* Sets exit code, code, what and message; returns exit_code so callers can `return err_set(...)`. */
int err_set(struct ch_error *e, int exit_code, const char *code, const char *what,
            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void err_hint(struct ch_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cli.md's mapping from an HTTP status (and the API's error code, which may refine it:
 * locked_out -> 9, vehicle_offline -> 8, token_expired/token_revoked -> 4, account_frozen -> 5)
 * to an exit code. */
int exit_for_http(long status, const char *api_code);
/* Short English name of an exit code ("not found", "network failure", ...). */
const char *exit_code_name(int code);

#endif
