/* order list | show | fees | audit | dispute: what was billed, recomputed independently
 * from the tariff (core/audit.c), and a billing ticket carrying the findings as evidence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "command.h"
#include "session.h"
#include "batch_run.h"
#include "core/batch.h"
#include "i18n.h"
#include "core/idcache.h"
#include "core/api.h"
#include "core/identity.h"
#include "core/audit.h"
#include "core/json.h"
#include "core/orders.h"
#include "core/support.h"
#include "core/validate.h"

extern const struct command cmd_order;
static const struct command cmd_order_list, cmd_order_show, cmd_order_fees, cmd_order_audit,
    cmd_order_dispute;

#define ID_MAX 72            /* validate_object_id's 64 + room */
#define REASON_MAX 1000      /* characters of --reason */
#define TEXT_COLS 78         /* human text wraps here (80-column terminals) */
#define DESC_COLS 26         /* widest fee description in the table */

/* ---- helpers ----------------------------------------------------------------------------- */

/* The safe form of a service string, cut to `cols` display columns with "…" when cut. */
static void clip(const char *in, int cols, char *out, size_t outsz)
{
    term_safe_cols(in, cols, out, outsz);
}

static const char *str_of(const cJSON *o, const char *key)
{
    return json_str(o, key, "");
}

static void local_time_of(const char *rfc3339, char *out, size_t outsz)
{
    time_t t = parse_rfc3339(rfc3339 ? rfc3339 : "");
    if (t == (time_t)-1)
        term_safe(rfc3339 && *rfc3339 ? rfc3339 : "-", out, outsz);
    else
        format_local_time(t, out, outsz);
}

static void format_duration(long long s, char *out, size_t outsz)
{
    long long min = (s + 59) / 60;
    if (s < 0)
        snprintf(out, outsz, "-");
    else if (min < 60)
        snprintf(out, outsz, _("%lld min"), min);
    else if (min < 24 * 60)
        snprintf(out, outsz, _("%lld h %02lld min"), min / 60, min % 60);
    else
        snprintf(out, outsz, _("%lld d %lld h"), min / 1440, (min % 1440) / 60);
}

static void format_km(long long m, char *out, size_t outsz)
{
    long long tenths = (m + 50) / 100;
    snprintf(out, outsz, "%lld.%lld km", tenths / 10, tenths % 10);
}

static void fen_of(const cJSON *o, const char *key, char *out, size_t outsz)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsNumber(v))
        format_fen((long long)v->valuedouble, out, outsz);
    else
        snprintf(out, outsz, "-");
}

/* Prints text wrapped at TEXT_COLS: the first line indented by `indent` spaces, the others
 * by `hang`. */
static void print_wrapped(FILE *f, int indent, int hang, const char *text)
{
    char word[512];
    int col = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (!n)
            break;
        snprintf(word, sizeof word, "%.*s", (int)(n < sizeof word ? n : sizeof word - 1), p);
        p += n;
        int w = display_width(word);
        if (col > 0 && col + 1 + w > TEXT_COLS) {
            fputc('\n', f);
            col = 0;
        }
        if (col == 0) {
            fprintf(f, "%*s", indent, "");
            col = indent;
            indent = hang;
        } else {
            fputc(' ', f);
            col++;
        }
        fputs(word, f);
        col += w;
    }
    if (col)
        fputc('\n', f);
}

/* Label/value lines, labels padded to the widest (display width: translations may be CJK). */
static void print_fields(const char *const *labels, const char *const *values, int n)
{
    int w = 0;
    for (int i = 0; i < n; i++)
        if (values[i] && display_width(labels[i]) > w)
            w = display_width(labels[i]);
    for (int i = 0; i < n; i++) {
        if (!values[i])
            continue;
        char safe[512];
        fputs("  ", stdout);
        print_padded(stdout, labels[i], w + 2);
        printf("%s\n", term_safe(values[i], safe, sizeof safe));
    }
}

static int validate_order_id(const char *in, char *out, size_t outsz, struct ch_error *err)
{
    return validate_object_id("ORDER", in, out, outsz, err);
}

/* Hints for the refusals an order lookup can meet. */
static void order_hint(struct ch_error *err)
{
    if (strcmp(err->code, "verification_required") == 0)
        err_hint(err, _("verify the customer first: carhelp account verify --phone P "
                        "--id-last4 NNNN"));
    else if (strcmp(err->code, "forbidden") == 0)
        err_hint(err, _("a customer can see only their own orders: `carhelp order list` "
                        "lists them"));
    else if (err->exit_code == CH_NOT_FOUND && strcmp(err->code, "not_found") == 0)
        err_hint(err, _("check the order ID: `carhelp order list` lists the orders"));
    else if (err->exit_code == CH_AUTH && !err->hint[0])
        err_hint(err, _("run `carhelp login`"));
}

static int report(struct session *s, struct ch_error *err)
{
    order_hint(err);
    return session_report(s, err);
}

/* The caller's own account: the credentials file knows it for customers; otherwise whoami.
 * Staff have none: a usage error naming `what_to_give`. */
static int own_account(struct session *s, struct http_client *http, const char *what_to_give,
                       char *id, size_t idsz, struct ch_error *err)
{
    const char *role = s->cred.role, *subject = s->cred.subject;
    if (role && strcmp(role, "customer") == 0 && subject &&
        validate_object_id("account", subject, id, idsz, err) == 0)
        return 0;
    err_clear(err);
    if (!(role && strcmp(role, "staff") == 0)) {
        struct identity who;
        int rc = api_whoami(http, _("find your account"), &who, NULL, err);
        if (rc)
            return rc;
        if (who.role == IDENTITY_CUSTOMER) {
            snprintf(id, idsz, "%s", who.account_id);
            return 0;
        }
    }
    err_clear(err);
    return err_set(err, CH_USAGE, "usage", what_to_give,
                   _("staff have no account of their own: give %s"), what_to_give);
}

/* ---- order list -------------------------------------------------------------------------- */

static const char *const status_choices[] = { "reserved", "active", "completed", "cancelled",
                                              NULL };

static void print_order_table(struct session *s, const cJSON *items)
{
    const char *headers[] = { _("ORDER"), _("STARTED"), _("VEHICLE"), _("STATUS"), _("TIME"),
                              _("TOTAL") };
    struct table *t = table_new(6, headers);
    const cJSON *o;
    cJSON_ArrayForEach(o, items) {
        char id[ID_MAX], started[64], plate[48], status[24], dur[32], total[32];
        const cJSON *dur_j = cJSON_GetObjectItemCaseSensitive(o, "duration_s");
        clip(str_of(o, "id"), 24, id, sizeof id);
        idcache_add("order", str_of(o, "id"));
        local_time_of(str_of(o, "started_at"), started, sizeof started);
        clip(str_of(json_obj(o, "vehicle"), "plate"), 10, plate, sizeof plate);
        clip(str_of(o, "status"), 10, status, sizeof status);
        if (cJSON_IsNumber(dur_j))
            format_duration((long long)dur_j->valuedouble, dur, sizeof dur);
        else
            snprintf(dur, sizeof dur, "-");
        fen_of(o, "total_fen", total, sizeof total);
        const char *row[] = { id, started, plate, status, dur, total };
        table_add_row(t, row);
    }
    table_print(t, stdout, s->color_out);
    table_free(t);
}

/* --account, --since and --limit, checked before anything else. */
static int list_args(const struct parsed *p, char *account, size_t accountsz, time_t *since,
                     long *limit, struct ch_error *err)
{
    const char *account_in = arg_str(&cmd_order_list, p, "account");
    const char *since_in = arg_str(&cmd_order_list, p, "since");
    const char *limit_in = arg_str(&cmd_order_list, p, "limit");
    if ((account_in && validate_object_id("--account", account_in, account, accountsz, err)) ||
        (since_in && validate_since("--since", since_in, ch_now(), since, err)) ||
        (limit_in && validate_int("--limit", limit_in, 1, 100, limit, err)))
        return CH_USAGE;
    return 0;
}

static int list_validate(const struct parsed *p, struct ch_error *err)
{
    char account[ID_MAX];
    time_t since;
    long limit;
    return list_args(p, account, sizeof account, &since, &limit, err);
}

static int list_exec(struct session *s, const struct parsed *p)
{
    struct ch_error err;
    err_clear(&err);
    const char *account_in = arg_str(&cmd_order_list, p, "account");
    const char *since_in = arg_str(&cmd_order_list, p, "since");
    const char *limit_in = arg_str(&cmd_order_list, p, "limit");
    bool all = arg_flag(&cmd_order_list, p, "all");
    char account[ID_MAX];
    long limit = 0;
    struct order_query q = { .account_id = account, .status = arg_str(&cmd_order_list, p, "status"),
                             .since = (time_t)-1 };
    (void)since_in;
    (void)limit_in;
    if (list_args(p, account, sizeof account, &q.since, &limit, &err))
        return session_report(s, &err);
    q.limit = (int)limit;
    if (!account_in && s->cred.role && strcmp(s->cred.role, "staff") == 0) {
        err_set(&err, CH_USAGE, "usage", "--account", _("staff have no orders of their own: give --account A"));
        return session_report(s, &err);
    }
    struct http_client *http;
    cJSON *doc = NULL;
    if (session_http(s, &http, &err) ||
        (!account_in && own_account(s, http, "--account", account, sizeof account, &err)))
        return report(s, &err);
    int rc = all ? orders_list_all(http, &q, &doc, &err)
                 : orders_list_page(http, &q, NULL, &doc, &err);
    if (rc)
        return report(s, &err);
    const cJSON *items = json_arr(doc, "items");
    if (s->json) {
        session_print_json(s, doc);
    } else if (cJSON_GetArraySize(items) == 0) {
        printf("%s\n", _("No orders."));
    } else {
        print_order_table(s, items);
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "next_cursor")))
            msg_info(s, _("more orders: add --all to see every page"));
    }
    cJSON_Delete(doc);
    return CH_OK;
}

/* ---- order show -------------------------------------------------------------------------- */

static void location_of(const cJSON *o, const char *key, char *out, size_t outsz)
{
    const cJSON *loc = json_obj(o, key);
    const cJSON *lat = loc ? cJSON_GetObjectItemCaseSensitive(loc, "lat") : NULL;
    const cJSON *lng = loc ? cJSON_GetObjectItemCaseSensitive(loc, "lng") : NULL;
    if (cJSON_IsNumber(lat) && cJSON_IsNumber(lng))
        snprintf(out, outsz, "%.4f, %.4f", lat->valuedouble, lng->valuedouble);
    else
        snprintf(out, outsz, "-");
    const char *address = json_str(loc, "address", NULL);
    if (address && *address && strlen(out) + 4 < outsz) {
        char a[160];
        term_safe(address, a, sizeof a);
        size_t n = strlen(out);
        snprintf(out + n, outsz - n, " (%s)", a);
    }
}

static void print_order(struct session *s, const cJSON *o)
{
    char id[ID_MAX], status[32], vehicle[256], plate[48], model[96], vid[ID_MAX];
    char started[64], ended[64], dur[32], dist[32], from[256], to[256], tariff[ID_MAX], total[32];
    const cJSON *veh = json_obj(o, "vehicle");
    const cJSON *dur_j = cJSON_GetObjectItemCaseSensitive(o, "duration_s");
    const cJSON *dist_j = cJSON_GetObjectItemCaseSensitive(o, "distance_m");
    term_safe(str_of(o, "id"), id, sizeof id);
    idcache_add("order", id);
    term_safe(str_of(o, "status"), status, sizeof status);
    term_safe(str_of(veh, "plate"), plate, sizeof plate);
    term_safe(str_of(veh, "model"), model, sizeof model);
    term_safe(str_of(veh, "id"), vid, sizeof vid);
    if (*model)
        snprintf(vehicle, sizeof vehicle, "%s (%s, %s)", plate, model, vid);
    else
        snprintf(vehicle, sizeof vehicle, "%s (%s)", plate, vid);
    local_time_of(str_of(o, "started_at"), started, sizeof started);
    local_time_of(str_of(o, "ended_at"), ended, sizeof ended);
    if (cJSON_IsNumber(dur_j))
        format_duration((long long)dur_j->valuedouble, dur, sizeof dur);
    else
        snprintf(dur, sizeof dur, "%s", _("still running"));
    if (cJSON_IsNumber(dist_j))
        format_km((long long)dist_j->valuedouble, dist, sizeof dist);
    else
        snprintf(dist, sizeof dist, "-");
    location_of(o, "start_location", from, sizeof from);
    location_of(o, "end_location", to, sizeof to);
    term_safe(str_of(o, "tariff_id"), tariff, sizeof tariff);
    fen_of(o, "total_fen", total, sizeof total);
    bool done = strcmp(status, "completed") == 0;
    printf("%s%s%s  %s%s%s\n", c_bold(s->color_out), id, c_reset(s->color_out),
           done ? "" : c_yellow(s->color_out), status, done ? "" : c_reset(s->color_out));
    const char *labels[] = { _("vehicle"), _("started"), _("ended"), _("duration"),
                             _("distance"), _("from"), _("to"), _("tariff"), _("total") };
    const char *values[] = { vehicle, started, ended, dur, dist, from, to, tariff, total };
    print_fields(labels, values, 9);
}

/* ORDER: show and fees. */
static int order_arg_validate(const struct parsed *p, struct ch_error *err)
{
    char id[ID_MAX];
    return validate_order_id(p->pos[0], id, sizeof id, err);
}

static int show_exec(struct session *s, const struct parsed *p)
{
    struct ch_error err;
    err_clear(&err);
    char id[ID_MAX];
    struct http_client *http;
    cJSON *o = NULL;
    if (validate_order_id(p->pos[0], id, sizeof id, &err))
        return session_report(s, &err);
    if (session_http(s, &http, &err) || order_get(http, id, &o, &err))
        return report(s, &err);
    if (s->json)
        session_print_json(s, o);
    else
        print_order(s, o);
    cJSON_Delete(o);
    return CH_OK;
}

/* ---- order fees -------------------------------------------------------------------------- */

static void print_money_list(const char *title, const cJSON *arr)
{
    const cJSON *m;
    printf("%s\n", title);
    if (cJSON_GetArraySize(arr) == 0) {
        printf("  %s\n", _("none"));
        return;
    }
    cJSON_ArrayForEach(m, arr) {
        char id[ID_MAX], at[64], method[40], amount[32], reason[200];
        clip(str_of(m, "id"), 20, id, sizeof id);
        local_time_of(str_of(m, "at"), at, sizeof at);
        clip(str_of(m, "method"), 14, method, sizeof method);
        fen_of(m, "amount_fen", amount, sizeof amount);
        clip(json_str(m, "reason", ""), 60, reason, sizeof reason);
        printf("  %s  %s  %s  %s%s%s\n", id, at, method, amount, *reason ? "  " : "", reason);
    }
}

static void print_fees(struct session *s, const cJSON *fees)
{
    char order[ID_MAX], tariff[ID_MAX], total[32], paid[32], refunded[32];
    term_safe(str_of(fees, "order_id"), order, sizeof order);
    term_safe(str_of(fees, "tariff_id"), tariff, sizeof tariff);
    printf(_("Fees of %s (tariff %s)\n"), order, tariff);
    const char *headers[] = { _("KIND"), _("DESCRIPTION"), _("QTY"), _("PRICE"), _("AMOUNT") };
    struct table *t = table_new(5, headers);
    const cJSON *l;
    cJSON_ArrayForEach(l, json_arr(fees, "lines")) {
        char kind[24], desc[160], qty[32], unit[24], price[64], amount[32], each[32];
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(l, "quantity");
        clip(str_of(l, "kind"), 10, kind, sizeof kind);
        clip(str_of(l, "description"), DESC_COLS, desc, sizeof desc);
        if (cJSON_IsNumber(q))
            snprintf(qty, sizeof qty, "%g", q->valuedouble);
        else
            snprintf(qty, sizeof qty, "-");
        clip(str_of(l, "unit"), 8, unit, sizeof unit);
        fen_of(l, "unit_price_fen", each, sizeof each);
        snprintf(price, sizeof price, "%s/%s", each, unit);
        fen_of(l, "amount_fen", amount, sizeof amount);
        const char *row[] = { kind, desc, qty, price, amount };
        table_add_row(t, row);
    }
    table_print(t, stdout, s->color_out);
    table_free(t);
    fen_of(fees, "total_fen", total, sizeof total);
    printf("%s%s %s%s\n\n", c_bold(s->color_out), _("Total"), total, c_reset(s->color_out));
    print_money_list(_("Payments"), json_arr(fees, "payments"));
    print_money_list(_("Refunds"), json_arr(fees, "refunds"));
    fen_of(fees, "paid_fen", paid, sizeof paid);
    fen_of(fees, "refunded_fen", refunded, sizeof refunded);
    printf("\n");
    printf(_("Paid %s, refunded %s\n"), paid, refunded);
}

static int fees_exec(struct session *s, const struct parsed *p)
{
    struct ch_error err;
    err_clear(&err);
    char id[ID_MAX];
    struct http_client *http;
    cJSON *fees = NULL;
    if (validate_order_id(p->pos[0], id, sizeof id, &err))
        return session_report(s, &err);
    if (session_http(s, &http, &err) || order_get_fees(http, id, &fees, &err))
        return report(s, &err);
    /* Amounts that are missing or not integers: refused, never shown as a guess. */
    if (audit_check_fees(fees, &err)) {
        cJSON_Delete(fees);
        snprintf(err.what, sizeof err.what, "%s", _("show fees"));
        return session_report(s, &err);
    }
    if (s->json)
        session_print_json(s, fees);
    else
        print_fees(s, fees);
    cJSON_Delete(fees);
    return CH_OK;
}

/* ---- order audit ------------------------------------------------------------------------- */

static long long over_tariff(const struct audit_report *r)
{
    return (r->paid_fen - r->refunded_fen) - r->expected_total_fen;
}

static void print_report(struct session *s, const struct audit_report *r)
{
    char billed[32], expected[32], paid[32], refunded[32], owed[32];
    format_fen(r->billed_total_fen, billed, sizeof billed);
    format_fen(r->expected_total_fen, expected, sizeof expected);
    format_fen(r->paid_fen, paid, sizeof paid);
    format_fen(r->refunded_fen, refunded, sizeof refunded);
    if (r->nfindings == 0) {
        printf(_("%s%s%s: %sOK%s, billed %s as the tariff says\n"), c_bold(s->color_out),
               r->order_id, c_reset(s->color_out), c_green(s->color_out), c_reset(s->color_out),
               billed);
        return;
    }
    printf(_("%s%s%s: %s%d finding(s)%s\n"), c_bold(s->color_out), r->order_id,
           c_reset(s->color_out), c_red(s->color_out), r->nfindings, c_reset(s->color_out));
    for (int i = 0; i < r->nfindings; i++) {
        const struct audit_finding *f = &r->findings[i];
        char e[32], b[32], d[32], line[640];
        format_fen(f->expected_fen, e, sizeof e);
        format_fen(f->billed_fen, b, sizeof b);
        format_fen(f->difference_fen, d, sizeof d);
        snprintf(line, sizeof line, "- %s: %s", f->code, f->message);
        print_wrapped(stdout, 2, 4, line);
        snprintf(line, sizeof line, _("expected %s, billed %s, difference %s"), e, b, d);
        print_wrapped(stdout, 4, 4, line);
    }
    long long over = over_tariff(r);
    char line[320];
    snprintf(line, sizeof line, _("Bill %s, tariff %s; paid %s, refunded %s."), billed, expected,
             paid, refunded);
    print_wrapped(stdout, 2, 2, line);
    if (over > 0) {
        format_fen(over, owed, sizeof owed);
        snprintf(line, sizeof line,
                 _("%s paid above the tariff: `carhelp order dispute %s --reason TEXT` opens a "
                   "billing ticket with this evidence."), owed, r->order_id);
        print_wrapped(stdout, 2, 2, line);
    }
}

/* The JSON item of an order that could not be audited. */
static cJSON *error_item(const char *order_id, const struct ch_error *err)
{
    cJSON *item = cJSON_CreateObject(), *e;
    cJSON_AddStringToObject(item, "order_id", order_id);
    e = cJSON_AddObjectToObject(item, "error");
    cJSON_AddStringToObject(e, "code", err->code);
    cJSON_AddStringToObject(e, "message", err->message);
    cJSON_AddNumberToObject(e, "exit", err->exit_code);
    if (err->http_status)
        cJSON_AddNumberToObject(e, "http_status", (double)err->http_status);
    if (err->request_id[0])
        cJSON_AddStringToObject(e, "request_id", err->request_id);
    return item;
}

/* A failure of the whole run (not of one order): no point going on to the next. */
static bool fatal(int rc)
{
    return rc == CH_AUTH || rc == CH_NETWORK || rc == CH_RATE || rc == CH_INTERRUPTED ||
           rc == CH_USAGE;
}

/* The IDs to audit: the ORDER arguments (validated), or every completed order of the
 * caller's account since --since. */
static int audit_targets(struct session *s, struct http_client **http, const struct parsed *p,
                         cJSON **ids, struct ch_error *err)
{
    const char *since_in = arg_str(&cmd_order_audit, p, "since");
    *ids = cJSON_CreateArray();
    for (int i = 0; i < p->npos; i++) {
        char id[ID_MAX];
        if (validate_order_id(p->pos[i], id, sizeof id, err))
            return CH_USAGE;
        cJSON_AddItemToArray(*ids, cJSON_CreateString(id));
    }
    if (!since_in)
        return session_http(s, http, err);
    char account[ID_MAX];
    struct order_query q = { .account_id = account, .status = "completed", .since = (time_t)-1,
                             .limit = 100 };
    if (validate_since("--since", since_in, ch_now(), &q.since, err))
        return CH_USAGE;
    if (s->cred.role && strcmp(s->cred.role, "staff") == 0)
        return err_set(err, CH_USAGE, "usage", "--since",
                       _("--since audits your own account's orders; staff name the ORDERs"));
    cJSON *all = NULL, *o;
    int rc = session_http(s, http, err);
    if (!rc)
        rc = own_account(s, *http, "ORDER...", account, sizeof account, err);
    if (!rc)
        rc = orders_list_all(*http, &q, &all, err);
    if (rc)
        return rc;
    cJSON_ArrayForEach(o, json_arr(all, "items")) {
        char id[ID_MAX];
        struct ch_error scratch;
        if (validate_order_id(str_of(o, "id"), id, sizeof id, &scratch) == 0)
            cJSON_AddItemToArray(*ids, cJSON_CreateString(id));
    }
    cJSON_Delete(all);
    return 0;
}

/* --batch FILE: one order per line. Each line is GET order -> GET fees -> (GET tariff, once
 * per tariff for the whole batch) -> audit, as order_auditor_run does for one. */
enum audit_step { AUDIT_ORDER, AUDIT_FEES, AUDIT_TARIFF };

struct audit_line {
    char id[ID_MAX];
    char tariff[65];
    enum audit_step step;
    cJSON *order, *fees;
    struct buf path;
};

static void audit_line_get(struct batch_job *job, const char *prefix, const char *id,
                           const char *suffix, const char *what)
{
    struct audit_line *l = job->state;
    buf_reset(&l->path);
    buf_puts(&l->path, prefix);
    buf_put_urlencoded(&l->path, id);
    if (suffix)
        buf_puts(&l->path, suffix);
    job->req = (struct http_request){ .method = "GET", .path = l->path.data };
    job->what = what;
}

static int audit_line_start(void *ctx, struct batch_job *job, struct ch_error *err)
{
    static const char *const keys[] = { BATCH_ARG_KEY, "order", NULL };
    struct audit_line *l = job->state;
    (void)ctx;
    const char *in = batch_value(job->input, keys);
    if (!in)
        return err_set(err, CH_USAGE, "invalid_input", "--batch",
                       _("the line names no order (an order ID or an \"order\" field)"));
    if (validate_order_id(in, l->id, sizeof l->id, err))
        return CH_USAGE;
    buf_init(&l->path);
    l->step = AUDIT_ORDER;
    audit_line_get(job, "/v1/orders/", l->id, NULL, "show order");
    return 0;
}

/* All three documents known: the audit itself. */
static int audit_line_finish(struct audit_line *l, const cJSON *tariff, struct ch_error *err,
                             cJSON **result)
{
    struct audit_report *r = xcalloc(1, sizeof *r);
    int rc = audit_order(l->order, l->fees, tariff, r, err);
    if (!rc) {
        *result = audit_report_json(r);
        rc = r->nfindings ? CH_NO : CH_OK;
    }
    free(r);
    return rc;
}

static int audit_line_answer(void *ctx, struct batch_job *job, int rc, cJSON *doc,
                             struct ch_error *err, cJSON **result)
{
    cJSON *tariffs = ctx;
    struct audit_line *l = job->state;
    if (!rc && !cJSON_IsObject(doc))
        rc = err_set(err, CH_SERVICE, "malformed_response", job->what,
                     "malformed response: expected a JSON object");
    if (rc) {
        cJSON_Delete(doc);
        order_hint(err);
        return rc;
    }
    const cJSON *tariff;
    switch (l->step) {
    case AUDIT_ORDER: {
        l->order = doc;
        const char *tid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "tariff_id"));
        if (!tid || !*tid || strlen(tid) > 64)
            return err_set(err, CH_SERVICE, "malformed_response", "audit", "%s",
                           "the order has no tariff_id");
        snprintf(l->tariff, sizeof l->tariff, "%s", tid);
        if ((rc = audit_check_order(l->order, err)))
            return rc;
        l->step = AUDIT_FEES;
        audit_line_get(job, "/v1/orders/", l->id, "/fees", "show fees");
        return BATCH_MORE;
    }
    case AUDIT_FEES:
        l->fees = doc;
        if ((tariff = cJSON_GetObjectItemCaseSensitive(tariffs, l->tariff)))
            return audit_line_finish(l, tariff, err, result);
        l->step = AUDIT_TARIFF;
        audit_line_get(job, "/v1/tariffs/", l->tariff, NULL, "get tariff");
        return BATCH_MORE;
    case AUDIT_TARIFF:
    default:
        /* Two lines may have fetched the same tariff at once: keep the first. */
        if (!cJSON_GetObjectItemCaseSensitive(tariffs, l->tariff))
            cJSON_AddItemToObject(tariffs, l->tariff, doc);
        else
            cJSON_Delete(doc);
        return audit_line_finish(l, cJSON_GetObjectItemCaseSensitive(tariffs, l->tariff), err,
                                 result);
    }
}

static void audit_line_cleanup(void *ctx, struct batch_job *job)
{
    struct audit_line *l = job->state;
    (void)ctx;
    cJSON_Delete(l->order);
    cJSON_Delete(l->fees);
    buf_free(&l->path);
}

static int audit_batch(struct session *s, const struct parsed *p, const char *file)
{
    static const char *const fields[] = { "order", NULL };
    static const struct batch_ops ops = {
        .fields = fields, .bare_ok = true, .state_size = sizeof(struct audit_line),
        .start = audit_line_start, .answer = audit_line_answer, .cleanup = audit_line_cleanup,
    };
    struct ch_error err;
    err_clear(&err);
    int parallel;
    if (batch_parallel_arg(arg_str(&cmd_order_audit, p, "parallel"), &parallel, &err))
        return report(s, &err);
    cJSON *tariffs = cJSON_CreateObject();
    int rc = batch_run(s, file, parallel, &ops, tariffs);
    cJSON_Delete(tariffs);
    return rc;
}

/* Which of ORDER..., --since and --batch, and their values, checked before anything else. */
static int audit_validate(const struct parsed *p, struct ch_error *err)
{
    const char *since_in = arg_str(&cmd_order_audit, p, "since");
    const char *parallel_in = arg_str(&cmd_order_audit, p, "parallel");
    int parallel;
    time_t since;
    if (arg_str(&cmd_order_audit, p, "batch")) {
        if (p->npos > 0 || since_in)
            return err_set(err, CH_USAGE, "usage", "order audit",
                           _("give ORDERs, --since DATE or --batch FILE, only one of them"));
        return batch_parallel_arg(parallel_in, &parallel, err);
    }
    if (parallel_in)
        return err_set(err, CH_USAGE, "usage", "--parallel", _("--parallel goes with --batch FILE"));
    if ((p->npos > 0) == (since_in != NULL))
        return err_set(err, CH_USAGE, "usage", "order audit",
                       _("give the ORDERs to audit, or --since DATE for every order since then "
                         "(not both)"));
    for (int i = 0; i < p->npos; i++) {
        char id[ID_MAX];
        if (validate_order_id(p->pos[i], id, sizeof id, err))
            return CH_USAGE;
    }
    return since_in ? validate_since("--since", since_in, ch_now(), &since, err) : 0;
}

static int audit_exec(struct session *s, const struct parsed *p)
{
    struct ch_error err;
    err_clear(&err);
    if (audit_validate(p, &err))
        return report(s, &err);
    const char *batch = arg_str(&cmd_order_audit, p, "batch");
    if (batch)
        return audit_batch(s, p, batch);
    struct http_client *http = NULL;
    cJSON *ids = NULL, *id_j;
    int rc = audit_targets(s, &http, p, &ids, &err);
    if (rc) {
        cJSON_Delete(ids);
        return report(s, &err);
    }
    bool many = arg_str(&cmd_order_audit, p, "since") || cJSON_GetArraySize(ids) > 1;
    struct order_auditor aud;
    struct audit_report *r = xcalloc(1, sizeof *r);
    cJSON *doc = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(doc, "items");
    int found = 0, clean_n = 0, failed = 0, first_failure = 0, n = 0;
    long long over = 0;
    order_auditor_init(&aud, http);
    cJSON_ArrayForEach(id_j, ids) {
        const char *id = id_j->valuestring;
        err_clear(&err);
        rc = order_auditor_run(&aud, id, r, NULL, &err);
        n++;
        if (rc) {
            if (fatal(rc) || !many)
                break;
            order_hint(&err);
            cJSON_AddItemToArray(items, error_item(id, &err));
            if (!s->json)
                msg_warn(s, _("%s not audited: %s"), id, err.message);
            failed++;
            if (!first_failure)
                first_failure = rc;
            rc = 0;
            continue;
        }
        cJSON_AddItemToArray(items, audit_report_json(r));
        if (r->nfindings) {
            found++;
            if (over_tariff(r) > 0)
                over += over_tariff(r);
        } else {
            clean_n++;
        }
        if (!s->json)
            print_report(s, r);
    }
    order_auditor_free(&aud);
    if (rc) {
        free(r);
        cJSON_Delete(doc);
        cJSON_Delete(ids);
        return report(s, &err);
    }
    if (s->json) {
        if (many)
            session_print_json(s, doc);
        else
            session_print_json(s, cJSON_GetArrayItem(items, 0));
    } else if (many) {
        char sum[32];
        format_fen(over, sum, sizeof sum);
        char line[320];
        if (n == 0)
            snprintf(line, sizeof line, "%s", _("No completed orders in that range."));
        else
            snprintf(line, sizeof line, _("%d order(s) audited: %d with findings (%s paid above "
                                          "the tariff), %d OK, %d not audited."),
                     n, found, sum, clean_n, failed);
        print_wrapped(stdout, 0, 0, line);
    }
    free(r);
    cJSON_Delete(doc);
    cJSON_Delete(ids);
    return found ? CH_NO : first_failure ? first_failure : CH_OK;
}

/* ---- order dispute ----------------------------------------------------------------------- */

static size_t utf8_chars(const char *t)
{
    size_t n = 0;
    for (; *t; t++)
        n += ((unsigned char)*t & 0xC0) != 0x80;
    return n;
}

static int check_reason(const char *reason, struct ch_error *err)
{
    if (!reason || !reason[strspn(reason, " \t\r\n")])
        return err_set(err, CH_USAGE, "invalid_reason", "--reason",
                       _("expected a text saying what is wrong with the bill"));
    if (utf8_chars(reason) > REASON_MAX)
        return err_set(err, CH_USAGE, "invalid_reason", "--reason",
                       _("expected at most %d characters"), REASON_MAX);
    for (const unsigned char *c = (const unsigned char *)reason; *c; c++)
        if (*c < 0x20 && *c != '\t' && *c != '\n')
            return err_set(err, CH_USAGE, "invalid_reason", "--reason",
                           _("expected text without control characters"));
    return 0;
}

/* {"type":"fee_audit","order_id","tariff_id","audit":{...},"billed_total_fen",...} or,
 * when the audit could not decide, {"type":"fee_audit","order_id","undecided":"..."}. */
static cJSON *dispute_evidence(const char *order_id, const char *tariff_id, int audit_rc,
                               const struct audit_report *r, const struct ch_error *aerr)
{
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "type", "fee_audit");
    cJSON_AddStringToObject(ev, "order_id", order_id);
    if (*tariff_id)
        cJSON_AddStringToObject(ev, "tariff_id", tariff_id);
    if (audit_rc) {
        cJSON_AddStringToObject(ev, "undecided", aerr->message);
        return ev;
    }
    cJSON_AddItemToObject(ev, "audit", audit_report_json(r));
    cJSON_AddNumberToObject(ev, "billed_total_fen", (double)r->billed_total_fen);
    cJSON_AddNumberToObject(ev, "expected_total_fen", (double)r->expected_total_fen);
    cJSON_AddNumberToObject(ev, "paid_fen", (double)r->paid_fen);
    cJSON_AddNumberToObject(ev, "refunded_fen", (double)r->refunded_fen);
    long long over = over_tariff(r);
    cJSON_AddNumberToObject(ev, "claimed_refund_fen", (double)(over > 0 ? over : 0));
    return ev;
}

/* The ticket's message: the customer's words, then the audit in one paragraph. */
static char *dispute_message(const char *reason, int audit_rc, const struct audit_report *r,
                             const struct ch_error *aerr)
{
    struct buf b = BUF_INIT;
    buf_init(&b);
    buf_puts(&b, reason);
    buf_puts(&b, "\n\n");
    if (audit_rc) {
        buf_printf(&b, "carhelp fee audit: %s", aerr->message);
    } else if (r->nfindings == 0) {
        buf_puts(&b, "carhelp fee audit: no discrepancy found against the tariff.");
    } else {
        char over[32];
        format_fen(over_tariff(r) > 0 ? over_tariff(r) : 0, over, sizeof over);
        buf_printf(&b, "carhelp fee audit: %d finding(s), %s paid above the tariff.",
                   r->nfindings, over);
        for (int i = 0; i < r->nfindings; i++)
            buf_printf(&b, "\n- %s: %s (difference %lld fen)", r->findings[i].code,
                       r->findings[i].message, r->findings[i].difference_fen);
    }
    char *text = buf_detach(&b);
    buf_free(&b);  /* buf_detach leaves b re-initialised */
    return text;
}

static void print_ticket(struct session *s, const cJSON *t, const char *order_id, int audit_rc,
                         const struct audit_report *r)
{
    char id[ID_MAX], status[32], due[64], code[32], line[400];
    term_safe(str_of(t, "id"), id, sizeof id);
    term_safe(str_of(t, "status"), status, sizeof status);
    local_time_of(str_of(t, "sla_due_at"), due, sizeof due);
    (void)s;
    snprintf(line, sizeof line, _("Opened billing ticket %s about %s (%s); first response due "
                                  "by %s."), id, order_id, status, due);
    print_wrapped(stdout, 0, 2, line);
    term_safe(json_str(t, "short_code", ""), code, sizeof code);
    if (*code)
        printf(_("Short code for the phone: %s\n"), code);
    if (audit_rc) {
        snprintf(line, sizeof line, "%s", _("The audit could not decide; the ticket says why."));
    } else if (r->nfindings) {
        char over[32];
        format_fen(over_tariff(r) > 0 ? over_tariff(r) : 0, over, sizeof over);
        snprintf(line, sizeof line, _("Evidence attached: %d finding(s), %s paid above the "
                                      "tariff."), r->nfindings, over);
    } else {
        snprintf(line, sizeof line, "%s",
                 _("The audit found no discrepancy; the ticket carries your reason."));
    }
    print_wrapped(stdout, 0, 2, line);
}

static int dispute_validate(const struct parsed *p, struct ch_error *err)
{
    char id[ID_MAX];
    if (validate_order_id(p->pos[0], id, sizeof id, err))
        return CH_USAGE;
    return check_reason(arg_str(&cmd_order_dispute, p, "reason"), err);
}

static int dispute_exec(struct session *s, const struct parsed *p)
{
    struct ch_error err, aerr;
    err_clear(&err);
    err_clear(&aerr);
    const char *reason = arg_str(&cmd_order_dispute, p, "reason");
    char id[ID_MAX], tariff_id[65] = "", key[37];
    if (validate_order_id(p->pos[0], id, sizeof id, &err) || check_reason(reason, &err))
        return session_report(s, &err);
    struct http_client *http;
    if (session_http(s, &http, &err))
        return report(s, &err);
    struct order_auditor aud;
    struct audit_report *r = xcalloc(1, sizeof *r);
    order_auditor_init(&aud, http);
    int arc = order_auditor_run(&aud, id, r, tariff_id, &aerr);
    order_auditor_free(&aud);
    /* Undecided is still worth a ticket (a person can check); anything else is not. */
    if (arc && arc != CH_UNDECIDED) {
        free(r);
        return report(s, &aerr);
    }
    char *message = dispute_message(reason, arc, r, &aerr);
    cJSON *body = cJSON_CreateObject(), *ticket = NULL;
    cJSON_AddStringToObject(body, "category", "billing");
    cJSON_AddStringToObject(body, "priority", "normal");
    cJSON_AddStringToObject(body, "order_id", id);
    cJSON_AddStringToObject(body, "message", message);
    cJSON_AddItemToObject(body, "evidence", dispute_evidence(id, tariff_id, arc, r, &aerr));
    free(message);
    http_new_idempotency_key(key);
    int rc = api_post(http, "/v1/tickets", body, key, _("open billing ticket"), &ticket, &err);
    cJSON_Delete(body);
    if (rc) {
        free(r);
        if (rc == CH_NETWORK || rc == CH_SERVICE)
            err_hint(&err, _("no ticket was confirmed; try again, or call customer service on %s"),
                     support_service_number());
        return report(s, &err);
    }
    if (s->json)
        session_print_json(s, ticket);
    else
        print_ticket(s, ticket, id, arc, r);
    cJSON_Delete(ticket);
    free(r);
    return CH_OK;
}

/* ---- the table --------------------------------------------------------------------------- */

static const struct opt list_opts[] = {
    { "account", 0, OPT_STRING, "A", N_("the account (default: your own; staff must give it)"),
      NULL, 0 },
    { "status", 0, OPT_STRING, "S", N_("only orders in this state"), status_choices, 0 },
    { "since", 0, OPT_STRING, "DATE",
      N_("only orders started since DATE (2026-11-01, 7d, 24h)"), NULL, 0 },
    { "limit", 0, OPT_STRING, "N", N_("orders per page, 1 to 100 (default: the service's, 20)"),
      NULL, 0 },
    { "all", 0, OPT_FLAG, NULL, N_("follow the cursors and list every page"), NULL, 0 },
    OPT_END,
};

static const struct command cmd_order_list = {
    .name = "list",
    .synopsis = "[--account A] [--status S] [--since DATE] [--limit N] [--all]",
    .summary = N_("orders, newest first, paginated by cursor"),
    .description = N_("Lists an account's orders, newest first: ID, start time, vehicle plate, "
                      "status, duration and total. One page by default (--limit N orders, 1 to "
                      "100); --all follows the service's cursors to the last page. With --json: "
                      "{\"items\":[...],\"next_cursor\":...} as the service sent it (after --all, "
                      "every item and a null next_cursor). Customers see their own account; "
                      "staff give --account and must have verified the account first "
                      "(carhelp account verify)."),
    .opts = list_opts,
    .min_args = 0,
    .max_args = 0,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK,
    .exec = list_exec, .validate = list_validate,
};

static const struct command cmd_order_show = {
    .name = "show",
    .synopsis = "ORDER",
    .summary = N_("one order: vehicle, plate, times, places, distance, status"),
    .description = N_("Shows one order: vehicle and plate, start and end times (local time), "
                      "duration, distance, start and end places, tariff, status and total. "
                      "--json prints the service's order object."),
    .opts = NULL,
    .min_args = 1,
    .max_args = 1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK,
    .exec = show_exec, .validate = order_arg_validate,
};

static const struct command cmd_order_fees = {
    .name = "fees",
    .synopsis = "ORDER",
    .summary = N_("itemised fee lines, payments, refunds, total"),
    .description = N_("Shows what an order was billed: each fee line (kind, description, "
                      "quantity, unit price, amount), the total, the payments and the refunds, "
                      "in yuan (¥12.40). --json prints the service's fees object, amounts in "
                      "integer fen. A fees answer with a missing or non-integer amount is refused "
                      "(exit 7) rather than shown."),
    .opts = NULL,
    .min_args = 1,
    .max_args = 1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK,
    .exec = fees_exec, .validate = order_arg_validate,
};

static const struct opt audit_opts[] = {
    { "since", 0, OPT_STRING, "DATE",
      N_("audit every completed order of your account started since DATE (2026-11-01, 30d)"),
      NULL, 0 },
    { "batch", 0, OPT_STRING, "FILE",
      N_("one order per line ('-': stdin): an order ID, JSON or CSV; NDJSON out"), NULL, 0 },
    { "parallel", 0, OPT_STRING, "N",
      N_("with --batch: requests in flight at once, 1-64 (default 8)"), NULL, 0 },
    OPT_END,
};

static const struct command cmd_order_audit = {
    .name = "audit",
    .synopsis = "ORDER... | --since DATE | --batch FILE [--parallel N]",
    .summary = N_("recompute every fee from the tariff and flag discrepancies"),
    .description = N_("Recomputes each order's fees from the tariff it was billed under, in "
                      "integer fen, independently of the service's billing: time is started "
                      "minutes x rate, capped per started 24 h; distance is metres x rate / 1000 "
                      "rounded half up; the service fee is per order. It flags time or distance "
                      "billed beyond the trip, a service fee above the tariff, duplicate lines, "
                      "charges dated after the order ended, lines that do not add up to the total "
                      "and refunds missing for credited amounts, each with the expected, billed "
                      "and difference amounts. --json prints {\"order_id\",\"ok\",\"findings\":"
                      "[{\"code\",\"message\",\"expected_fen\",\"billed_fen\",\"difference_fen\"}]} "
                      "for one ORDER, and {\"items\":[...]} for several or --since (an order that "
                      "could not be audited is {\"order_id\",\"error\":{...}}). Exit 1 when "
                      "anything is found; 11 when it cannot decide (a tariff rule it does not "
                      "know, an order not yet completed); 7 for a fees answer with missing or "
                      "non-integer amounts. --batch FILE audits one order per line and prints "
                      "one NDJSON line each, in input order."),
    .opts = audit_opts,
    .min_args = 0,
    .max_args = -1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK,
    .exec = audit_exec, .validate = audit_validate,
};

static const struct opt dispute_opts[] = {
    { "reason", 0, OPT_STRING, "TEXT", N_("what is wrong with the bill, in your words"), NULL, 0 },
    OPT_END,
};

static const struct command cmd_order_dispute = {
    .name = "dispute",
    .synopsis = "ORDER --reason TEXT",
    .summary = N_("open a billing ticket carrying the audit's findings as evidence"),
    .description = N_("Audits the order, then opens a billing ticket about it (POST /v1/tickets, "
                      "with an Idempotency-Key so a retry never opens two) whose message is your "
                      "reason plus the audit's summary, and whose evidence is the audit itself "
                      "(findings with expected, billed and difference in fen). A ticket is opened "
                      "also when the audit finds nothing or cannot decide: a person will look. "
                      "Prints the ticket ID and when the first response is due; --json prints "
                      "the ticket."),
    .opts = dispute_opts,
    .min_args = 1,
    .max_args = 1,
    .flags = CMD_NEEDS_AUTH | CMD_NEEDS_NETWORK,
    .exec = dispute_exec, .validate = dispute_validate,
};

static const struct command *const order_subs[] = {
    &cmd_order_list, &cmd_order_show, &cmd_order_fees, &cmd_order_audit, &cmd_order_dispute,
    NULL,
};

const struct command cmd_order = {
    .name = "order",
    .aliases = "orders",
    .synopsis = "list|show|fees|audit|dispute",
    .summary = N_("orders and fees: history, itemised fees, an independent fee audit, disputes"),
    .description = NULL,
    .opts = NULL,
    .min_args = 0,
    .max_args = 0,
    .flags = 0,
    .exec = NULL,
    .subs = order_subs,
};
