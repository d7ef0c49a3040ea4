/* Errors and cli.md's exit codes. */
#include <stdio.h>
#include <string.h>
#include "error.h"
#include "i18n.h"
#include "output.h"

void err_clear(struct ch_error *e)
{
    if (e)
        memset(e, 0, sizeof *e);
}

static void copy_str(char *dst, size_t size, const char *src)
{
    if (!src)
        src = "";
    snprintf(dst, size, "%s", src);
}

/* Errors are printed on one line of a terminal, and their text may carry what a service, a
 * file or the user sent (a tariff's unknown rule, a path): it is kept in the sanitiser's safe
 * one-line form, once for every message (found by tests/fuzz). */
static void one_line(char *s, size_t size)
{
    char raw[sizeof ((struct ch_error *)0)->message];
    snprintf(raw, sizeof raw, "%s", s);
    term_safe(raw, s, size);
}

int err_set(struct ch_error *e, int exit_code, const char *code, const char *what,
            const char *fmt, ...)
{
    if (!e)
        return exit_code;
    e->exit_code = exit_code;
    copy_str(e->code, sizeof e->code, code);
    if (what)   /* NULL keeps a `what` set earlier (api_call fills it before http fails) */
        copy_str(e->what, sizeof e->what, what);
    va_list ap;
    va_start(ap, fmt);
    /* Messages are translated here (xgettext -kerr_set:5): a format already passed through
     * _() finds no second entry and stays as it is. gettext("") would be the PO header. */
    vsnprintf(e->message, sizeof e->message, *fmt ? gettext(fmt) : fmt, ap);
    va_end(ap);
    one_line(e->code, sizeof e->code);
    one_line(e->what, sizeof e->what);
    one_line(e->message, sizeof e->message);
    return exit_code;
}

void err_hint(struct ch_error *e, const char *fmt, ...)
{
    if (!e)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->hint, sizeof e->hint, *fmt ? gettext(fmt) : fmt, ap);
    va_end(ap);
    one_line(e->hint, sizeof e->hint);
}

static int in_list(const char *code, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(code, *list) == 0)
            return 1;
    return 0;
}

int exit_for_http(long status, const char *api_code)
{
    static const char *const rate[] = { "locked_out", "rate_limited", NULL };
    static const char *const state[] = { "vehicle_offline", "order_not_active", "ticket_closed",
                                         "idempotency_conflict", NULL };
    static const char *const auth[] = { "token_expired", "token_revoked", "token_invalid",
                                        "unauthenticated", NULL };
    /* A frozen account is refused whatever status an operator's server sends it with. */
    static const char *const denied[] = { "account_frozen", NULL };

    if (status >= 200 && status < 300)
        return CH_OK;
    if (api_code && *api_code) {
        if (in_list(api_code, rate))
            return CH_RATE;
        if (in_list(api_code, state))
            return CH_STATE;
        if (in_list(api_code, auth))
            return CH_AUTH;
        if (in_list(api_code, denied))
            return CH_DENIED;
    }
    switch (status) {
    case 400: case 405: case 413: case 415: case 422:
        return CH_USAGE;
    case 401:
        return CH_AUTH;
    case 403:
        return CH_DENIED;
    case 404: case 410:
        return CH_NOT_FOUND;
    case 409: case 412: case 423:
        return CH_STATE;
    case 429:
        return CH_RATE;
    default:
        break;
    }
    if (status >= 500 && status < 600)
        return CH_SERVICE;
    if (status >= 400 && status < 500)
        return CH_USAGE;
    /* 1xx/3xx reaching here means the service answered something we cannot use. */
    return CH_SERVICE;
}

const char *exit_code_name(int code)
{
    switch (code) {
    case CH_OK:          return N_("success");
    case CH_NO:          return N_("check said no");
    case CH_USAGE:       return N_("usage error");
    case CH_NOT_FOUND:   return N_("not found");
    case CH_AUTH:        return N_("not authenticated");
    case CH_DENIED:      return N_("permission denied");
    case CH_NETWORK:     return N_("network failure");
    case CH_SERVICE:     return N_("service error");
    case CH_STATE:       return N_("rejected by state");
    case CH_RATE:        return N_("rate limited");
    case CH_OUTBOX:      return N_("saved to the outbox");
    case CH_UNDECIDED:   return N_("could not decide");
    case CH_INTERRUPTED: return N_("interrupted");
    default:             return N_("unknown error");
    }
}
