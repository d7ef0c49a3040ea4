/* POST /v1/accounts/verify: a phone plus one fact about its owner, with the per-phone lockout
 * of api.md. Every attempt is a row of verify_attempts; the lockout is computed from them.
 *
 * The answer must not reveal whether a phone exists, so an unknown phone does the same work
 * as a known one: one account lookup, the same order lookup, the same constant-time compare
 * against a stand-in value, the same attempt row, and the same body as a wrong fact. */
#include "accounts.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "http.h"
#include "pii.h"
#include "secret.h"

#define FACT_MAX 64

enum method { M_ID_LAST4, M_ID_NUMBER, M_ORDER_ID, M_MEMBER_ID, M_COUNT };
static const char *const method_names[M_COUNT] = {"id_last4", "id_number", "order_id",
                                                  "member_id"};

struct verify_input {
    const char *phone;
    enum method method;
    char fact[FACT_MAX + 1]; /* upper-cased for the ID and member forms */
};

/* What the phone's owner is, or stand-ins of the same shape when there is no such account. */
struct owner {
    bool known;
    char account_id[FACT_MAX + 1];
    char id_number[FACT_MAX + 1];
    char member_id[FACT_MAX + 1];
};

/* ---- the request ---- */

static bool id_chars(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

/* digits digits of [0-9], then one [0-9Xx]. */
static bool id_shape(const char *s, size_t digits)
{
    if (strlen(s) != digits + 1)
        return false;
    for (size_t i = 0; i < digits; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return isdigit((unsigned char)s[digits]) || s[digits] == 'X' || s[digits] == 'x';
}

static bool fact_valid(enum method m, const char *v)
{
    size_t n = strlen(v);
    switch (m) {
    case M_ID_LAST4:
        return id_shape(v, 3);
    case M_ID_NUMBER:
        return id_shape(v, 17);
    default:
        return n >= 1 && n <= FACT_MAX && id_chars(v, n);
    }
}

static const char *const fact_forms[M_COUNT] = {
    "id_last4 must be the last 4 characters of the ID number (3 digits, then a digit or X)",
    "id_number must be an 18-character resident ID number (17 digits, then a digit or X)",
    "order_id must be 1-64 letters, digits, '_' or '-'",
    "member_id must be 1-64 letters, digits, '_' or '-'",
};

/* Fills in, or replies 400 and returns -1. */
static int parse_input(struct request *req, cJSON *body, struct verify_input *in)
{
    const cJSON *phone = cJSON_GetObjectItemCaseSensitive(body, "phone");
    const cJSON *given = NULL;
    int count = 0;
    for (int m = 0; m < M_COUNT; m++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, method_names[m]);
        if (v && !cJSON_IsNull(v)) {
            count++;
            given = v;
            in->method = (enum method)m;
        }
    }
    if (!cJSON_IsString(phone) || !phone_is_valid(phone->valuestring)) {
        reply_error(req, 400, "invalid_phone",
                    "phone must be a mainland mobile number of 11 digits, e.g. 13800138000");
        return -1;
    }
    if (count != 1) {
        reply_error(req, 400, "invalid_request",
                    "give the phone and exactly one of id_last4, id_number, order_id, member_id");
        return -1;
    }
    if (!cJSON_IsString(given) || !fact_valid(in->method, given->valuestring)) {
        reply_error(req, 400, "invalid_request", fact_forms[in->method]);
        return -1;
    }
    in->phone = phone->valuestring;
    snprintf(in->fact, sizeof in->fact, "%s", given->valuestring);
    if (in->method != M_ORDER_ID)
        for (char *p = in->fact; *p; p++)
            *p = (char)toupper((unsigned char)*p);
    return 0;
}

/* ---- the lockout ---- */

struct lockout {
    int failures;       /* in the current window */
    int64_t window_end; /* 0: no window open */
};

/* Failures since the last success, grouped into windows: a failure at or after the end of
 * the current window opens a new one (api.md: 15 minutes from the first failure). */
static void lockout_state(const char *phone, int64_t now, struct lockout *l)
{
    sqlite3_stmt *st = db_prepare(
        "SELECT at FROM verify_attempts WHERE phone = ?1 AND success = 0 AND id >"
        " COALESCE((SELECT MAX(id) FROM verify_attempts WHERE phone = ?1 AND success = 1), 0)"
        " ORDER BY at, id");
    l->failures = 0;
    l->window_end = 0;
    if (!st)
        return;
    sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t at = sqlite3_column_int64(st, 0);
        if (l->window_end == 0 || at >= l->window_end) {
            l->window_end = at + VERIFY_WINDOW_S;
            l->failures = 1;
        } else {
            l->failures++;
        }
    }
    db_release(st);
    if (l->window_end <= now) {
        l->failures = 0;
        l->window_end = 0;
    }
}

static int record_attempt(const struct verify_input *in, bool ok, const char *token_hash,
                          int64_t now)
{
    sqlite3_stmt *st = db_prepare("INSERT INTO verify_attempts(phone, method, success,"
                                  " token_hash, at) VALUES (?, ?, ?, ?, ?)");
    int rc;
    if (!st)
        return -1;
    db_bind_texts(st, 2, (const char *const[]){in->phone, method_names[in->method]});
    sqlite3_bind_int(st, 3, ok ? 1 : 0);
    sqlite3_bind_text(st, 4, token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    db_release(st);
    return rc;
}

/* Lets this token look the account up (GET /v1/accounts/{id}, freeze). */
static int record_verification(const char *token_hash, const char *account_id,
                               enum method m, int64_t now)
{
    sqlite3_stmt *st = db_prepare(
        "INSERT INTO verifications(token_hash, account_id, method, verified_at)"
        " VALUES (?, ?, ?, ?) ON CONFLICT(token_hash, account_id)"
        " DO UPDATE SET method = excluded.method, verified_at = excluded.verified_at");
    int rc;
    if (!st)
        return -1;
    db_bind_texts(st, 3, (const char *const[]){token_hash, account_id, method_names[m]});
    sqlite3_bind_int64(st, 4, now);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    db_release(st);
    return rc;
}

/* ---- the check ---- */

static void copy_text(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    snprintf(out, size, "%s", v ? (const char *)v : "");
}

static void load_owner(const char *phone, struct owner *o)
{
    sqlite3_stmt *st =
        db_prepare("SELECT id, id_number, upper(member_id) FROM accounts WHERE phone = ?");
    memset(o, 0, sizeof *o);
    if (st) {
        sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            o->known = true;
            copy_text(st, 0, o->account_id, sizeof o->account_id);
            copy_text(st, 1, o->id_number, sizeof o->id_number);
            copy_text(st, 2, o->member_id, sizeof o->member_id);
        }
        db_release(st);
    }
    if (!o->known) { /* stand-ins of the usual shapes: the compares below cost the same */
        snprintf(o->account_id, sizeof o->account_id, "acc_0000");
        snprintf(o->id_number, sizeof o->id_number, "000000000000000000");
        snprintf(o->member_id, sizeof o->member_id, "M000000");
    }
}

/* The account an order belongs to ("" when there is no such order). */
static void order_owner(const char *order_id, char out[FACT_MAX + 1])
{
    sqlite3_stmt *st = db_prepare("SELECT account_id FROM orders WHERE id = ?");
    out[0] = '\0';
    if (!st)
        return;
    sqlite3_bind_text(st, 1, order_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        copy_text(st, 0, out, FACT_MAX + 1);
    db_release(st);
}

static bool fact_matches(const struct verify_input *in, const struct owner *o)
{
    char from_order[FACT_MAX + 1];
    size_t n = strlen(o->id_number);
    bool same;
    switch (in->method) {
    case M_ID_LAST4:
        same = secret_equal(in->fact, o->id_number + (n >= 4 ? n - 4 : 0));
        break;
    case M_ID_NUMBER:
        same = secret_equal(in->fact, o->id_number);
        break;
    case M_ORDER_ID:
        order_owner(in->fact, from_order);
        same = secret_equal(from_order, o->account_id);
        break;
    default:
        same = secret_equal(in->fact, o->member_id);
        break;
    }
    return same && o->known;
}

/* A customer may verify only their own phone. */
static bool may_verify(const struct request *req, const char *phone)
{
    char own[32] = "";
    if (strcmp(req->who.role, "staff") == 0)
        return true;
    sqlite3_stmt *st = db_prepare("SELECT phone FROM accounts WHERE id = ?");
    if (st) {
        sqlite3_bind_text(st, 1, req->who.account_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            copy_text(st, 0, own, sizeof own);
        db_release(st);
    }
    return own[0] && strcmp(own, phone) == 0;
}

static void reply_result(struct request *req, const struct verify_input *in, bool ok,
                         const char *account_id, int attempts_left)
{
    cJSON *out = cJSON_CreateObject();
    cJSON_AddBoolToObject(out, "verified", ok);
    if (ok)
        cJSON_AddStringToObject(out, "account_id", account_id);
    else
        cJSON_AddNullToObject(out, "account_id");
    cJSON_AddStringToObject(out, "method", method_names[in->method]);
    cJSON_AddNumberToObject(out, "attempts_left", attempts_left);
    reply_json(req, 200, out);
}

static void verify(struct request *req, const struct verify_input *in)
{
    int64_t now = clock_now();
    struct lockout l;
    struct owner o;
    if (!may_verify(req, in->phone)) {
        reply_error(req, 403, "forbidden", "a customer may only verify their own phone");
        return;
    }
    lockout_state(in->phone, now, &l);
    if (l.failures >= VERIFY_MAX_FAILURES) {
        reply_error(req, 429, "locked_out",
                    "too many failed verifications for this phone; try again later");
        req->reply.retry_after = (int)(l.window_end - now);
        return;
    }
    load_owner(in->phone, &o);
    bool ok = fact_matches(in, &o);
    if (db_exec("BEGIN IMMEDIATE") != 0 || record_attempt(in, ok, req->who.token_hash, now) ||
        (ok && record_verification(req->who.token_hash, o.account_id, in->method, now)) ||
        db_exec("COMMIT") != 0) {
        db_exec("ROLLBACK");
        reply_error(req, 500, "internal", "could not record the verification");
        return;
    }
    int failures = l.failures + 1;
    reply_result(req, in, ok, o.account_id,
                 ok ? VERIFY_MAX_FAILURES
                    : (failures >= VERIFY_MAX_FAILURES ? 0 : VERIFY_MAX_FAILURES - failures));
}

/* The body held the fact (perhaps a whole ID number): wipe it before it is freed. */
static void wipe_facts(cJSON *body)
{
    for (int m = 0; m < M_COUNT; m++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(body, method_names[m]);
        if (cJSON_IsString(v) && v->valuestring)
            explicit_bzero(v->valuestring, strlen(v->valuestring));
    }
}

void accounts_verify(struct request *req)
{
    cJSON *body = request_json_object(req);
    struct verify_input in;
    if (!body)
        return;
    memset(&in, 0, sizeof in);
    if (parse_input(req, body, &in) == 0)
        verify(req, &in);
    explicit_bzero(in.fact, sizeof in.fact);
    wipe_facts(body);
    cJSON_Delete(body);
}
