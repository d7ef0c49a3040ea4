#include "accounts.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
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
    db_release(st);
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
    db_release(st);
    return ok;
}

static bool is_staff(const struct request *req)
{
    return strcmp(req->who.role, "staff") == 0;
}

/* The account when the caller may act on it; otherwise replies (403/404) and returns NULL.
 * A customer asking for another account gets the same answer whether it exists or not. */
static cJSON *account_for_caller(struct request *req, const char *id, const char *action)
{
    char message[96];
    if (!is_staff(req) && strcmp(id, req->who.account_id) != 0) {
        snprintf(message, sizeof message, "a customer may only %s their own account", action);
        reply_error(req, 403, "forbidden", message);
        return NULL;
    }
    cJSON *account = account_load(id);
    if (!account)
        reply_error(req, 404, "not_found", "no such account");
    else if (is_staff(req) && !accounts_verified_by(req->who.token_hash, id)) {
        cJSON_Delete(account);
        account = NULL;
        reply_error(req, 403, "verification_required",
                    "verify the customer's identity first (POST /v1/accounts/verify)");
    }
    return account;
}

void accounts_get(struct request *req)
{
    cJSON *account = account_for_caller(req, req->params[0], "see");
    if (account)
        reply_json(req, 200, account);
}

/* ---- freeze ---- */

static bool blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* The reason (NULL when absent or blank), or replies 400 and sets *bad. */
static const char *freeze_reason(struct request *req, const cJSON *body, bool *bad)
{
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(body, "reason");
    *bad = false;
    if (!r || cJSON_IsNull(r))
        return NULL;
    if (!cJSON_IsString(r) || utf8_chars(r->valuestring) > FREEZE_REASON_MAX) {
        reply_error(req, 400, "invalid_request", "reason must be a text of 1-500 characters");
        *bad = true;
        return NULL;
    }
    return blank(r->valuestring) ? NULL : r->valuestring;
}

static int audit_freeze(const struct request *req, const char *id, const char *reason,
                        const char *previous, int revoked)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "previous_status", previous);
    cJSON_AddNumberToObject(d, "sessions_revoked", revoked);
    return audit_write(&(struct audit_entry){req->who.subject, req->who.role, "account.freeze",
                                             "account", id, reason, req->id, clock_now()},
                       d);
}

/* Frozen as stolen: status frozen and logins blocked from now on. A repeat changes nothing; an
 * account frozen otherwise (an operator's hold, as the seed's acc_1003) gets its logins
 * blocked too. */
static int set_frozen(const char *id)
{
    sqlite3_stmt *st = db_prepare(
        "UPDATE accounts SET status = 'frozen', login_blocked_at = ?1, updated_at = ?1"
        " WHERE id = ?2 AND NOT (status = 'frozen' AND login_blocked_at IS NOT NULL)");
    int rc;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, clock_now());
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    db_release(st);
    return rc;
}

/* Ends every session of the account (the caller's own too, when the customer froze it);
 * the number ended, or -1. */
static int revoke_sessions(const char *id)
{
    sqlite3_stmt *st = db_prepare("UPDATE tokens SET revoked_at = ?"
                                  " WHERE account_id = ? AND revoked_at IS NULL");
    int rc;
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, clock_now());
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(db_handle()) : -1;
    db_release(st);
    return rc;
}

/* Freezes (idempotently: a frozen account stays as it is), revokes the account's tokens and
 * writes the audit row, all in one transaction. */
static void freeze(struct request *req, const char *id, const char *reason, cJSON *account)
{
    char previous[16];
    int revoked = -1;
    snprintf(previous, sizeof previous, "%s",
             cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(account, "status")));
    cJSON_Delete(account);
    if (db_exec("BEGIN IMMEDIATE") != 0 || set_frozen(id) != 0 ||
        (revoked = revoke_sessions(id)) < 0 ||
        audit_freeze(req, id, reason, previous, revoked) != 0 || db_exec("COMMIT") != 0) {
        db_exec("ROLLBACK");
        reply_error(req, 500, "internal", "could not freeze the account");
        return;
    }
    account = account_load(id);
    if (account)
        reply_json(req, 200, account);
    else
        reply_error(req, 500, "internal", "could not read the account back");
}

void accounts_freeze(struct request *req)
{
    const char *id = req->params[0];
    cJSON *body = request_json_object(req), *account;
    bool bad;
    if (!body)
        return;
    const char *reason = freeze_reason(req, body, &bad);
    if (bad)
        goto done;
    if (is_staff(req) && !reason) {
        reply_error(req, 400, "reason_required",
                    "staff must give a reason to freeze an account (it goes to the audit log)");
        goto done;
    }
    if ((account = account_for_caller(req, id, "freeze")))
        freeze(req, id, reason, account);
done:
    cJSON_Delete(body);
}
