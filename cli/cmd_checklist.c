/* checklist: what to have ready before calling support, per issue type. The item tables
 * live in core/checklist.c; this file fetches what it can (the account when logged in, the
 * order given with --order) and prints. It never fails for want of the network or a login:
 * the items it cannot fill stay open boxes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "command.h"
#include "session.h"
#include "i18n.h"
#include "core/api.h"
#include "core/identity.h"
#include "core/buf.h"
#include "core/checklist.h"
#include "core/json.h"
#include "core/orders.h"
#include "core/support.h"
#include "core/validate.h"

extern const struct command cmd_checklist;

static const char *const out_formats[] = {"text", "markdown", "json", NULL};

/* The account behind the token, or NULL (not logged in / offline, said in *source). */
static cJSON *fetch_account(struct session *s, struct http_client **http, const char **source)
{
    struct ch_error err;
    cJSON *account = NULL;
    struct identity who;
    err_clear(&err);
    if (session_load_auth(s, &err) != 0) {
        *source = "not_logged_in";
        return NULL;
    }
    if (validate_api_url("api_url", s->cfg.api_url, &err) || session_http(s, http, &err) ||
        api_whoami(*http, _("who am I"), &who, NULL, &err)) {
        *source = err.exit_code == CH_AUTH ? "not_logged_in" : "offline";
        if (s->verbosity > 0 || strcmp(err.code, "malformed_response") == 0)
            msg_warn(s, _("%s: %s"), err.what, err.message);
        return NULL;
    }
    const char *id = who.role == IDENTITY_CUSTOMER ? who.account_id : NULL;
    if (id) {
        struct buf path = BUF_INIT;
        buf_init(&path);
        buf_puts(&path, "/v1/accounts/");
        buf_put_urlencoded(&path, id);
        if (api_get(*http, path.data, _("show account"), &account, &err) && s->verbosity > 0)
            msg_warn(s, _("%s: %s"), err.what, err.message);
        buf_free(&path);
    }
    *source = account ? "account" : "offline";
    return account;
}

/* --issue, --format and --order, checked before anything else. */
static int checklist_args(const struct parsed *p, int *type, char *order_id, size_t idsz,
                          struct ch_error *err)
{
    const struct command *c = &cmd_checklist;
    const char *issue = arg_str(c, p, "issue"), *order_in = arg_str(c, p, "order");
    const char *format = arg_str(c, p, "format");
    *type = issue ? checklist_type_from_name(issue) : CHECK_GENERAL;
    int rc = CH_OK;
    if (*type < 0)
        rc = err_set(err, CH_USAGE, "invalid_issue", "--issue",
                     _("unknown issue type '%s': vehicle, billing, account, accident or app"),
                     issue);
    if (!rc && format && strcmp(format, "text") && strcmp(format, "markdown") &&
        strcmp(format, "json"))
        rc = err_set(err, CH_USAGE, "invalid_format", "--format",
                     _("--format must be text, markdown or json"));
    if (!rc && order_in)
        rc = validate_object_id("--order", order_in, order_id, idsz, err);
    return rc;
}

static int checklist_validate(const struct parsed *p, struct ch_error *err)
{
    int type;
    char order_id[80];
    return checklist_args(p, &type, order_id, sizeof order_id, err);
}

static int checklist_exec(struct session *s, const struct parsed *p)
{
    const char *format = arg_str(&cmd_checklist, p, "format");
    char order_id[80] = "";
    struct ch_error err;
    err_clear(&err);
    int type;
    if (checklist_args(p, &type, order_id, sizeof order_id, &err))
        return session_report(s, &err);
    if (!format)
        format = s->json ? "json" : "text";

    struct checklist list;
    struct http_client *http = NULL;
    const char *source = "not_logged_in";
    checklist_init(&list, (enum checklist_type)type);
    /* With a setup that cannot be used the service is not asked: every box stays open. */
    cJSON *account = s->no_service ? NULL : fetch_account(s, &http, &source), *order = NULL;
    if (s->no_service)
        source = "offline";
    if (account && order_id[0]) {
        err_clear(&err);
        if (order_get(http, order_id, &order, &err) != 0)
            msg_warn(s, _("order %s: %s (left for you to fill in)"), order_id, err.message);
    }
    checklist_fill(&list, account, order);
    list.source = source;
    if (order_id[0] && !order) {
        /* The number the user typed is still the number to have ready. */
        cJSON *typed = cJSON_CreateObject();
        cJSON_AddStringToObject(typed, "id", order_id);
        checklist_fill(&list, NULL, typed);
        cJSON_Delete(typed);
    }
    struct buf out = BUF_INIT;
    buf_init(&out);
    if (strcmp(format, "json") == 0) {
        cJSON *doc = checklist_json(&list, support_service_number());
        session_print_json(s, doc);
        cJSON_Delete(doc);
    } else if (strcmp(format, "markdown") == 0) {
        checklist_render_markdown(&list, support_service_number(), &out);
    } else {
        checklist_render_text(&list, support_service_number(), &out);
    }
    fputs(out.data, stdout);
    buf_free(&out);
    cJSON_Delete(account);
    cJSON_Delete(order);
    if (!s->no_service)
        return CH_OK;
    fflush(stdout);   /* the checklist first, then the problem, also when both go to one file */
    return session_report(s, &s->setup_problem);
}

static const struct opt checklist_opts[] = {
    {"issue", 0, OPT_STRING, "TYPE", N_("vehicle, billing, account, accident or app"),
     checklist_type_names, 0},
    {"order", 0, OPT_STRING, "ID", N_("fill in this order's number, plate and trip"), NULL, 0},
    {"format", 0, OPT_STRING, "FMT", N_("text (default), markdown or json"), out_formats, 0},
    OPT_END,
};

const struct command cmd_checklist = {
    .name = "checklist",
    .synopsis = "[--issue TYPE] [--order ID] [--format text|markdown|json]",
    .summary = N_("what to have ready before calling support"),
    .description = N_("What to have ready before calling support, per issue type (vehicle, "
                      "billing, account, accident, app): registered phone, member ID, order "
                      "number, plate, what happened and when, photos, and for accidents the 122 "
                      "call and the other party's plate and insurance. When logged in and the "
                      "service answers, items are filled in from the account and the order "
                      "(masked where personal) and ticked; the rest are open boxes. Works "
                      "offline. Markdown prints well; JSON is for scripts."),
    .opts = checklist_opts, .min_args = 0, .max_args = 0,
    .flags = CMD_SAFETY, .exec = checklist_exec, .validate = checklist_validate,
};
