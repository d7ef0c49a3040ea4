/* Orders, their fee lines, payments and refunds. The reference service stores what was
 * billed; it does not compute fees (the demo data holds the billing mistakes the client's
 * audit is meant to catch). */
#include "orders.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "clock.h"
#include "db.h"
#include "http.h"

#define CURSOR_MAX 300

static const char *const order_columns =
    "SELECT o.id, o.account_id, o.vehicle_id, v.plate, v.model, o.tariff_id, o.status,"
    " o.started_at, o.ended_at, o.distance_m, o.start_lat, o.start_lng, o.end_lat, o.end_lng,"
    " o.created_at,"
    " (SELECT COALESCE(SUM(f.amount_fen), 0) FROM fee_lines f WHERE f.order_id = o.id)"
    " FROM orders o JOIN vehicles v ON v.id = o.vehicle_id";

enum {
    C_ID, C_ACCOUNT, C_VEHICLE, C_PLATE, C_MODEL, C_TARIFF, C_STATUS, C_STARTED, C_ENDED,
    C_DISTANCE, C_START_LAT, C_START_LNG, C_END_LAT, C_END_LNG, C_CREATED, C_TOTAL
};

static const char *col_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

static void add_time(cJSON *obj, const char *name, sqlite3_stmt *st, int col)
{
    char text[RFC3339_LEN];
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        cJSON_AddNullToObject(obj, name);
        return;
    }
    clock_format(sqlite3_column_int64(st, col), text);
    cJSON_AddStringToObject(obj, name, text);
}

static void add_int_or_null(cJSON *obj, const char *name, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        cJSON_AddNullToObject(obj, name);
    else
        cJSON_AddNumberToObject(obj, name, (double)sqlite3_column_int64(st, col));
}

/* An amount as stored. The service never writes anything but integers; a database edited
 * by hand (tests simulating a broken backend) shows through as it is: a fraction, a string,
 * or no field at all for NULL, so clients can prove they refuse such answers. */
static void add_amount(cJSON *obj, const char *name, sqlite3_stmt *st, int col)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER:
        cJSON_AddNumberToObject(obj, name, (double)sqlite3_column_int64(st, col));
        break;
    case SQLITE_FLOAT:
        cJSON_AddNumberToObject(obj, name, sqlite3_column_double(st, col));
        break;
    case SQLITE_NULL:
        break;
    default:
        cJSON_AddStringToObject(obj, name, col_text(st, col));
        break;
    }
}

static void add_location(cJSON *obj, const char *name, sqlite3_stmt *st, int lat, int lng)
{
    if (sqlite3_column_type(st, lat) == SQLITE_NULL ||
        sqlite3_column_type(st, lng) == SQLITE_NULL) {
        cJSON_AddNullToObject(obj, name);
        return;
    }
    cJSON *loc = cJSON_AddObjectToObject(obj, name);
    cJSON_AddNumberToObject(loc, "lat", sqlite3_column_double(st, lat));
    cJSON_AddNumberToObject(loc, "lng", sqlite3_column_double(st, lng));
}

static bool finished(const char *status)
{
    return strcmp(status, "completed") == 0 || strcmp(status, "cancelled") == 0;
}

static cJSON *order_json(sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject(), *veh;
    const char *status = col_text(st, C_STATUS);
    cJSON_AddStringToObject(o, "id", col_text(st, C_ID));
    cJSON_AddStringToObject(o, "account_id", col_text(st, C_ACCOUNT));
    veh = cJSON_AddObjectToObject(o, "vehicle");
    cJSON_AddStringToObject(veh, "id", col_text(st, C_VEHICLE));
    cJSON_AddStringToObject(veh, "plate", col_text(st, C_PLATE));
    cJSON_AddStringToObject(veh, "model", col_text(st, C_MODEL));
    cJSON_AddStringToObject(o, "tariff_id", col_text(st, C_TARIFF));
    cJSON_AddStringToObject(o, "status", status);
    add_time(o, "started_at", st, C_STARTED);
    add_time(o, "ended_at", st, C_ENDED);
    if (sqlite3_column_type(st, C_ENDED) == SQLITE_NULL)
        cJSON_AddNullToObject(o, "duration_s");
    else
        cJSON_AddNumberToObject(o, "duration_s", (double)(sqlite3_column_int64(st, C_ENDED) -
                                                          sqlite3_column_int64(st, C_STARTED)));
    add_int_or_null(o, "distance_m", st, C_DISTANCE);
    add_location(o, "start_location", st, C_START_LAT, C_START_LNG);
    add_location(o, "end_location", st, C_END_LAT, C_END_LNG);
    if (finished(status))
        cJSON_AddNumberToObject(o, "total_fen", (double)sqlite3_column_int64(st, C_TOTAL));
    else
        cJSON_AddNullToObject(o, "total_fen");
    add_time(o, "created_at", st, C_CREATED);
    return o;
}

/* The order as JSON, or NULL when there is none. */
static cJSON *order_load(const char *id)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "%s WHERE o.id = ?", order_columns);
    sqlite3_stmt *st = db_prepare(sql);
    cJSON *o = NULL;
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        o = order_json(st);
    db_release(st);
    return o;
}

static bool is_staff(const struct request *req)
{
    return strcmp(req->who.role, "staff") == 0;
}

/* Whether the caller may see the account's orders; replies 403 and returns false if not.
 * Customers: their own account only. Staff: after this token verified the account. */
static bool may_see_account(struct request *req, const char *account_id)
{
    if (!is_staff(req)) {
        if (strcmp(account_id, req->who.account_id) == 0)
            return true;
        reply_error(req, 403, "forbidden", "a customer may only see their own orders");
        return false;
    }
    if (accounts_verified_by(req->who.token_hash, account_id))
        return true;
    reply_error(req, 403, "verification_required",
                "verify the customer's identity first (POST /v1/accounts/verify)");
    return false;
}

/* The order's account (owned copy), after the access rules; NULL when a reply was made.
 * A customer gets the same 403 for another customer's order and for an unknown one, so
 * order IDs cannot be probed; staff get 404 for an unknown order. */
static char *order_access(struct request *req, const char *order_id)
{
    sqlite3_stmt *st = db_prepare("SELECT account_id FROM orders WHERE id = ?");
    char *account = NULL;
    if (!st) {
        reply_error(req, 500, "internal", "database error");
        return NULL;
    }
    sqlite3_bind_text(st, 1, order_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        account = strdup(col_text(st, 0));
    db_release(st);
    if (!account) {
        if (is_staff(req))
            reply_error(req, 404, "not_found", "no such order");
        else
            reply_error(req, 403, "forbidden", "a customer may only see their own orders");
        return NULL;
    }
    if (!may_see_account(req, account)) {
        free(account);
        return NULL;
    }
    return account;
}

void orders_get(struct request *req)
{
    char *account = order_access(req, req->params[0]);
    if (!account)
        return;
    free(account);
    cJSON *o = order_load(req->params[0]);
    if (o)
        reply_json(req, 200, o);
    else
        reply_error(req, 500, "internal", "database error");
}

/* ---- the list: keyset pagination over (started_at DESC, id DESC) ---- */

struct list_query {
    long limit;
    const char *status;
    bool has_since, has_cursor;
    int64_t since;
    int64_t cursor_started;
    char cursor_id[128];
};

static const char *query_arg(const struct request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* The cursor is the hex of "<started_at>/<id>" of the last item of the page: opaque to
 * clients, stable across inserts of newer orders. */
static void cursor_encode(int64_t started, const char *id, char *out, size_t outsz)
{
    char plain[160];
    int n = snprintf(plain, sizeof plain, "%lld/%s", (long long)started, id);
    size_t o = 0;
    for (int i = 0; i < n && o + 3 < outsz; i++)
        o += (size_t)snprintf(out + o, outsz - o, "%02x", (unsigned char)plain[i]);
    out[o] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static bool cursor_decode(const char *cursor, struct list_query *q)
{
    char plain[CURSOR_MAX / 2 + 1];
    size_t len = strlen(cursor), n = 0;
    if (len == 0 || len % 2 != 0 || len > CURSOR_MAX)
        return false;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hexval(cursor[i]), lo = hexval(cursor[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        plain[n++] = (char)(hi * 16 + lo);
    }
    plain[n] = '\0';
    char *slash = strchr(plain, '/'), *end;
    if (!slash || slash == plain || !slash[1] || strlen(slash + 1) >= sizeof q->cursor_id)
        return false;
    *slash = '\0';
    long long started = strtoll(plain, &end, 10);
    if (*end != '\0')
        return false;
    q->cursor_started = started;
    snprintf(q->cursor_id, sizeof q->cursor_id, "%s", slash + 1);
    q->has_cursor = true;
    return true;
}

static bool parse_limit(const char *text, long *out)
{
    long v = 0;
    if (!text || !*text || strlen(text) > 4)
        return false;
    for (const char *p = text; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return v >= 1 && v <= ORDERS_LIMIT_MAX;
}

static bool valid_status(const char *s)
{
    static const char *const statuses[] = {"reserved", "active", "completed", "cancelled"};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (strcmp(s, statuses[i]) == 0)
            return true;
    return false;
}

/* Parses the query; replies 400 naming the parameter and returns false when one is bad. */
static bool parse_list_query(struct request *req, struct list_query *q)
{
    const char *limit = query_arg(req, "limit"), *cursor = query_arg(req, "cursor");
    const char *since = query_arg(req, "since");
    memset(q, 0, sizeof *q);
    q->limit = ORDERS_LIMIT_DEFAULT;
    q->status = query_arg(req, "status");
    if (limit && !parse_limit(limit, &q->limit)) {
        reply_error(req, 400, "invalid_request", "limit must be an integer from 1 to 100");
        return false;
    }
    if (q->status && !valid_status(q->status)) {
        reply_error(req, 400, "invalid_request",
                    "status must be one of reserved, active, completed, cancelled");
        return false;
    }
    if (since) {
        /* A '+' left unencoded in a query string arrives as a space. */
        char fixed[RFC3339_LEN];
        snprintf(fixed, sizeof fixed, "%s", since);
        char *sp = strchr(fixed, ' ');
        if (sp)
            *sp = '+';
        if (clock_parse(fixed, &q->since) != 0) {
            reply_error(req, 400, "invalid_request",
                        "since must be an RFC 3339 time, e.g. 2026-11-01T00:00:00+08:00");
            return false;
        }
        q->has_since = true;
    }
    if (cursor && !cursor_decode(cursor, q)) {
        reply_error(req, 400, "invalid_request", "cursor is not one this service gave out");
        return false;
    }
    return true;
}

static sqlite3_stmt *list_statement(const char *account_id, const struct list_query *q)
{
    char sql[2048];
    int n = snprintf(sql, sizeof sql, "%s WHERE o.account_id = ?1", order_columns);
    if (q->status)
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND o.status = ?2");
    if (q->has_since)
        n += snprintf(sql + n, sizeof sql - (size_t)n, " AND o.started_at >= ?3");
    if (q->has_cursor)
        n += snprintf(sql + n, sizeof sql - (size_t)n,
                      " AND (o.started_at < ?4 OR (o.started_at = ?4 AND o.id < ?5))");
    snprintf(sql + n, sizeof sql - (size_t)n,
             " ORDER BY o.started_at DESC, o.id DESC LIMIT ?6");
    sqlite3_stmt *st = db_prepare(sql);
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, account_id, -1, SQLITE_TRANSIENT);
    if (q->status)
        sqlite3_bind_text(st, 2, q->status, -1, SQLITE_TRANSIENT);
    if (q->has_since)
        sqlite3_bind_int64(st, 3, q->since);
    if (q->has_cursor) {
        sqlite3_bind_int64(st, 4, q->cursor_started);
        sqlite3_bind_text(st, 5, q->cursor_id, -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_int64(st, 6, q->limit + 1); /* one more tells whether a next page exists */
    return st;
}

static bool account_exists(const char *id)
{
    return db_query_int("SELECT COUNT(*) FROM accounts WHERE id = ?", id, 0) > 0;
}

void orders_list(struct request *req)
{
    const char *account_id = req->params[0];
    struct list_query q;
    if (!is_staff(req) && strcmp(account_id, req->who.account_id) != 0) {
        reply_error(req, 403, "forbidden", "a customer may only see their own orders");
        return;
    }
    if (is_staff(req) && !account_exists(account_id)) {
        reply_error(req, 404, "not_found", "no such account");
        return;
    }
    if (!may_see_account(req, account_id) || !parse_list_query(req, &q))
        return;
    sqlite3_stmt *st = list_statement(account_id, &q);
    if (!st) {
        reply_error(req, 500, "internal", "database error");
        return;
    }
    cJSON *doc = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(doc, "items");
    char cursor[CURSOR_MAX + 1] = "", last_id[128] = "";
    int64_t last_started = 0;
    long n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == q.limit) {
            /* There is a next page: it starts after the last item returned. */
            cursor_encode(last_started, last_id, cursor, sizeof cursor);
            break;
        }
        cJSON_AddItemToArray(items, order_json(st));
        last_started = sqlite3_column_int64(st, C_STARTED);
        snprintf(last_id, sizeof last_id, "%s", col_text(st, C_ID));
        n++;
    }
    db_release(st);
    if (cursor[0])
        cJSON_AddStringToObject(doc, "next_cursor", cursor);
    else
        cJSON_AddNullToObject(doc, "next_cursor");
    reply_json(req, 200, doc);
}

/* ---- fees ---- */

static cJSON *fee_lines_json(const char *order_id)
{
    cJSON *lines = cJSON_CreateArray();
    sqlite3_stmt *st = db_prepare(
        "SELECT id, kind, description, quantity, unit, unit_price_fen, amount_fen, charged_at"
        " FROM fee_lines WHERE order_id = ? ORDER BY charged_at, id");
    if (!st)
        return lines;
    sqlite3_bind_text(st, 1, order_id, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "id", col_text(st, 0));
        cJSON_AddStringToObject(l, "kind", col_text(st, 1));
        cJSON_AddStringToObject(l, "description", col_text(st, 2));
        cJSON_AddNumberToObject(l, "quantity", sqlite3_column_double(st, 3));
        cJSON_AddStringToObject(l, "unit", col_text(st, 4));
        add_amount(l, "unit_price_fen", st, 5);
        add_amount(l, "amount_fen", st, 6);
        add_time(l, "charged_at", st, 7);
        cJSON_AddItemToArray(lines, l);
    }
    db_release(st);
    return lines;
}

/* Payments or refunds (refunds carry their reason); *sum gets the total. */
static cJSON *money_json(const char *order_id, bool refunds, int64_t *sum)
{
    cJSON *arr = cJSON_CreateArray();
    sqlite3_stmt *st = db_prepare(
        refunds ? "SELECT id, amount_fen, at, method, reason FROM refunds WHERE order_id = ?"
                  " ORDER BY at, id"
                : "SELECT id, amount_fen, at, method, NULL FROM payments WHERE order_id = ?"
                  " ORDER BY at, id");
    *sum = 0;
    if (!st)
        return arr;
    sqlite3_bind_text(st, 1, order_id, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "id", col_text(st, 0));
        add_amount(m, "amount_fen", st, 1);
        add_time(m, "at", st, 2);
        cJSON_AddStringToObject(m, "method", col_text(st, 3));
        if (refunds) {
            if (sqlite3_column_type(st, 4) == SQLITE_NULL)
                cJSON_AddNullToObject(m, "reason");
            else
                cJSON_AddStringToObject(m, "reason", col_text(st, 4));
        }
        *sum += sqlite3_column_int64(st, 1);
        cJSON_AddItemToArray(arr, m);
    }
    db_release(st);
    return arr;
}

void orders_fees(struct request *req)
{
    const char *order_id = req->params[0];
    char *account = order_access(req, order_id);
    if (!account)
        return;
    free(account);
    sqlite3_stmt *st = db_prepare(
        "SELECT o.tariff_id, t.currency FROM orders o JOIN tariffs t ON t.id = o.tariff_id"
        " WHERE o.id = ?");
    if (!st || (sqlite3_bind_text(st, 1, order_id, -1, SQLITE_STATIC),
                sqlite3_step(st) != SQLITE_ROW)) {
        db_release(st);
        reply_error(req, 500, "internal", "database error");
        return;
    }
    cJSON *doc = cJSON_CreateObject(), *lines;
    int64_t paid, refunded, total = 0;
    cJSON_AddStringToObject(doc, "order_id", order_id);
    cJSON_AddStringToObject(doc, "tariff_id", col_text(st, 0));
    cJSON_AddStringToObject(doc, "currency", col_text(st, 1));
    db_release(st);
    lines = fee_lines_json(order_id);
    total = db_query_int("SELECT COALESCE(SUM(amount_fen), 0) FROM fee_lines WHERE order_id = ?",
                         order_id, 0);
    cJSON_AddItemToObject(doc, "lines", lines);
    cJSON_AddItemToObject(doc, "payments", money_json(order_id, false, &paid));
    cJSON_AddItemToObject(doc, "refunds", money_json(order_id, true, &refunded));
    cJSON_AddNumberToObject(doc, "total_fen", (double)total);
    cJSON_AddNumberToObject(doc, "paid_fen", (double)paid);
    cJSON_AddNumberToObject(doc, "refunded_fen", (double)refunded);
    reply_json(req, 200, doc);
}
