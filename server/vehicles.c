#include "vehicles.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "db.h"
#include "http.h"
#include "idempotency.h"
#include "secret.h"

#define VEHICLE_KEY_MAX 64
#define REASON_MAX 500
#define ORDER_ID_MAX 64

struct vehicle {
    char id[VEHICLE_KEY_MAX + 1];
    char plate[VEHICLE_KEY_MAX + 1];
    bool online;
};

struct active_order {
    char id[ORDER_ID_MAX + 1];
    char account_id[64];
    int64_t started_at;
    bool found;
};

/* ---- small helpers ---------------------------------------------------------------------- */

static void copy_text(char *dst, size_t size, const unsigned char *src)
{
    snprintf(dst, size, "%s", src ? (const char *)src : "");
}

static bool is_staff(const struct request *req)
{
    return strcmp(req->who.role, "staff") == 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The path segment as the caller meant it: percent-escapes decoded (a plate arrives as
 * %E4%BA%AC... from clients that encode it), ASCII letters of a plate upper-cased by the
 * caller of this. false when it does not fit or an escape is broken. */
static bool decode_segment(const char *in, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = in; *p; p++) {
        char c = *p;
        if (c == '%') {
            int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);
            if (hi < 0 || lo < 0)
                return false;
            c = (char)(hi * 16 + lo);
            p += 2;
        }
        if (c == '\0' || o + 1 >= size)
            return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return o > 0;
}

/* Looks a vehicle up by ID or plate (plates compare with ASCII letters upper-cased). */
static bool vehicle_find(const char *segment, struct vehicle *v)
{
    char key[VEHICLE_KEY_MAX * 3 + 1], plate[sizeof key];
    if (!decode_segment(segment, key, sizeof key))
        return false;
    for (size_t i = 0; i <= strlen(key); i++)
        plate[i] = (char)toupper((unsigned char)key[i]);
    sqlite3_stmt *st = db_prepare("SELECT id, plate, online FROM vehicles WHERE id = ? OR plate = ?");
    bool found = false;
    if (!st)
        return false;
    db_bind_texts(st, 2, (const char *const[]){key, plate});
    if (sqlite3_step(st) == SQLITE_ROW) {
        copy_text(v->id, sizeof v->id, sqlite3_column_text(st, 0));
        copy_text(v->plate, sizeof v->plate, sqlite3_column_text(st, 1));
        v->online = sqlite3_column_int(st, 2) != 0;
        found = true;
    }
    db_release(st);
    return found;
}

static void active_order_of(const char *vehicle_id, struct active_order *o)
{
    memset(o, 0, sizeof *o);
    sqlite3_stmt *st = db_prepare("SELECT id, account_id, started_at FROM orders"
                                  " WHERE vehicle_id = ? AND status = 'active'"
                                  " ORDER BY started_at DESC LIMIT 1");
    if (!st)
        return;
    sqlite3_bind_text(st, 1, vehicle_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        copy_text(o->id, sizeof o->id, sqlite3_column_text(st, 0));
        copy_text(o->account_id, sizeof o->account_id, sqlite3_column_text(st, 1));
        o->started_at = sqlite3_column_int64(st, 2);
        o->found = true;
    }
    db_release(st);
}

/* A customer may see and command the vehicle of their own active order only. */
static bool customer_rents(const struct request *req, const struct active_order *o)
{
    return o->found && strcmp(o->account_id, req->who.account_id) == 0;
}

/* ---- the simulated vehicle ---------------------------------------------------------------- */

struct plan {
    char id[64];
    char type[16];
    char status[16];
    char requested_by[64];
    char role[16];
    char reason[REASON_MAX + 1];
    char order_id[ORDER_ID_MAX + 1];
    char answer[16];
    char answer_code[64];
    int64_t created_ms, sent_ms, answer_ms; /* -1: never */
};

struct state {
    const char *status;
    const char *failure_code; /* NULL: none */
    int64_t at_ms;
};

/* Where the plan stands at now_ms. A vehicle that has not answered by created + TTL has
 * expired, whatever it might say later. */
static struct state state_at(const struct plan *p, int64_t now_ms)
{
    int64_t expires = p->created_ms + VEHICLE_COMMAND_TTL_MS;
    bool answers = p->answer_ms >= 0 && p->answer_ms < expires;
    if (answers && now_ms >= p->answer_ms)
        return (struct state){p->answer, p->answer_code[0] ? p->answer_code : NULL, p->answer_ms};
    if (!answers && now_ms >= expires)
        return (struct state){"expired", "timeout", expires};
    if (p->sent_ms >= 0 && now_ms >= p->sent_ms)
        return (struct state){"sent", NULL, p->sent_ms};
    return (struct state){"queued", NULL, p->created_ms};
}

static bool status_final(const char *status)
{
    return strcmp(status, "succeeded") == 0 || strcmp(status, "failed") == 0 ||
           strcmp(status, "expired") == 0;
}

static int64_t column_or(sqlite3_stmt *st, int col, int64_t fallback)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? fallback : sqlite3_column_int64(st, col);
}

static void audit(const char *actor, const char *role, const char *action, const char *vehicle_id,
                  const char *reason, const char *request_id, cJSON *details, int64_t at)
{
    audit_write(&(struct audit_entry){actor, role, action, "vehicle", vehicle_id, reason,
                                      request_id, at},
                details);
}

/* What a command does to its vehicle once the vehicle confirms it. */
static void apply_effect(const char *vehicle_id, const char *type, int64_t at)
{
    const char *sql = strcmp(type, "unlock") == 0
                          ? "UPDATE vehicles SET locked = 0, last_seen_at = ?1 WHERE id = ?2"
                      : strcmp(type, "lock") == 0
                          ? "UPDATE vehicles SET locked = 1, last_seen_at = ?1 WHERE id = ?2"
                          : "UPDATE vehicles SET last_seen_at = ?1 WHERE id = ?2";
    sqlite3_stmt *st = db_prepare(sql);
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_text(st, 2, vehicle_id, -1, SQLITE_STATIC);
    sqlite3_step(st);
    db_release(st);
}

static void settle_one(const char *vehicle_id, const struct plan *p, int64_t now_ms)
{
    struct state s = state_at(p, now_ms);
    if (strcmp(s.status, p->status) == 0)
        return;
    sqlite3_stmt *st = db_prepare("UPDATE vehicle_commands SET status = ?, failure_code = ?,"
                                  " updated_at = ? WHERE id = ?");
    if (!st)
        return;
    db_bind_texts(st, 4, (const char *const[]){s.status, s.failure_code, NULL, p->id});
    sqlite3_bind_int64(st, 3, s.at_ms / 1000);
    sqlite3_step(st);
    db_release(st);
    if (!status_final(s.status))
        return;
    if (strcmp(s.status, "succeeded") == 0)
        apply_effect(vehicle_id, p->type, s.at_ms / 1000);
    if (strcmp(p->role, "staff") == 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "command_id", p->id);
        cJSON_AddStringToObject(d, "type", p->type);
        cJSON_AddStringToObject(d, "result", s.status);
        if (s.failure_code)
            cJSON_AddStringToObject(d, "failure_code", s.failure_code);
        else
            cJSON_AddNullToObject(d, "failure_code");
        audit(p->requested_by, p->role, "vehicle_command.result", vehicle_id, p->reason, NULL, d,
              s.at_ms / 1000);
    }
}

/* Brings every open command of the vehicle up to the service clock, oldest first, so their
 * effects on the vehicle apply in order. */
static void settle_vehicle(const char *vehicle_id)
{
    sqlite3_stmt *st = db_prepare(
        "SELECT id, type, status, requested_by, requested_by_role, reason, order_id, answer,"
        " answer_code, created_ms, sent_ms, answer_ms FROM vehicle_commands"
        " WHERE vehicle_id = ? AND status IN ('queued', 'sent') ORDER BY created_ms, rowid");
    struct plan *plans = NULL;
    size_t n = 0, cap = 0;
    if (!st)
        return;
    sqlite3_bind_text(st, 1, vehicle_id, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct plan *grown = realloc(plans, ncap * sizeof *plans);
            if (!grown)
                break;
            plans = grown;
            cap = ncap;
        }
        struct plan *p = &plans[n++];
        memset(p, 0, sizeof *p);
        copy_text(p->id, sizeof p->id, sqlite3_column_text(st, 0));
        copy_text(p->type, sizeof p->type, sqlite3_column_text(st, 1));
        copy_text(p->status, sizeof p->status, sqlite3_column_text(st, 2));
        copy_text(p->requested_by, sizeof p->requested_by, sqlite3_column_text(st, 3));
        copy_text(p->role, sizeof p->role, sqlite3_column_text(st, 4));
        copy_text(p->reason, sizeof p->reason, sqlite3_column_text(st, 5));
        copy_text(p->order_id, sizeof p->order_id, sqlite3_column_text(st, 6));
        copy_text(p->answer, sizeof p->answer, sqlite3_column_text(st, 7));
        copy_text(p->answer_code, sizeof p->answer_code, sqlite3_column_text(st, 8));
        p->created_ms = column_or(st, 9, 0);
        p->sent_ms = column_or(st, 10, -1);
        p->answer_ms = column_or(st, 11, -1);
        if (!p->answer[0])
            p->answer_ms = -1;
    }
    db_release(st);
    int64_t now_ms = clock_now_ms();
    for (size_t i = 0; i < n; i++)
        settle_one(vehicle_id, &plans[i], now_ms);
    free(plans);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static void add_time(cJSON *obj, const char *name, int64_t t)
{
    char text[RFC3339_LEN];
    clock_format(t, text);
    cJSON_AddStringToObject(obj, name, text);
}

static void add_text_or_null(cJSON *obj, const char *name, const unsigned char *v)
{
    if (v)
        cJSON_AddStringToObject(obj, name, (const char *)v);
    else
        cJSON_AddNullToObject(obj, name);
}

#define COMMAND_COLUMNS                                                                         \
    "c.id, c.vehicle_id, v.plate, c.type, c.status, c.failure_code, c.order_id, c.created_at,"  \
    " c.updated_at, c.created_ms"

static cJSON *command_json(sqlite3_stmt *st)
{
    cJSON *c = cJSON_CreateObject();
    add_text_or_null(c, "id", sqlite3_column_text(st, 0));
    add_text_or_null(c, "vehicle_id", sqlite3_column_text(st, 1));
    add_text_or_null(c, "plate", sqlite3_column_text(st, 2));
    add_text_or_null(c, "type", sqlite3_column_text(st, 3));
    add_text_or_null(c, "status", sqlite3_column_text(st, 4));
    add_text_or_null(c, "failure_code", sqlite3_column_text(st, 5));
    add_text_or_null(c, "order_id", sqlite3_column_text(st, 6));
    add_time(c, "created_at", sqlite3_column_int64(st, 7));
    add_time(c, "updated_at", sqlite3_column_int64(st, 8));
    int64_t created_ms = column_or(st, 9, sqlite3_column_int64(st, 7) * 1000);
    add_time(c, "expires_at", (created_ms + VEHICLE_COMMAND_TTL_MS) / 1000);
    return c;
}

/* One command of the vehicle, or NULL. */
static cJSON *command_load(const char *vehicle_id, const char *command_id)
{
    sqlite3_stmt *st = db_prepare("SELECT " COMMAND_COLUMNS " FROM vehicle_commands c"
                                  " JOIN vehicles v ON v.id = c.vehicle_id"
                                  " WHERE c.id = ? AND c.vehicle_id = ?");
    cJSON *c = NULL;
    if (!st)
        return NULL;
    db_bind_texts(st, 2, (const char *const[]){command_id, vehicle_id});
    if (sqlite3_step(st) == SQLITE_ROW)
        c = command_json(st);
    db_release(st);
    return c;
}

/* The vehicle's most recent command at or after `since` (seconds), or JSON null. */
static cJSON *last_command(const char *vehicle_id, int64_t since)
{
    sqlite3_stmt *st = db_prepare("SELECT " COMMAND_COLUMNS " FROM vehicle_commands c"
                                  " JOIN vehicles v ON v.id = c.vehicle_id"
                                  " WHERE c.vehicle_id = ? AND c.created_at >= ?"
                                  " ORDER BY c.created_ms DESC, c.rowid DESC LIMIT 1");
    cJSON *c = NULL;
    if (st) {
        sqlite3_bind_text(st, 1, vehicle_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, since);
        if (sqlite3_step(st) == SQLITE_ROW)
            c = command_json(st);
        db_release(st);
    }
    return c ? c : cJSON_CreateNull();
}

static cJSON *vehicle_json(const char *vehicle_id)
{
    sqlite3_stmt *st = db_prepare(
        "SELECT id, plate, model, energy, online, locked, doors_closed, battery_pct, fuel_pct,"
        " lat, lng, last_seen_at FROM vehicles WHERE id = ?");
    cJSON *v = NULL;
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, vehicle_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        v = cJSON_CreateObject();
        add_text_or_null(v, "id", sqlite3_column_text(st, 0));
        add_text_or_null(v, "plate", sqlite3_column_text(st, 1));
        add_text_or_null(v, "model", sqlite3_column_text(st, 2));
        add_text_or_null(v, "energy", sqlite3_column_text(st, 3));
        cJSON_AddBoolToObject(v, "online", sqlite3_column_int(st, 4) != 0);
        add_time(v, "last_seen_at", sqlite3_column_int64(st, 11));
        cJSON_AddStringToObject(v, "lock_state", sqlite3_column_int(st, 5) ? "locked" : "unlocked");
        cJSON_AddStringToObject(v, "doors", sqlite3_column_int(st, 6) ? "closed" : "open");
        for (int col = 7; col <= 8; col++) {
            const char *name = col == 7 ? "battery_pct" : "fuel_pct";
            if (sqlite3_column_type(st, col) == SQLITE_NULL)
                cJSON_AddNullToObject(v, name);
            else
                cJSON_AddNumberToObject(v, name, sqlite3_column_int(st, col));
        }
        cJSON *loc = cJSON_AddObjectToObject(v, "location");
        cJSON_AddNumberToObject(loc, "lat", sqlite3_column_double(st, 9));
        cJSON_AddNumberToObject(loc, "lng", sqlite3_column_double(st, 10));
        cJSON_AddNullToObject(loc, "address");
    }
    db_release(st);
    return v;
}

/* ---- handlers ------------------------------------------------------------------------------ */

void vehicles_get(struct request *req)
{
    struct vehicle v;
    struct active_order o;
    if (!vehicle_find(req->params[0], &v)) {
        reply_error(req, 404, "not_found", "no vehicle with this ID or plate");
        return;
    }
    active_order_of(v.id, &o);
    bool staff = is_staff(req), mine = customer_rents(req, &o);
    if (!staff && o.found && !mine) {
        /* Where another customer's rental is, is theirs to know. */
        reply_error(req, 403, "forbidden", "this vehicle is rented by another customer");
        return;
    }
    settle_vehicle(v.id);
    cJSON *doc = vehicle_json(v.id);
    if (!doc) {
        reply_error(req, 500, "internal", "could not read the vehicle");
        return;
    }
    if (o.found)
        cJSON_AddStringToObject(doc, "active_order_id", o.id);
    else
        cJSON_AddNullToObject(doc, "active_order_id");
    /* A customer sees the commands of their own rental, not those of earlier renters. */
    cJSON_AddItemToObject(doc, "last_command",
                          staff  ? last_command(v.id, 0)
                          : mine ? last_command(v.id, o.started_at)
                                 : cJSON_CreateNull());
    reply_json(req, 200, doc);
}

void vehicles_command_get(struct request *req)
{
    struct vehicle v;
    if (!vehicle_find(req->params[0], &v)) {
        reply_error(req, 404, "not_found", "no vehicle with this ID or plate");
        return;
    }
    settle_vehicle(v.id);
    const char *command_id = req->params[1];
    bool visible = is_staff(req);
    if (!visible) {
        /* Customers see the commands they asked for; others look like unknown IDs. */
        sqlite3_stmt *st = db_prepare("SELECT 1 FROM vehicle_commands WHERE id = ?"
                                      " AND requested_by = ? AND requested_by_role = 'customer'");
        if (st) {
            db_bind_texts(st, 2, (const char *const[]){command_id, req->who.account_id});
            visible = sqlite3_step(st) == SQLITE_ROW;
            db_release(st);
        }
    }
    cJSON *c = visible ? command_load(v.id, command_id) : NULL;
    if (!c) {
        reply_error(req, 404, "not_found", "no such command for this vehicle");
        return;
    }
    reply_json(req, 200, c);
}

struct command_request {
    char type[16];
    char reason[REASON_MAX + 1];
    char order_id[ORDER_ID_MAX + 1];
};

/* Reads and checks the body; replies 400 and returns false when it is not acceptable. */
static bool read_command_request(struct request *req, struct command_request *cr)
{
    static const char *const types[] = {"unlock", "lock", "honk", "flash"};
    memset(cr, 0, sizeof *cr);
    cJSON *body = request_json_object(req);
    if (!body)
        return false;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(body, "type");
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(body, "reason");
    const cJSON *order = cJSON_GetObjectItemCaseSensitive(body, "order_id");
    const char *problem = NULL;
    bool known = false;
    for (size_t i = 0; cJSON_IsString(type) && i < sizeof types / sizeof types[0]; i++)
        known = known || strcmp(type->valuestring, types[i]) == 0;
    if (!known)
        problem = "type must be one of unlock, lock, honk, flash";
    else if (reason && !cJSON_IsNull(reason) &&
             (!cJSON_IsString(reason) || strlen(reason->valuestring) > REASON_MAX))
        problem = "reason must be a string of at most 500 bytes";
    else if (order && !cJSON_IsNull(order) &&
             (!cJSON_IsString(order) || !*order->valuestring ||
              strlen(order->valuestring) > ORDER_ID_MAX))
        problem = "order_id must be an order ID";
    if (problem) {
        cJSON_Delete(body);
        reply_error(req, 400, "invalid_request", problem);
        return false;
    }
    snprintf(cr->type, sizeof cr->type, "%s", type->valuestring);
    if (cJSON_IsString(reason)) {
        const char *r = reason->valuestring;
        while (isspace((unsigned char)*r))
            r++;
        snprintf(cr->reason, sizeof cr->reason, "%s", r);
        size_t n = strlen(cr->reason);
        while (n > 0 && isspace((unsigned char)cr->reason[n - 1]))
            cr->reason[--n] = '\0';
    }
    if (cJSON_IsString(order))
        snprintf(cr->order_id, sizeof cr->order_id, "%s", order->valuestring);
    cJSON_Delete(body);
    return true;
}

/* The order named in the request: 0 and its vehicle/status/account, or -1 when unknown. */
static int order_lookup(const char *order_id, char *vehicle_id, size_t vsize, char *status,
                        size_t ssize, char *account_id, size_t asize)
{
    sqlite3_stmt *st =
        db_prepare("SELECT vehicle_id, status, account_id FROM orders WHERE id = ?");
    int rc = -1;
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, order_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        copy_text(vehicle_id, vsize, sqlite3_column_text(st, 0));
        copy_text(status, ssize, sqlite3_column_text(st, 1));
        copy_text(account_id, asize, sqlite3_column_text(st, 2));
        rc = 0;
    }
    db_release(st);
    return rc;
}

/* Decides which order the command is for, or replies the refusal and returns false. */
static bool authorise(struct request *req, const struct vehicle *v, struct command_request *cr)
{
    struct active_order active;
    active_order_of(v->id, &active);
    bool staff = is_staff(req);
    if (staff && !cr->reason[0]) {
        reply_error(req, 400, "reason_required",
                    "staff must give a reason for a vehicle command (it is audit-logged)");
        return false;
    }
    if (cr->order_id[0]) {
        char vehicle_id[VEHICLE_KEY_MAX + 1], status[16], account_id[64];
        if (order_lookup(cr->order_id, vehicle_id, sizeof vehicle_id, status, sizeof status,
                         account_id, sizeof account_id) != 0) {
            if (staff)
                reply_error(req, 404, "not_found", "no such order");
            else
                reply_error(req, 403, "forbidden", "this order is not one of yours");
            return false;
        }
        if (!staff && strcmp(account_id, req->who.account_id) != 0) {
            reply_error(req, 403, "forbidden", "this order is not one of yours");
            return false;
        }
        if (strcmp(vehicle_id, v->id) != 0 || strcmp(status, "active") != 0) {
            reply_error(req, 409, "order_not_active",
                        strcmp(vehicle_id, v->id) != 0
                            ? "this order is for another vehicle"
                            : "this order is not active: a vehicle can only be commanded during "
                              "its order");
            return false;
        }
        return true;
    }
    if (staff || customer_rents(req, &active)) {
        if (active.found)
            snprintf(cr->order_id, sizeof cr->order_id, "%s", active.id);
        return true;
    }
    if (active.found)
        reply_error(req, 403, "forbidden", "this vehicle is rented by another customer");
    else
        reply_error(req, 409, "order_not_active",
                    "you have no active order for this vehicle: start an order first");
    return false;
}

static void create_command(struct request *req, void *ctx)
{
    (void)ctx;
    struct command_request cr;
    struct vehicle v;
    if (!read_command_request(req, &cr))
        return;
    if (!vehicle_find(req->params[0], &v)) {
        reply_error(req, 404, "not_found", "no vehicle with this ID or plate");
        return;
    }
    if (!authorise(req, &v, &cr))
        return;
    settle_vehicle(v.id);

    char hex[17], id[24];
    if (random_hex(hex, 8) != 0) {
        reply_error(req, 500, "internal", "no randomness for a command ID");
        return;
    }
    snprintf(id, sizeof id, "cmd_%s", hex);
    int64_t now_ms = clock_now_ms(), delay = req->cfg->vehicle_delay_ms;
    /* The plan: an online vehicle gets the command half-way and answers after the delay; an
     * offline one is never reached, and the platform gives up after the same delay. */
    int64_t answer_ms = now_ms + delay;
    sqlite3_stmt *st = db_prepare(
        "INSERT INTO vehicle_commands(id, vehicle_id, type, status, failure_code, reason,"
        " order_id, requested_by, requested_by_role, created_at, updated_at, created_ms,"
        " sent_ms, answer_ms, answer, answer_code)"
        " VALUES (?1, ?2, ?3, 'queued', NULL, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12, ?13)");
    if (!st) {
        reply_error(req, 500, "internal", "could not store the command");
        return;
    }
    db_bind_texts(st, 7, (const char *const[]){id, v.id, cr.type, cr.reason[0] ? cr.reason : NULL,
                                               cr.order_id[0] ? cr.order_id : NULL,
                                               req->who.subject, req->who.role});
    sqlite3_bind_int64(st, 8, now_ms / 1000);
    sqlite3_bind_int64(st, 9, now_ms);
    if (v.online)
        sqlite3_bind_int64(st, 10, now_ms + delay / 2);
    else
        sqlite3_bind_null(st, 10);
    sqlite3_bind_int64(st, 11, answer_ms);
    sqlite3_bind_text(st, 12, v.online ? "succeeded" : "failed", -1, SQLITE_STATIC);
    if (v.online)
        sqlite3_bind_null(st, 13);
    else
        sqlite3_bind_text(st, 13, "vehicle_offline", -1, SQLITE_STATIC);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    db_release(st);
    if (!ok) {
        reply_error(req, 500, "internal", "could not store the command");
        return;
    }
    if (is_staff(req)) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "command_id", id);
        cJSON_AddStringToObject(d, "type", cr.type);
        cJSON_AddStringToObject(d, "result", "queued");
        if (cr.order_id[0])
            cJSON_AddStringToObject(d, "order_id", cr.order_id);
        char action[48];
        snprintf(action, sizeof action, "vehicle_command.%s", cr.type);
        audit(req->who.subject, req->who.role, action, v.id, cr.reason, req->id, d,
              now_ms / 1000);
    }
    cJSON *doc = command_load(v.id, id);
    if (!doc) {
        reply_error(req, 500, "internal", "could not read the command back");
        return;
    }
    reply_json(req, 202, doc);
}

/* A frozen account commands no vehicle: refused before the Idempotency-Key is looked at (a
 * key used before the freeze replays nothing) and written to the audit log. */
static void refuse_frozen(struct request *req)
{
    struct vehicle v;
    cJSON *body = req->body ? cJSON_ParseWithLength(req->body, req->body_len) : NULL;
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, "type"));
    cJSON *d = cJSON_CreateObject();
    if (type && strlen(type) < 16)
        cJSON_AddStringToObject(d, "type", type);
    else
        cJSON_AddNullToObject(d, "type");
    cJSON_AddStringToObject(d, "code", "account_frozen");
    cJSON_Delete(body);
    bool found = vehicle_find(req->params[0], &v);
    audit(req->who.subject, req->who.role, "vehicle_command.refused",
          found ? v.id : req->params[0], NULL, req->id, d, clock_now());
    reply_error(req, 403, "account_frozen",
                "this account is frozen: it cannot command a vehicle until customer service "
                "unfreezes it");
}

void vehicles_command_create(struct request *req)
{
    if (!is_staff(req) && req->who.account_frozen)
        refuse_frozen(req);
    else
        idempotency_run(req, NULL, create_command, NULL);
}
