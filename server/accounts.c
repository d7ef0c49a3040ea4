#include "accounts.h"

#include <string.h>

#include "clock.h"
#include "db.h"
#include "http.h"
#include "pii.h"

static const char *const account_sql =
    "SELECT id, name, member_id, phone, id_number, status, balance_fen, deposit_fen,"
    " licence_status, member_level, created_at FROM accounts WHERE id = ?";

static void add_text(cJSON *obj, const char *name, sqlite3_stmt *st, int col)
{
    cJSON_AddStringToObject(obj, name, (const char *)sqlite3_column_text(st, col));
}

static cJSON *account_json(sqlite3_stmt *st)
{
    char phone[MASKED_LEN], id_number[MASKED_LEN], created[RFC3339_LEN];
    cJSON *a = cJSON_CreateObject();
    mask_phone((const char *)sqlite3_column_text(st, 3), phone);
    mask_id_number((const char *)sqlite3_column_text(st, 4), id_number);
    clock_format(sqlite3_column_int64(st, 10), created);
    add_text(a, "id", st, 0);
    add_text(a, "name", st, 1);
    add_text(a, "member_id", st, 2);
    cJSON_AddStringToObject(a, "phone_masked", phone);
    cJSON_AddStringToObject(a, "id_number_masked", id_number);
    add_text(a, "status", st, 5);
    cJSON_AddNumberToObject(a, "balance_fen", (double)sqlite3_column_int64(st, 6));
    cJSON_AddNumberToObject(a, "deposit_fen", (double)sqlite3_column_int64(st, 7));
    add_text(a, "licence_status", st, 8);
    add_text(a, "member_level", st, 9);
    cJSON_AddStringToObject(a, "created_at", created);
    return a;
}

/* The account as JSON, or NULL when there is none. */
static cJSON *account_load(const char *id)
{
    sqlite3_stmt *st = db_prepare(account_sql);
    cJSON *a = NULL;
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        a = account_json(st);
    sqlite3_finalize(st);
    return a;
}

bool accounts_verified_by(const char *token_hash, const char *account_id)
{
    sqlite3_stmt *st = db_prepare(
        "SELECT 1 FROM verifications WHERE token_hash = ? AND account_id = ?");
    bool ok;
    if (!st)
        return false;
    db_bind_texts(st, 2, (const char *const[]){token_hash, account_id});
    ok = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return ok;
}

void accounts_get(struct request *req)
{
    const char *id = req->params[0];
    bool staff = strcmp(req->who.role, "staff") == 0;
    if (!staff && strcmp(id, req->who.account_id) != 0) {
        /* The same answer whether the account exists or not. */
        reply_error(req, 403, "forbidden", "a customer may only see their own account");
        return;
    }
    cJSON *account = account_load(id);
    if (!account)
        reply_error(req, 404, "not_found", "no such account");
    else if (staff && !accounts_verified_by(req->who.token_hash, id)) {
        cJSON_Delete(account);
        reply_error(req, 403, "verification_required",
                    "verify the customer's identity first (POST /v1/accounts/verify)");
    } else
        reply_json(req, 200, account);
}
