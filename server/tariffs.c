/* Tariffs are public price lists: any authenticated caller may read one, so that a
 * customer can audit what an order was billed under. */
#include "tariffs.h"

#include "db.h"
#include "http.h"

static void add_text_or_null(cJSON *obj, const char *name, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        cJSON_AddNullToObject(obj, name);
    else
        cJSON_AddStringToObject(obj, name, (const char *)sqlite3_column_text(st, col));
}

static void add_int_or_null(cJSON *obj, const char *name, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        cJSON_AddNullToObject(obj, name);
    else
        cJSON_AddNumberToObject(obj, name, (double)sqlite3_column_int64(st, col));
}

static cJSON *rules_json(const char *tariff_id)
{
    cJSON *rules = cJSON_CreateArray();
    sqlite3_stmt *st = db_prepare(
        "SELECT kind, unit, price_fen, rounding, cap_fen, period_s FROM tariff_rules"
        " WHERE tariff_id = ? ORDER BY position");
    if (!st)
        return rules;
    sqlite3_bind_text(st, 1, tariff_id, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "kind", (const char *)sqlite3_column_text(st, 0));
        cJSON_AddStringToObject(r, "unit", (const char *)sqlite3_column_text(st, 1));
        cJSON_AddNumberToObject(r, "price_fen", (double)sqlite3_column_int64(st, 2));
        add_text_or_null(r, "rounding", st, 3);
        add_int_or_null(r, "cap_fen", st, 4);
        add_int_or_null(r, "period_s", st, 5);
        cJSON_AddItemToArray(rules, r);
    }
    db_release(st);
    return rules;
}

void tariffs_get(struct request *req)
{
    const char *id = req->params[0];
    sqlite3_stmt *st = db_prepare("SELECT id, name, currency FROM tariffs WHERE id = ?");
    if (!st) {
        reply_error(req, 500, "internal", "database error");
        return;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        db_release(st);
        reply_error(req, 404, "not_found", "no such tariff");
        return;
    }
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "id", (const char *)sqlite3_column_text(st, 0));
    cJSON_AddStringToObject(t, "name", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(t, "currency", (const char *)sqlite3_column_text(st, 2));
    db_release(st);
    cJSON_AddItemToObject(t, "rules", rules_json(id));
    reply_json(req, 200, t);
}
