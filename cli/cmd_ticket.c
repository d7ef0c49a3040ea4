/* ticket list | show | comment | attach | rate: following up on tickets. The adds (comment,
 * attach, rate) carry an Idempotency-Key and wait in the outbox when the service cannot be
 * reached, like report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "command.h"
#include "session.h"
#include "i18n.h"
#include "core/idcache.h"
#include "cmd_outbox.h"
#include "cmd_report.h"
#include "core/api.h"
#include "core/attach.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/validate.h"

extern const struct command cmd_ticket;
static const struct command cmd_ticket_list, cmd_ticket_comment, cmd_ticket_rate;

#define LIST_PAGE_MAX 100
#define LIST_ALL_MAX 10000

static const char *const statuses[] = {"open", "in_progress", "waiting_customer", "resolved",
                                       "closed", NULL};

static void local_time(const char *rfc3339, char *out, size_t outsz)
{
    time_t t = parse_rfc3339(rfc3339 ? rfc3339 : "");
    if (t == (time_t)-1)
        term_safe(rfc3339 ? rfc3339 : "-", out, outsz);   /* shown as sent, made safe */
    else
        format_local_time(t, out, outsz);
}

static bool finished(const cJSON *t)
{
    const char *st = json_str(t, "status", "");
    return strcmp(st, "resolved") == 0 || strcmp(st, "closed") == 0;
}

static bool overdue(const cJSON *t)
{
    time_t due = parse_rfc3339(json_str(t, "sla_due_at", ""));
    return !finished(t) && due != (time_t)-1 && due < ch_now();
}

static int ticket_id_arg(const char *in, char *out, size_t outsz, struct ch_error *err)
{
    return validate_object_id("ID", in, out, outsz, err);
}

/* ---- list ---------------------------------------------------------------------------------- */

/* --status and --limit, checked before anything else. */
static int list_args(const struct parsed *p, long *limit, struct ch_error *err)
{
    const struct command *c = &cmd_ticket_list;
    const char *status = arg_str(c, p, "status"), *limit_in = arg_str(c, p, "limit");
    if (status) {
        bool ok = false;
        for (const char *const *v = statuses; *v; v++)
            ok |= strcmp(*v, status) == 0;
        if (!ok)
            return err_set(err, CH_USAGE, "invalid_status", "--status",
                           _("'%s' is not one of open, in_progress, waiting_customer, resolved, "
                             "closed"),
                           status);
    }
    return limit_in ? validate_int("--limit", limit_in, 1, LIST_PAGE_MAX, limit, err) : 0;
}

static int ticket_list_validate(const struct parsed *p, struct ch_error *err)
{
    long limit;
    return list_args(p, &limit, err);
}

static int ticket_list_exec(struct session *s, const struct parsed *p)
{
    const struct command *c = &cmd_ticket_list;
    const char *status = arg_str(c, p, "status"), *limit_in = arg_str(c, p, "limit");
    bool all = arg_flag(c, p, "all");
    long limit = 20;
    struct ch_error err;
    struct http_client *http;
    err_clear(&err);
    (void)status;
    (void)limit_in;
    int rc = list_args(p, &limit, &err);
    if (!rc)
        rc = session_http(s, &http, &err);
    if (rc)
        return session_report(s, &err);

    cJSON *items = cJSON_CreateArray();
    char *cursor = NULL;
    struct buf path = BUF_INIT;
    buf_init(&path);
    do {
        buf_reset(&path);
        buf_printf(&path, "/v1/tickets?limit=%ld", all ? LIST_PAGE_MAX : limit);
        if (status) {
            buf_puts(&path, "&status=");
            buf_put_urlencoded(&path, status);
        }
        if (cursor) {
            buf_puts(&path, "&cursor=");
            buf_put_urlencoded(&path, cursor);
        }
        cJSON *page = NULL;
        rc = api_get(http, path.data, _("list tickets"), &page, &err);
        free(cursor);
        cursor = NULL;
        if (rc)
            break;
        const cJSON *t;
        cJSON_ArrayForEach(t, json_arr(page, "items"))
            cJSON_AddItemToArray(items, cJSON_Duplicate(t, 1));
        const char *next = json_str(page, "next_cursor", NULL);
        if (next && *next)
            cursor = xstrdup(next);
        cJSON_Delete(page);
    } while (all && cursor && cJSON_GetArraySize(items) < LIST_ALL_MAX);
    buf_free(&path);
    if (rc) {
        free(cursor);
        cJSON_Delete(items);
        return session_report(s, &err);
    }
    if (s->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddItemToObject(doc, "items", items);
        if (cursor)
            cJSON_AddStringToObject(doc, "next_cursor", cursor);
        else
            cJSON_AddNullToObject(doc, "next_cursor");
        session_print_json(s, doc);
        cJSON_Delete(doc);
    } else if (cJSON_GetArraySize(items) == 0) {
        printf("%s\n", _("No tickets."));
        cJSON_Delete(items);
    } else {
        const char *headers[] = {_("ID"), _("STATUS"), _("PRIORITY"), _("CATEGORY"),
                                 _("SLA DUE"), _("MESSAGE")};
        struct table *t = table_new(6, headers);
        const cJSON *it;
        cJSON_ArrayForEach(it, items) {
            char due[80], when[64], msg[200], id[80];
            local_time(json_str(it, "sla_due_at", NULL), when, sizeof when);
            snprintf(due, sizeof due, "%s%s", when, overdue(it) ? _(" (overdue)") : "");
            term_safe_cols(json_str(it, "message", ""), 40, msg, sizeof msg);
            term_safe(json_str(it, "id", "?"), id, sizeof id);
            idcache_add("ticket", id);
            const char *row[] = {id, json_str(it, "status", "?"), json_str(it, "priority", "?"),
                                 json_str(it, "category", "?"), due, msg};
            table_add_row(t, row);
        }
        table_print(t, stdout, s->color_out);
        table_free(t);
        if (cursor)
            printf(_("More tickets: --all, or --limit up to %d\n"), LIST_PAGE_MAX);
        cJSON_Delete(items);
    }
    free(cursor);
    return CH_OK;
}

/* ---- show ---------------------------------------------------------------------------------- */

static void field(const char *label, const char *value)
{
    if (!value)
        return;
    char safe[512];
    fputs("  ", stdout);
    print_padded(stdout, label, 12);
    printf("%s\n", term_safe(value, safe, sizeof safe));
}

static void print_ticket(struct session *s, const cJSON *t)
{
    char line[1024], when[64], due[96], category[80], priority[80], status[80];
    bool col = s->color_out;
    term_safe(json_str(t, "id", "?"), line, sizeof line);
    idcache_add("ticket", line);
    printf("%s%s%s  %s / %s / %s\n", c_bold(col), line, c_reset(col),
           term_safe(json_str(t, "category", "?"), category, sizeof category),
           term_safe(json_str(t, "priority", "?"), priority, sizeof priority),
           term_safe(json_str(t, "status", "?"), status, sizeof status));
    local_time(json_str(t, "sla_due_at", NULL), when, sizeof when);
    snprintf(due, sizeof due, "%s%s", when, overdue(t) ? _(" (overdue)") : "");
    field(_("SLA due"), due);
    local_time(json_str(t, "created_at", NULL), when, sizeof when);
    field(_("Created"), when);
    field(_("Short code"), json_str(t, "short_code", NULL));
    field(_("Order"), json_str(t, "order_id", NULL));
    field(_("Vehicle"), json_str(t, "vehicle_id", NULL));
    const cJSON *loc = json_obj(t, "location");
    if (loc) {
        snprintf(line, sizeof line, "%.6f,%.6f", json_num(loc, "lat", 0), json_num(loc, "lng", 0));
        field(_("Location"), line);
    }
    printf("\n");
    /* The message may have several lines: each is indented, nothing else is let through. */
    fputs("  ", stdout);
    term_print(stdout, json_str(t, "message", ""), TERM_MULTILINE, "  ");
    fputc('\n', stdout);
    const cJSON *atts = json_arr(t, "attachments");
    if (cJSON_GetArraySize(atts) > 0) {
        printf("\n%s\n", _("Attachments:"));
        const cJSON *a;
        cJSON_ArrayForEach(a, atts) {
            char type[128];
            term_safe(json_str(a, "filename", "?"), line, sizeof line);
            printf("  %s  %s  %lld bytes\n", line,
                   term_safe(json_str(a, "content_type", "?"), type, sizeof type),
                   json_int(a, "size_bytes", 0));
        }
    }
    const cJSON *rating = json_obj(t, "rating");
    if (rating) {
        term_safe(json_str(rating, "comment", ""), line, sizeof line);
        printf("\n%s %lld/5%s%s\n", _("Rating:"), json_int(rating, "score", 0), *line ? "  " : "",
               line);
    }
    const cJSON *events = json_arr(t, "events");
    if (cJSON_GetArraySize(events) > 0) {
        printf("\n%s\n", _("History:"));
        const cJSON *e;
        cJSON_ArrayForEach(e, events) {
            char body[600], actor[80], kind[64], role[64];
            local_time(json_str(e, "at", NULL), when, sizeof when);
            term_safe_cols(json_str(e, "body", ""), 70, body, sizeof body);
            term_safe(json_str(e, "actor", "?"), actor, sizeof actor);
            printf("  %s  %-14s %s (%s)%s%s\n", when,
                   term_safe(json_str(e, "kind", "?"), kind, sizeof kind), actor,
                   term_safe(json_str(e, "actor_role", "?"), role, sizeof role),
                   *body ? ": " : "", body);
        }
    }
}

/* ID: show. */
static int ticket_show_validate(const struct parsed *p, struct ch_error *err)
{
    char id[80];
    return ticket_id_arg(p->pos[0], id, sizeof id, err);
}

static int ticket_show_exec(struct session *s, const struct parsed *p)
{
    char id[80];
    struct ch_error err;
    struct http_client *http;
    err_clear(&err);
    int rc = ticket_id_arg(p->pos[0], id, sizeof id, &err);
    if (!rc)
        rc = session_http(s, &http, &err);
    if (rc)
        return session_report(s, &err);
    struct buf path = BUF_INIT;
    buf_init(&path);
    buf_puts(&path, "/v1/tickets/");
    buf_put_urlencoded(&path, id);
    cJSON *t = NULL;
    rc = api_get(http, path.data, _("show ticket"), &t, &err);
    buf_free(&path);
    if (rc)
        return session_report(s, &err);
    if (s->json)
        session_print_json(s, t);
    else
        print_ticket(s, t);
    cJSON_Delete(t);
    return CH_OK;
}

/* ---- comment, attach, rate: keyed adds that may wait in the outbox ------------------------- */

static int send_add(struct session *s, const char *command, const char *summary,
                    const char *path, cJSON *body, const char *const *files,
                    const char *attach_path, cJSON **answer)
{
    struct ch_error err;
    struct outbox_item it;
    char key[37];
    err_clear(&err);
    http_new_idempotency_key(key);
    struct outbox_request r = {
        .command = command, .summary = summary,
        .profile = s->profile && *s->profile ? s->profile : "default",
        .api_url = s->cfg.api_url, .method = path ? "POST" : NULL, .path = path, .body = body,
        .idempotency_key = key, .attachments = files, .attach_path = attach_path,
    };
    int rc = outbox_item_from_request(&r, &it, &err);
    if (rc)
        return session_report(s, &err);
    rc = ticket_send_item(s, &it, answer);
    outbox_item_free(&it);
    return rc;
}

static void ticket_path(const char *id, const char *tail, struct buf *out)
{
    buf_init(out);
    buf_puts(out, "/v1/tickets/");
    buf_put_urlencoded(out, id);
    buf_puts(out, tail);
}

/* ID and --message, checked before anything else. */
static int comment_args(const struct parsed *p, char *id, size_t idsz, struct ch_error *err)
{
    const char *message = arg_str(&cmd_ticket_comment, p, "message");
    int rc = ticket_id_arg(p->pos[0], id, idsz, err);
    long chars = message ? utf8_chars(message) : 0;
    if (!rc && (!message || chars == 0))
        rc = err_set(err, CH_USAGE, "message_required", "--message",
                     _("a non-empty --message TEXT is required"));
    else if (!rc && chars < 0)
        rc = err_set(err, CH_USAGE, "invalid_message", "--message",
                     _("the message is not valid UTF-8"));
    else if (!rc && chars > TICKET_MESSAGE_MAX)
        rc = err_set(err, CH_USAGE, "message_too_long", "--message",
                     _("the message has %ld characters; the service takes at most %d"), chars,
                     TICKET_MESSAGE_MAX);
    return rc;
}

static int ticket_comment_validate(const struct parsed *p, struct ch_error *err)
{
    char id[80];
    return comment_args(p, id, sizeof id, err);
}

static int ticket_comment_exec(struct session *s, const struct parsed *p)
{
    const struct command *c = &cmd_ticket_comment;
    const char *message = arg_str(c, p, "message");
    char id[80], summary[160];
    struct ch_error err;
    err_clear(&err);
    int rc = comment_args(p, id, sizeof id, &err);
    if (rc)
        return session_report(s, &err);
    cJSON *body = cJSON_CreateObject(), *answer = NULL;
    cJSON_AddStringToObject(body, "message", message);
    struct buf path;
    ticket_path(id, "/comments", &path);
    snprintf(summary, sizeof summary, "comment on %s", id);
    rc = send_add(s, "ticket comment", summary, path.data, body, NULL, NULL, &answer);
    buf_free(&path);
    cJSON_Delete(body);
    if (rc)
        return rc;
    if (s->json)
        session_print_json(s, answer);
    else
        printf(_("Comment added to %s\n"), id);
    cJSON_Delete(answer);
    return CH_OK;
}

/* ID and how many FILEs (the files themselves are checked when read). */
static int attach_args(const struct parsed *p, char *id, size_t idsz, struct ch_error *err)
{
    int rc = ticket_id_arg(p->pos[0], id, idsz, err);
    int nfiles = p->npos - 1;
    if (!rc && nfiles > ATTACH_MAX_PER_TICKET)
        rc = err_set(err, CH_USAGE, "too_many_attachments", "FILE",
                     _("at most %d attachments per ticket (got %d)"), ATTACH_MAX_PER_TICKET,
                     nfiles);
    return rc;
}

static int ticket_attach_validate(const struct parsed *p, struct ch_error *err)
{
    char id[80];
    return attach_args(p, id, sizeof id, err);
}

static int ticket_attach_exec(struct session *s, const struct parsed *p)
{
    char id[80], summary[160];
    struct ch_error err;
    err_clear(&err);
    int rc = attach_args(p, id, sizeof id, &err);
    int nfiles = p->npos - 1;
    if (rc)
        return session_report(s, &err);
    const char *files[ATTACH_MAX_PER_TICKET + 1] = {0};
    for (int i = 0; i < nfiles; i++)
        files[i] = p->pos[i + 1];
    struct buf path;
    ticket_path(id, "/attachments", &path);
    snprintf(summary, sizeof summary, "%d file%s for %s", nfiles, nfiles == 1 ? "" : "s", id);
    cJSON *answer = NULL;
    rc = send_add(s, "ticket attach", summary, NULL, NULL, files, path.data, &answer);
    buf_free(&path);
    if (rc)
        return rc;
    if (s->json) {
        session_print_json(s, answer);
    } else {
        const cJSON *a;
        cJSON_ArrayForEach(a, json_arr(answer, "attachments")) {
            char name[300], type[128];
            term_safe(json_str(a, "filename", "?"), name, sizeof name);
            printf(_("Attached %s to %s (%s, %lld bytes)\n"), name, id,
                   term_safe(json_str(a, "content_type", "?"), type, sizeof type),
                   json_int(a, "size_bytes", 0));
        }
    }
    cJSON_Delete(answer);
    return CH_OK;
}

/* ID, --score and --comment, checked before anything else. */
static int rate_args(const struct parsed *p, char *id, size_t idsz, long *score,
                     struct ch_error *err)
{
    const struct command *c = &cmd_ticket_rate;
    const char *comment = arg_str(c, p, "comment");
    int rc = ticket_id_arg(p->pos[0], id, idsz, err);
    if (!rc) {
        const char *score_in = arg_str(c, p, "score");
        if (!score_in)
            rc = err_set(err, CH_USAGE, "score_required", "--score",
                         _("--score 1..5 is required"));
        else
            rc = validate_int("--score", score_in, 1, 5, score, err);
    }
    if (!rc && comment && (utf8_chars(comment) < 0 || utf8_chars(comment) > RATING_COMMENT_MAX))
        rc = err_set(err, CH_USAGE, "invalid_comment", "--comment",
                     _("the comment must be valid UTF-8 of at most %d characters"),
                     RATING_COMMENT_MAX);
    return rc;
}

static int ticket_rate_validate(const struct parsed *p, struct ch_error *err)
{
    char id[80];
    long score;
    return rate_args(p, id, sizeof id, &score, err);
}

static int ticket_rate_exec(struct session *s, const struct parsed *p)
{
    const struct command *c = &cmd_ticket_rate;
    const char *comment = arg_str(c, p, "comment");
    char id[80], summary[160];
    long score = 0;
    struct ch_error err;
    err_clear(&err);
    int rc = rate_args(p, id, sizeof id, &score, &err);
    if (rc)
        return session_report(s, &err);
    cJSON *body = cJSON_CreateObject(), *answer = NULL;
    cJSON_AddNumberToObject(body, "score", (double)score);
    if (comment && *comment)
        cJSON_AddStringToObject(body, "comment", comment);
    struct buf path;
    ticket_path(id, "/rating", &path);
    snprintf(summary, sizeof summary, "rating %ld/5 for %s", score, id);
    rc = send_add(s, "ticket rate", summary, path.data, body, NULL, NULL, &answer);
    buf_free(&path);
    cJSON_Delete(body);
    if (rc)
        return rc;
    if (s->json)
        session_print_json(s, answer);
    else
        printf(_("Rated %s: %ld/5. Thank you!\n"), id, score);
    cJSON_Delete(answer);
    return CH_OK;
}

/* ---- the table ----------------------------------------------------------------------------- */

static const struct opt list_opts[] = {
    {"status", 0, OPT_STRING, "S", N_("only tickets in this status"), statuses, 0},
    {"limit", 0, OPT_STRING, "N", N_("at most N tickets (1..100, default 20)"), NULL, 0},
    {"all", 0, OPT_FLAG, NULL, N_("every ticket, following the pages"), NULL, 0},
    OPT_END,
};

static const struct opt comment_opts[] = {
    {"message", 'm', OPT_STRING, "TEXT", N_("the comment (at most 4000 characters)"), NULL, 0},
    OPT_END,
};

static const char *const scores[] = {"1", "2", "3", "4", "5", NULL};

static const struct opt rate_opts[] = {
    {"score", 0, OPT_STRING, "1..5", N_("how satisfied you are, 1 (not at all) to 5 (very)"),
     scores, 0},
    {"comment", 0, OPT_STRING, "TEXT", N_("a word about the service"), NULL, 0},
    OPT_END,
};

static const struct command cmd_ticket_list = {
    .name = "list",
    .synopsis = "[--status S] [--limit N] [--all]",
    .summary = N_("your tickets (staff: all), newest first"),
    .description = N_("Lists tickets with status, priority, category and SLA due time (overdue "
                      "ones marked). Customers see their own tickets, staff all of them."),
    .opts = list_opts, .min_args = 0, .max_args = 0,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK, .exec = ticket_list_exec, .validate = ticket_list_validate,
};

static const struct command cmd_ticket_show = {
    .name = "show",
    .synopsis = "ID",
    .summary = N_("one ticket: status, SLA, attachments, rating and history"),
    .description = NULL,
    .opts = NULL, .min_args = 1, .max_args = 1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK, .exec = ticket_show_exec, .validate = ticket_show_validate,
};

static const struct command cmd_ticket_comment = {
    .name = "comment",
    .synopsis = "ID --message TEXT",
    .summary = N_("add a comment to a ticket"),
    .description = N_("Adds a comment. A customer's comment brings a resolved ticket back to "
                      "open. Saved to the outbox (exit 10) when the service cannot be reached."),
    .opts = comment_opts, .min_args = 1, .max_args = 1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK, .exec = ticket_comment_exec, .validate = ticket_comment_validate,
};

static const struct command cmd_ticket_attach = {
    .name = "attach",
    .synopsis = "ID FILE...",
    .summary = N_("add evidence files to a ticket (JPEG, PNG, HEIC, PDF)"),
    .description = N_("Uploads files to a ticket: JPEG, PNG, HEIC or PDF judged by content, at "
                      "most 10 MiB each and 5 per ticket, checked before anything is sent; "
                      "progress on stderr for large files. Saved to the outbox (exit 10) when the "
                      "service cannot be reached."),
    .opts = NULL, .min_args = 2, .max_args = 1 + ATTACH_MAX_PER_TICKET,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK, .exec = ticket_attach_exec, .validate = ticket_attach_validate,
};

static const struct command cmd_ticket_rate = {
    .name = "rate",
    .synopsis = "ID --score 1..5 [--comment TEXT]",
    .summary = N_("rate how a ticket was handled (once)"),
    .description = N_("The satisfaction survey: a score from 1 to 5 and an optional comment, once "
                      "per ticket, by the customer who filed it. Saved to the outbox (exit 10) "
                      "when the service cannot be reached."),
    .opts = rate_opts, .min_args = 1, .max_args = 1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK, .exec = ticket_rate_exec, .validate = ticket_rate_validate,
};

extern const struct command cmd_ticket_qr, cmd_ticket_verify; /* cmd_pass.c */

static const struct command *const ticket_subs[] = {
    &cmd_ticket_list, &cmd_ticket_show, &cmd_ticket_comment, &cmd_ticket_attach,
    &cmd_ticket_rate, &cmd_ticket_qr, &cmd_ticket_verify, NULL,
};

const struct command cmd_ticket = {
    .name = "ticket",
    .aliases = "tickets",
    .synopsis = "list | show | comment | attach | rate | qr | verify",
    .summary = N_("follow up on tickets: status, history, comments, evidence, rating"),
    .description = NULL,
    .opts = NULL, .min_args = 0, .max_args = 0, .flags = 0, .exec = NULL,
    .subs = ticket_subs,
};
