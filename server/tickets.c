#include "tickets.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "db.h"
#include "http.h"
#include "idempotency.h"
#include "secret.h"
#include "sha256.h"

#define SLA_EMERGENCY_S (30 * 60)
#define SLA_HIGH_S (4 * 3600)
#define SLA_NORMAL_S (24 * 3600)
#define LIST_DEFAULT_LIMIT 20
#define LIST_MAX_LIMIT 100
#define ID_LEN 32

static const char *const categories[] = {"vehicle", "billing", "account", "app", "cleanliness",
                                         "accident", "complaint", "feedback", "other", NULL};
static const char *const priorities[] = {"low", "normal", "high", "emergency", NULL};
static const char *const statuses[] = {"open", "in_progress", "waiting_customer", "resolved",
                                       "closed", NULL};

static bool one_of(const char *value, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(value, *set) == 0)
            return true;
    return false;
}

static bool is_staff(const struct request *req)
{
    return strcmp(req->who.role, "staff") == 0;
}

/* Code points of valid UTF-8 text, or -1 when it is not valid UTF-8. */
static long utf8_length(const char *s)
{
    long n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int extra = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2
                                  : (*p & 0xf8) == 0xf0 ? 3 : -1;
        if (extra < 0 || (extra == 1 && *p < 0xc2))
            return -1;
        p++;
        for (int i = 0; i < extra; i++, p++)
            if ((*p & 0xc0) != 0x80)
                return -1;
        n++;
    }
    return n;
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* Validates a required free-text field; replies 400 and returns NULL when it is bad. */
static const char *text_field(struct request *req, const cJSON *body, const char *name, long max)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    char message[160];
    long len;
    if (!cJSON_IsString(v) || blank(v->valuestring)) {
        snprintf(message, sizeof message, "%s: a non-empty string is required", name);
        reply_error(req, 400, "invalid_request", message);
        return NULL;
    }
    len = utf8_length(v->valuestring);
    if (len < 0) {
        snprintf(message, sizeof message, "%s: not valid UTF-8", name);
        reply_error(req, 400, "invalid_request", message);
        return NULL;
    }
    if (len > max) {
        snprintf(message, sizeof message, "%s: at most %ld characters (got %ld)", name, max, len);
        reply_error(req, 400, "message_too_long", message);
        return NULL;
    }
    return v->valuestring;
}

static void make_id(const char *prefix, char out[ID_LEN])
{
    char hex[25];
    if (random_hex(hex, 12) != 0)
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)clock_now());
    snprintf(out, ID_LEN, "%s%s", prefix, hex);
}

/* ---- reading tickets ---- */

static const char *const ticket_columns =
    "SELECT id, account_id, created_by, created_by_role, category, priority, status, queue,"
    " order_id, vehicle_id, message, lat, lng, short_code, sla_due_at, created_at, updated_at,"
    " evidence, rowid FROM tickets";

static void add_text_or_null(cJSON *obj, const char *name, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        cJSON_AddNullToObject(obj, name);
    else
        cJSON_AddStringToObject(obj, name, (const char *)sqlite3_column_text(st, col));
}

static void add_time(cJSON *obj, const char *name, int64_t t)
{
    char text[RFC3339_LEN];
    clock_format(t, text);
    cJSON_AddStringToObject(obj, name, text);
}

static cJSON *attachment_json(sqlite3_stmt *st)
{
    cJSON *a = cJSON_CreateObject();
    add_text_or_null(a, "id", st, 0);
    add_text_or_null(a, "ticket_id", st, 1);
    add_text_or_null(a, "filename", st, 2);
    add_text_or_null(a, "content_type", st, 3);
    cJSON_AddNumberToObject(a, "size_bytes", (double)sqlite3_column_int64(st, 4));
    add_text_or_null(a, "sha256", st, 5);
    add_time(a, "created_at", sqlite3_column_int64(st, 6));
    return a;
}

static const char *const attachment_columns =
    "SELECT id, ticket_id, filename, content_type, size, sha256, created_at FROM attachments";

static cJSON *attachments_json(const char *ticket_id)
{
    cJSON *list = cJSON_CreateArray();
    char sql[256];
    snprintf(sql, sizeof sql, "%s WHERE ticket_id = ? ORDER BY created_at, rowid",
             attachment_columns);
    sqlite3_stmt *st = db_prepare(sql);
    if (!st)
        return list;
    sqlite3_bind_text(st, 1, ticket_id, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW)
        cJSON_AddItemToArray(list, attachment_json(st));
    db_release(st);
    return list;
}

static cJSON *rating_json(const char *ticket_id)
{
    sqlite3_stmt *st =
        db_prepare("SELECT score, comment, created_at FROM ratings WHERE ticket_id = ?");
    cJSON *r = NULL;
    if (!st)
        return cJSON_CreateNull();
    sqlite3_bind_text(st, 1, ticket_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "ticket_id", ticket_id);
        cJSON_AddNumberToObject(r, "score", sqlite3_column_int(st, 0));
        add_text_or_null(r, "comment", st, 1);
        add_time(r, "created_at", sqlite3_column_int64(st, 2));
    }
    db_release(st);
    return r ? r : cJSON_CreateNull();
}

static cJSON *event_json(sqlite3_stmt *st)
{
    cJSON *e = cJSON_CreateObject();
    char id[32];
    snprintf(id, sizeof id, "evt_%lld", (long long)sqlite3_column_int64(st, 0));
    cJSON_AddStringToObject(e, "id", id);
    add_text_or_null(e, "ticket_id", st, 1);
    add_text_or_null(e, "kind", st, 2);
    add_text_or_null(e, "actor", st, 3);
    add_text_or_null(e, "actor_role", st, 4);
    add_text_or_null(e, "body", st, 5);
    add_time(e, "at", sqlite3_column_int64(st, 6));
    return e;
}

static const char *const event_columns =
    "SELECT id, ticket_id, kind, actor, actor_role, body, at FROM ticket_events";

static cJSON *events_json(const char *ticket_id)
{
    cJSON *list = cJSON_CreateArray();
    char sql[256];
    snprintf(sql, sizeof sql, "%s WHERE ticket_id = ? ORDER BY at, id", event_columns);
    sqlite3_stmt *st = db_prepare(sql);
    if (!st)
        return list;
    sqlite3_bind_text(st, 1, ticket_id, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW)
        cJSON_AddItemToArray(list, event_json(st));
    db_release(st);
    return list;
}

static cJSON *ticket_json(sqlite3_stmt *st, bool with_events)
{
    cJSON *t = cJSON_CreateObject();
    const char *id = (const char *)sqlite3_column_text(st, 0);
    add_text_or_null(t, "id", st, 0);
    add_text_or_null(t, "short_code", st, 13);
    add_text_or_null(t, "category", st, 4);
    add_text_or_null(t, "priority", st, 5);
    add_text_or_null(t, "status", st, 6);
    add_text_or_null(t, "account_id", st, 1);
    add_text_or_null(t, "created_by", st, 2);
    add_text_or_null(t, "created_by_role", st, 3);
    add_text_or_null(t, "queue", st, 7);
    add_text_or_null(t, "order_id", st, 8);
    add_text_or_null(t, "vehicle_id", st, 9);
    add_text_or_null(t, "message", st, 10);
    if (sqlite3_column_type(st, 11) == SQLITE_NULL) {
        cJSON_AddNullToObject(t, "location");
    } else {
        cJSON *loc = cJSON_AddObjectToObject(t, "location");
        cJSON_AddNumberToObject(loc, "lat", sqlite3_column_double(st, 11));
        cJSON_AddNumberToObject(loc, "lng", sqlite3_column_double(st, 12));
    }
    cJSON *evidence = NULL;
    if (sqlite3_column_type(st, 17) != SQLITE_NULL)
        evidence = cJSON_Parse((const char *)sqlite3_column_text(st, 17));
    cJSON_AddItemToObject(t, "evidence", evidence ? evidence : cJSON_CreateNull());
    add_time(t, "sla_due_at", sqlite3_column_int64(st, 14));
    add_time(t, "created_at", sqlite3_column_int64(st, 15));
    add_time(t, "updated_at", sqlite3_column_int64(st, 16));
    cJSON_AddItemToObject(t, "attachments", attachments_json(id));
    cJSON_AddItemToObject(t, "rating", rating_json(id));
    if (with_events)
        cJSON_AddItemToObject(t, "events", events_json(id));
    return t;
}

/* The ticket the caller may see, or NULL after replying 404 (customers get the same 404
 * for other people's tickets: nothing is leaked). */
static cJSON *ticket_visible(struct request *req, const char *id, bool with_events)
{
    char sql[512];
    cJSON *t = NULL;
    snprintf(sql, sizeof sql, "%s WHERE id = ?%s", ticket_columns,
             is_staff(req) ? "" : " AND account_id = ?");
    sqlite3_stmt *st = db_prepare(sql);
    if (!st) {
        reply_error(req, 500, "internal", "could not read the ticket");
        return NULL;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (!is_staff(req))
        sqlite3_bind_text(st, 2, req->who.account_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        t = ticket_json(st, with_events);
    db_release(st);
    if (!t)
        reply_error(req, 404, "not_found", "no such ticket");
    return t;
}

static const char *ticket_status(const cJSON *t)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "status"));
}

/* ---- writing ---- */

static int add_event(const char *ticket_id, const struct request *req, const char *kind,
                     const char *body, int64_t *event_id)
{
    sqlite3_stmt *st = db_prepare("INSERT INTO ticket_events (ticket_id, kind, actor,"
                                  " actor_role, body, at) VALUES (?, ?, ?, ?, ?, ?)");
    int rc;
    if (!st)
        return -1;
    db_bind_texts(st, 5,
                  (const char *const[]){ticket_id, kind, req->who.subject, req->who.role, body});
    sqlite3_bind_int64(st, 6, clock_now());
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    db_release(st);
    if (rc == 0 && event_id)
        *event_id = sqlite3_last_insert_rowid(db_handle());
    return rc;
}

static int set_status(const char *ticket_id, const struct request *req, const char *from,
                      const char *to)
{
    char body[64];
    sqlite3_stmt *st =
        db_prepare("UPDATE tickets SET status = ?, updated_at = ? WHERE id = ?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, clock_now());
    sqlite3_bind_text(st, 3, ticket_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    db_release(st);
    snprintf(body, sizeof body, "%s -> %s", from, to);
    return rc == 0 ? add_event(ticket_id, req, "status_changed", body, NULL) : -1;
}

static int touch(const char *ticket_id)
{
    sqlite3_stmt *st = db_prepare("UPDATE tickets SET updated_at = ? WHERE id = ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, clock_now());
    sqlite3_bind_text(st, 2, ticket_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    db_release(st);
    return rc;
}

/* ---- POST /v1/tickets ---- */

struct new_ticket {
    const char *category, *priority, *message, *order_id, *account_id;
    char vehicle_id[64], order_account[64];
    bool has_location;
    double lat, lng;
    char *evidence; /* JSON text or NULL */
};

static int64_t sla_seconds(const char *priority)
{
    if (strcmp(priority, "emergency") == 0)
        return SLA_EMERGENCY_S;
    if (strcmp(priority, "high") == 0)
        return SLA_HIGH_S;
    return SLA_NORMAL_S;
}

static const char *optional_string(struct request *req, const cJSON *body, const char *name,
                                   bool *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    char message[128];
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > 64) {
        snprintf(message, sizeof message, "%s: a string of 1 to 64 characters is expected",
                 name);
        reply_error(req, 400, "invalid_request", message);
        *bad = true;
        return NULL;
    }
    return v->valuestring;
}

static bool parse_location(struct request *req, const cJSON *body, struct new_ticket *t)
{
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(body, "location");
    if (!loc || cJSON_IsNull(loc))
        return true;
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(loc, "lat");
    const cJSON *lng = cJSON_GetObjectItemCaseSensitive(loc, "lng");
    if (!cJSON_IsObject(loc) || !cJSON_IsNumber(lat) || !cJSON_IsNumber(lng) ||
        !isfinite(lat->valuedouble) || !isfinite(lng->valuedouble) ||
        fabs(lat->valuedouble) > 90 || fabs(lng->valuedouble) > 180) {
        reply_error(req, 400, "invalid_request",
                    "location: {\"lat\": -90..90, \"lng\": -180..180} (WGS-84 degrees) expected");
        return false;
    }
    t->has_location = true;
    t->lat = lat->valuedouble;
    t->lng = lng->valuedouble;
    return true;
}

/* The vehicle's ID from an ID or a plate; "" when unknown. */
static void resolve_vehicle(const char *id_or_plate, char out[64])
{
    sqlite3_stmt *st = db_prepare("SELECT id FROM vehicles WHERE id = ?1 OR plate = ?1");
    out[0] = '\0';
    if (!st)
        return;
    sqlite3_bind_text(st, 1, id_or_plate, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, 64, "%s", (const char *)sqlite3_column_text(st, 0));
    db_release(st);
}

static bool order_account(const char *order_id, char out[64])
{
    sqlite3_stmt *st = db_prepare("SELECT account_id FROM orders WHERE id = ?");
    bool found = false;
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, order_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out, 64, "%s", (const char *)sqlite3_column_text(st, 0));
        found = true;
    }
    db_release(st);
    return found;
}

static bool account_exists(const char *id)
{
    sqlite3_stmt *st = db_prepare("SELECT 1 FROM accounts WHERE id = ?");
    bool found;
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    found = sqlite3_step(st) == SQLITE_ROW;
    db_release(st);
    return found;
}

/* Fills t from the body; replies 400 and returns false on the first bad field. */
static bool parse_new_ticket(struct request *req, const cJSON *body, struct new_ticket *t)
{
    bool bad = false;
    const cJSON *category = cJSON_GetObjectItemCaseSensitive(body, "category");
    const cJSON *priority = cJSON_GetObjectItemCaseSensitive(body, "priority");
    if (!cJSON_IsString(category) || !one_of(category->valuestring, categories)) {
        reply_error(req, 400, "invalid_category",
                    "category: one of vehicle, billing, account, app, cleanliness, accident,"
                    " complaint, feedback, other");
        return false;
    }
    t->category = category->valuestring;
    t->priority = "normal";
    if (priority && !cJSON_IsNull(priority)) {
        if (!cJSON_IsString(priority) || !one_of(priority->valuestring, priorities)) {
            reply_error(req, 400, "invalid_request",
                        "priority: one of low, normal, high, emergency");
            return false;
        }
        t->priority = priority->valuestring;
    }
    if (strcmp(t->category, "accident") == 0)
        t->priority = "emergency";
    if (!(t->message = text_field(req, body, "message", TICKET_MESSAGE_MAX)))
        return false;
    t->order_id = optional_string(req, body, "order_id", &bad);
    const char *vehicle = bad ? NULL : optional_string(req, body, "vehicle_id", &bad);
    t->account_id = bad ? NULL : optional_string(req, body, "account_id", &bad);
    if (bad || !parse_location(req, body, t))
        return false;
    if (vehicle) {
        resolve_vehicle(vehicle, t->vehicle_id);
        if (!t->vehicle_id[0]) {
            reply_error(req, 400, "invalid_request", "vehicle_id: no such vehicle");
            return false;
        }
    }
    if (t->order_id) {
        /* A customer's own orders only; the same answer for others' and unknown ones. */
        if (!order_account(t->order_id, t->order_account) ||
            (!is_staff(req) && strcmp(t->order_account, req->who.account_id) != 0)) {
            reply_error(req, 400, "invalid_request", "order_id: no such order of this account");
            return false;
        }
    }
    if (t->account_id && !is_staff(req) && strcmp(t->account_id, req->who.account_id) != 0) {
        reply_error(req, 403, "forbidden", "a customer files tickets for their own account only");
        return false;
    }
    if (t->account_id && is_staff(req) && !account_exists(t->account_id)) {
        reply_error(req, 400, "invalid_request", "account_id: no such account");
        return false;
    }
    const cJSON *evidence = cJSON_GetObjectItemCaseSensitive(body, "evidence");
    if (evidence && !cJSON_IsNull(evidence)) {
        if (!cJSON_IsObject(evidence)) {
            reply_error(req, 400, "invalid_request", "evidence: a JSON object is expected");
            return false;
        }
        t->evidence = cJSON_PrintUnformatted(evidence);
    }
    return true;
}

static void short_code(char out[9])
{
    static const char alphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"; /* no 0/O, 1/I/L */
    unsigned char bytes[8];
    if (random_bytes(bytes, sizeof bytes) != 0)
        memset(bytes, 0, sizeof bytes);
    for (int i = 0; i < 8; i++)
        out[i] = alphabet[bytes[i] % (sizeof alphabet - 1)];
    out[8] = '\0';
}

static int insert_ticket(struct request *req, const struct new_ticket *t, const char *id)
{
    const char *account = is_staff(req)
                              ? (t->account_id ? t->account_id
                                               : (t->order_id ? t->order_account : NULL))
                              : req->who.account_id;
    /* Emergencies wait for a call back on the phone line; the rest in the app queue. */
    const char *queue = strcmp(t->priority, "emergency") == 0 ? "phone" : "app_chat";
    int64_t now = clock_now();
    for (int attempt = 0; attempt < 5; attempt++) {
        char code[9];
        short_code(code);
        sqlite3_stmt *st = db_prepare(
            "INSERT INTO tickets (id, account_id, created_by, created_by_role, category,"
            " priority, status, queue, order_id, vehicle_id, message, lat, lng, short_code,"
            " sla_due_at, created_at, updated_at, evidence)"
            " VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (!st)
            return -1;
        db_bind_texts(st, 10,
                      (const char *const[]){id, account, req->who.subject, req->who.role,
                                            t->category, t->priority, queue, t->order_id,
                                            t->vehicle_id[0] ? t->vehicle_id : NULL,
                                            t->message});
        if (t->has_location) {
            sqlite3_bind_double(st, 11, t->lat);
            sqlite3_bind_double(st, 12, t->lng);
        }
        sqlite3_bind_text(st, 13, code, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 14, now + sla_seconds(t->priority));
        sqlite3_bind_int64(st, 15, now);
        sqlite3_bind_int64(st, 16, now);
        if (t->evidence)
            sqlite3_bind_text(st, 17, t->evidence, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        db_release(st);
        if (rc == SQLITE_DONE)
            return add_event(id, req, "created", NULL, NULL);
        if (rc != SQLITE_CONSTRAINT)
            return -1;
    }
    return -1;
}

static void create_ticket(struct request *req, void *ctx)
{
    struct new_ticket t = {0};
    cJSON *body = ctx;
    char id[ID_LEN];
    if (!parse_new_ticket(req, body, &t)) {
        free(t.evidence);
        return;
    }
    make_id("tkt_", id);
    if (insert_ticket(req, &t, id) != 0) {
        free(t.evidence);
        reply_error(req, 500, "internal", "could not store the ticket");
        return;
    }
    free(t.evidence);
    cJSON *out = ticket_visible(req, id, true);
    if (out)
        reply_json(req, 201, out);
}

void tickets_create(struct request *req)
{
    cJSON *body = request_json_object(req);
    if (!body)
        return;
    idempotency_run(req, NULL, create_ticket, body);
    cJSON_Delete(body);
}

/* ---- GET /v1/tickets, GET /v1/tickets/{id} ---- */

/* Cursor: "c" + the rowid of the last ticket of the previous page (newest first). */
static bool parse_cursor(const char *cursor, int64_t *rowid)
{
    char *end;
    if (!cursor)
        return true;
    if (cursor[0] != 'c' || !cursor[1])
        return false;
    long long v = strtoll(cursor + 1, &end, 10);
    if (*end || v <= 0)
        return false;
    *rowid = v;
    return true;
}

static bool parse_limit(const char *text, int *limit)
{
    char *end;
    if (!text)
        return true;
    long v = strtol(text, &end, 10);
    if (!*text || *end || v < 1 || v > LIST_MAX_LIMIT)
        return false;
    *limit = (int)v;
    return true;
}

static const char *query_arg(const struct request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

void tickets_list(struct request *req)
{
    const char *status = query_arg(req, "status");
    int64_t after = INT64_MAX;
    int limit = LIST_DEFAULT_LIMIT;
    char sql[768];
    if (status && !one_of(status, statuses)) {
        reply_error(req, 400, "invalid_request",
                    "status: one of open, in_progress, waiting_customer, resolved, closed");
        return;
    }
    if (!parse_limit(query_arg(req, "limit"), &limit)) {
        reply_error(req, 400, "invalid_request", "limit: an integer from 1 to 100");
        return;
    }
    if (!parse_cursor(query_arg(req, "cursor"), &after)) {
        reply_error(req, 400, "invalid_request", "cursor: not a cursor this service gave out");
        return;
    }
    snprintf(sql, sizeof sql, "%s WHERE rowid < ?1 AND (?2 IS NULL OR status = ?2)%s"
             " ORDER BY rowid DESC LIMIT ?4", ticket_columns,
             is_staff(req) ? "" : " AND account_id = ?3");
    sqlite3_stmt *st = db_prepare(sql);
    if (!st) {
        reply_error(req, 500, "internal", "could not list tickets");
        return;
    }
    sqlite3_bind_int64(st, 1, after);
    if (status)
        sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    if (!is_staff(req))
        sqlite3_bind_text(st, 3, req->who.account_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, limit + 1);
    cJSON *out = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(out, "items");
    int n = 0;
    int64_t last = 0;
    bool more = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == limit) {
            more = true;
            break;
        }
        cJSON_AddItemToArray(items, ticket_json(st, false));
        last = sqlite3_column_int64(st, 18);
        n++;
    }
    db_release(st);
    if (more) {
        char cursor[32];
        snprintf(cursor, sizeof cursor, "c%lld", (long long)last);
        cJSON_AddStringToObject(out, "next_cursor", cursor);
    } else {
        cJSON_AddNullToObject(out, "next_cursor");
    }
    reply_json(req, 200, out);
}

void tickets_get(struct request *req)
{
    cJSON *t = ticket_visible(req, req->params[0], true);
    if (t)
        reply_json(req, 200, t);
}

/* ---- PATCH /v1/tickets/{id}: staff move a ticket through its states ---- */

void tickets_update(struct request *req)
{
    if (!is_staff(req)) {
        reply_error(req, 403, "forbidden", "only staff change a ticket's status");
        return;
    }
    cJSON *body = request_json_object(req);
    if (!body)
        return;
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(body, "status");
    cJSON *t = NULL;
    if (!cJSON_IsString(status) || !one_of(status->valuestring, statuses)) {
        reply_error(req, 400, "invalid_request",
                    "status: one of open, in_progress, waiting_customer, resolved, closed");
    } else if ((t = ticket_visible(req, req->params[0], false))) {
        const char *from = ticket_status(t);
        if (strcmp(from, "closed") == 0 && strcmp(status->valuestring, "closed") != 0)
            reply_error(req, 409, "ticket_closed", "a closed ticket cannot be reopened");
        else if (strcmp(from, status->valuestring) != 0 &&
                 set_status(req->params[0], req, from, status->valuestring) != 0)
            reply_error(req, 500, "internal", "could not change the status");
        else
            tickets_get(req);
    }
    cJSON_Delete(t);
    cJSON_Delete(body);
}

/* ---- POST /v1/tickets/{id}/comments ---- */

static cJSON *event_load(int64_t id)
{
    char sql[256];
    cJSON *e = NULL;
    snprintf(sql, sizeof sql, "%s WHERE id = ?", event_columns);
    sqlite3_stmt *st = db_prepare(sql);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        e = event_json(st);
    db_release(st);
    return e;
}

/* The ticket if the caller may add to it: visible and not closed. Replies otherwise. */
static cJSON *ticket_open_for_update(struct request *req, const char *id)
{
    cJSON *t = ticket_visible(req, id, false);
    if (t && strcmp(ticket_status(t), "closed") == 0) {
        reply_error(req, 409, "ticket_closed", "the ticket is closed: file a new report");
        cJSON_Delete(t);
        return NULL;
    }
    return t;
}

static void add_comment(struct request *req, void *ctx)
{
    const cJSON *body = ctx;
    const char *id = req->params[0];
    const char *message = text_field(req, body, "message", TICKET_COMMENT_MAX);
    int64_t event_id = 0;
    if (!message)
        return;
    cJSON *t = ticket_open_for_update(req, id);
    if (!t)
        return;
    const char *status = ticket_status(t);
    int rc = add_event(id, req, "comment", message, &event_id);
    /* The customer answering brings a waiting or resolved ticket back to the staff. */
    if (rc == 0 && !is_staff(req) &&
        (strcmp(status, "resolved") == 0 || strcmp(status, "waiting_customer") == 0))
        rc = set_status(id, req, status, strcmp(status, "resolved") == 0 ? "open" : "in_progress");
    if (rc == 0)
        rc = touch(id);
    cJSON_Delete(t);
    cJSON *e = rc == 0 ? event_load(event_id) : NULL;
    if (e)
        reply_json(req, 201, e);
    else
        reply_error(req, 500, "internal", "could not store the comment");
}

void tickets_comment(struct request *req)
{
    cJSON *body = request_json_object(req);
    if (!body)
        return;
    idempotency_run(req, NULL, add_comment, body);
    cJSON_Delete(body);
}

/* ---- POST /v1/tickets/{id}/rating ---- */

static void add_rating(struct request *req, void *ctx)
{
    const cJSON *body = ctx;
    const char *id = req->params[0];
    const cJSON *score = cJSON_GetObjectItemCaseSensitive(body, "score");
    const cJSON *comment = cJSON_GetObjectItemCaseSensitive(body, "comment");
    char text[64];
    if (!cJSON_IsNumber(score) || score->valuedouble != (double)(int)score->valuedouble ||
        score->valueint < 1 || score->valueint > 5) {
        reply_error(req, 400, "invalid_request", "score: an integer from 1 to 5");
        return;
    }
    if (comment && !cJSON_IsNull(comment) &&
        !text_field(req, body, "comment", RATING_COMMENT_MAX))
        return;
    if (is_staff(req)) {
        reply_error(req, 403, "forbidden", "only the customer who filed the ticket rates it");
        return;
    }
    cJSON *t = ticket_visible(req, id, false);
    if (!t)
        return;
    cJSON *rating = cJSON_GetObjectItemCaseSensitive(t, "rating");
    if (!cJSON_IsNull(rating)) {
        reply_error(req, 409, "already_rated", "this ticket was already rated");
        cJSON_Delete(t);
        return;
    }
    cJSON_Delete(t);
    sqlite3_stmt *st = db_prepare(
        "INSERT INTO ratings (ticket_id, score, comment, created_at) VALUES (?, ?, ?, ?)");
    int rc = -1;
    if (st) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, score->valueint);
        if (cJSON_IsString(comment))
            sqlite3_bind_text(st, 3, comment->valuestring, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, clock_now());
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        db_release(st);
    }
    snprintf(text, sizeof text, "%d/5", score->valueint);
    if (rc == 0)
        rc = add_event(id, req, "rated", text, NULL);
    if (rc == 0)
        rc = touch(id);
    cJSON *r = rc == 0 ? rating_json(id) : NULL;
    if (cJSON_IsObject(r)) {
        reply_json(req, 201, r);
    } else {
        cJSON_Delete(r);
        reply_error(req, 500, "internal", "could not store the rating");
    }
}

void tickets_rate(struct request *req)
{
    cJSON *body = request_json_object(req);
    if (!body)
        return;
    idempotency_run(req, NULL, add_rating, body);
    cJSON_Delete(body);
}

/* ---- POST /v1/tickets/{id}/attachments (multipart/form-data, one part "file") ---- */

struct upload {
    char filename[256];
    unsigned char *data;
    size_t len, cap;
    int files;       /* "file" parts seen */
    bool too_big, no_memory;
    char digest[SHA256_HEX_LEN + 1];
};

/* The type by the file's first bytes, never by its name or the declared type. */
static const char *sniff_type(const unsigned char *d, size_t n)
{
    static const char *const heif_brands[] = {"heic", "heix", "heim", "heis", "hevc",
                                              "hevx", "mif1", "msf1", NULL};
    if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
        return "image/jpeg";
    if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (n >= 5 && memcmp(d, "%PDF-", 5) == 0)
        return "application/pdf";
    if (n >= 12 && memcmp(d + 4, "ftyp", 4) == 0) {
        char brand[5];
        memcpy(brand, d + 8, 4);
        brand[4] = '\0';
        if (one_of(brand, heif_brands))
            return "image/heic";
    }
    return NULL;
}

/* Keeps the last path component, printable and at most 255 bytes. */
static void clean_filename(const char *name, char out[256])
{
    const char *base = strrchr(name, '/');
    size_t n = 0;
    base = base ? base + 1 : name;
    if (strrchr(base, '\\'))
        base = strrchr(base, '\\') + 1;
    for (; *base && n < 255; base++)
        out[n++] = ((unsigned char)*base < 0x20 || *base == 0x7f) ? '_' : *base;
    out[n] = '\0';
    if (n == 0)
        snprintf(out, 256, "attachment");
}

static enum MHD_Result upload_part(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *filename, const char *content_type,
                                   const char *transfer_encoding, const char *data,
                                   uint64_t off, size_t size)
{
    struct upload *u = cls;
    (void)kind, (void)content_type, (void)transfer_encoding;
    if (!key || strcmp(key, "file") != 0)
        return MHD_YES; /* other fields are ignored */
    if (off == 0) {
        if (++u->files > 1)
            return MHD_YES;
        clean_filename(filename ? filename : "", u->filename);
    }
    if (u->files > 1 || u->too_big || u->no_memory)
        return MHD_YES;
    if (u->len + size > ATTACHMENT_MAX_BYTES) {
        u->too_big = true;
        return MHD_YES;
    }
    if (u->len + size > u->cap) {
        size_t cap = u->cap ? u->cap : 64 * 1024;
        while (cap < u->len + size)
            cap *= 2;
        unsigned char *grown = realloc(u->data, cap);
        if (!grown) {
            u->no_memory = true;
            return MHD_YES;
        }
        u->data = grown;
        u->cap = cap;
    }
    memcpy(u->data + u->len, data, size);
    u->len += size;
    return MHD_YES;
}

/* Parses the buffered body; replies and returns false when it is not usable. */
static bool parse_upload(struct request *req, struct upload *u)
{
    const char *type = request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!type || strncasecmp(type, "multipart/form-data", 19) != 0) {
        reply_error(req, 415, "unsupported_media_type",
                    "send the file as multipart/form-data with a part named \"file\"");
        return false;
    }
    struct MHD_PostProcessor *pp = MHD_create_post_processor(req->conn, 64 * 1024, upload_part, u);
    if (!pp) {
        reply_error(req, 400, "invalid_request", "malformed multipart/form-data (boundary?)");
        return false;
    }
    enum MHD_Result ok = MHD_post_process(pp, req->body ? req->body : "", req->body_len);
    if (MHD_destroy_post_processor(pp) != MHD_YES)
        ok = MHD_NO;
    if (u->no_memory) {
        reply_error(req, 500, "internal", "out of memory");
        return false;
    }
    if (ok != MHD_YES || u->files == 0) {
        reply_error(req, 400, "invalid_request",
                    "file: one multipart part named \"file\" with a filename is required");
        return false;
    }
    if (u->files > 1) {
        reply_error(req, 400, "invalid_request", "file: one file per request");
        return false;
    }
    if (u->too_big) {
        reply_error(req, 413, "payload_too_large", "file: at most 10 MiB per attachment");
        return false;
    }
    if (u->len == 0) {
        reply_error(req, 400, "invalid_request", "file: the file is empty");
        return false;
    }
    unsigned char digest[SHA256_LEN];
    sha256(u->data, u->len, digest);
    hex_encode(digest, sizeof digest, u->digest);
    return true;
}

static int attachment_count(const char *ticket_id)
{
    return (int)db_query_int("SELECT count(*) FROM attachments WHERE ticket_id = ?", ticket_id,
                             0);
}

static void add_attachment(struct request *req, void *ctx)
{
    struct upload *u = ctx;
    const char *id = req->params[0];
    const char *type = sniff_type(u->data, u->len);
    char att_id[ID_LEN];
    if (!type) {
        reply_error(req, 415, "unsupported_media_type",
                    "file: only JPEG, PNG, HEIC and PDF files (recognised by their content)");
        return;
    }
    cJSON *t = ticket_open_for_update(req, id);
    if (!t)
        return;
    cJSON_Delete(t);
    if (attachment_count(id) >= ATTACHMENTS_PER_TICKET) {
        reply_error(req, 409, "attachment_limit", "a ticket holds at most 5 attachments");
        return;
    }
    make_id("att_", att_id);
    sqlite3_stmt *st = db_prepare(
        "INSERT INTO attachments (id, ticket_id, filename, content_type, size, sha256, data,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    int rc = -1;
    if (st) {
        db_bind_texts(st, 4, (const char *const[]){att_id, id, u->filename, type});
        sqlite3_bind_int64(st, 5, (sqlite3_int64)u->len);
        sqlite3_bind_text(st, 6, u->digest, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 7, u->data, (int)u->len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, clock_now());
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        db_release(st);
    }
    if (rc == 0)
        rc = add_event(id, req, "attachment", u->filename, NULL);
    if (rc == 0)
        rc = touch(id);
    cJSON *a = NULL;
    char sql[256];
    snprintf(sql, sizeof sql, "%s WHERE id = ?", attachment_columns);
    if (rc == 0 && (st = db_prepare(sql))) {
        sqlite3_bind_text(st, 1, att_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            a = attachment_json(st);
        db_release(st);
    }
    if (a)
        reply_json(req, 201, a);
    else
        reply_error(req, 500, "internal", "could not store the attachment");
}

void tickets_attach(struct request *req)
{
    struct upload u = {0};
    if (parse_upload(req, &u)) {
        /* The multipart boundary changes with every try: the key is bound to the content. */
        char fingerprint[SHA256_HEX_LEN + 300];
        snprintf(fingerprint, sizeof fingerprint, "%s\n%s", u.digest, u.filename);
        idempotency_run(req, fingerprint, add_attachment, &u);
    }
    free(u.data);
}
