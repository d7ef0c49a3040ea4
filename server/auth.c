#include "auth.h"

#include <crypt.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "clock.h"
#include "db.h"
#include "http.h"
#include "pii.h"
#include "secret.h"
#include "sha256.h"

#define TOKEN_BYTES 32

/* ---- the bearer-token check ---- */

static bool token_well_formed(const char *t)
{
    if (strlen(t) != 2 * TOKEN_BYTES)
        return false;
    for (const char *p = t; *p; p++)
        if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
            return false;
    return true;
}

static const char *bearer_token(const struct request *req)
{
    const char *h = request_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h)
        return NULL;
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return "";
    for (h += 7; *h == ' '; h++)
        ;
    return h;
}

static const char *const principal_sql =
    "SELECT t.role, COALESCE(t.account_id, t.staff_id), COALESCE(t.account_id, ''),"
    " COALESCE(a.name, s.name), t.expires_at, t.revoked_at,"
    " COALESCE(a.status = 'frozen', 0), COALESCE(a.status = 'frozen'"
    " AND a.login_blocked_at IS NOT NULL"
    " AND (t.revoked_at IS NULL OR t.revoked_at >= a.login_blocked_at), 0)"
    " FROM tokens t LEFT JOIN accounts a ON a.id = t.account_id"
    " LEFT JOIN staff s ON s.id = t.staff_id WHERE t.token_hash = ?";

static void copy_column(sqlite3_stmt *st, int col, char *out, size_t size)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    snprintf(out, size, "%s", v ? (const char *)v : "");
}

/* 0: valid; otherwise the 401 code to answer. *by_freeze: the token was ended by a
 * stolen-account freeze. */
static const char *load_principal(const char *token_hash, struct principal *who, bool *by_freeze)
{
    sqlite3_stmt *st = db_prepare(principal_sql);
    const char *problem = "token_invalid";
    if (!st)
        return "internal";
    sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        copy_column(st, 0, who->role, sizeof who->role);
        copy_column(st, 1, who->subject, sizeof who->subject);
        copy_column(st, 2, who->account_id, sizeof who->account_id);
        copy_column(st, 3, who->name, sizeof who->name);
        who->expires_at = sqlite3_column_int64(st, 4);
        snprintf(who->token_hash, sizeof who->token_hash, "%s", token_hash);
        who->account_frozen = sqlite3_column_int(st, 6) != 0;
        /* A stolen-account freeze revoked every token of the account; one it missed (none
         * should exist) is refused all the same. */
        *by_freeze = sqlite3_column_int(st, 7) != 0;
        if (sqlite3_column_type(st, 5) != SQLITE_NULL || *by_freeze)
            problem = "token_revoked";
        else if (who->expires_at <= clock_now())
            problem = "token_expired";
        else
            problem = NULL;
    }
    db_release(st);
    return problem;
}

static const char *auth_message(const char *code)
{
    if (strcmp(code, "unauthenticated") == 0)
        return "this request needs a bearer token (Authorization: Bearer TOKEN)";
    if (strcmp(code, "token_expired") == 0)
        return "the token has expired; log in again";
    if (strcmp(code, "token_revoked") == 0)
        return "the token has been revoked; log in again";
    return "the token is not valid; log in again";
}

/* A session ended by a freeze is still being used: the usual 401, and a row in the audit
 * log, so the operator sees what the holder of the old token (a thief?) tried. */
static void refuse_frozen_session(struct request *req, const struct principal *who)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "code", "token_revoked");
    cJSON_AddStringToObject(d, "cause", "account_frozen");
    cJSON_AddStringToObject(d, "method", req->method);
    cJSON_AddStringToObject(d, "path", req->path);
    audit_write(&(struct audit_entry){who->account_id, "customer", "request.refused", "account",
                                      who->account_id, NULL, req->id, clock_now()},
                d);
    reply_error(req, 401, "token_revoked",
                "this session was ended when the account was frozen; log in again");
}

bool auth_authenticate(struct request *req)
{
    const char *token = bearer_token(req), *problem;
    char hash[SHA256_HEX_LEN + 1];
    struct principal who = {0};
    bool by_freeze = false;
    if (!token)
        problem = "unauthenticated";
    else if (!token_well_formed(token))
        problem = "token_invalid";
    else {
        sha256_hex(token, hash);
        problem = load_principal(hash, &who, &by_freeze);
    }
    if (problem && strcmp(problem, "internal") == 0) {
        reply_error(req, 500, "internal", "could not check the token");
        return false;
    }
    if (problem && by_freeze) {
        refuse_frozen_session(req, &who);
        return false;
    }
    if (problem) {
        reply_error(req, 401, problem, auth_message(problem));
        return false;
    }
    req->who = who;
    return true;
}

/* ---- one-time codes ---- */

static int random_otp(char out[7])
{
    uint32_t v;
    do {
        if (random_bytes(&v, sizeof v) != 0)
            return -1;
    } while (v >= 4294000000u); /* a multiple of 10^6: no modulo bias */
    snprintf(out, 7, "%06u", (unsigned)(v % 1000000u));
    return 0;
}

static void otp_hash(const char *phone, const char *code, char out[SHA256_HEX_LEN + 1])
{
    char text[64];
    snprintf(text, sizeof text, "%s:%s", phone, code);
    sha256_hex(text, out);
}

/* The code for an account's phone: its fixed demo code, else a random one. */
static int otp_code_for(const char *phone, char code[7], bool *known)
{
    sqlite3_stmt *st = db_prepare("SELECT demo_otp FROM accounts WHERE phone = ?");
    int rc = 0;
    *known = false;
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *known = true;
        if (sqlite3_column_type(st, 0) != SQLITE_NULL)
            copy_column(st, 0, code, 7);
        else
            rc = random_otp(code);
    }
    db_release(st);
    return rc;
}

static int otp_store(const char *phone, const char *code)
{
    char hash[SHA256_HEX_LEN + 1];
    sqlite3_stmt *st = db_prepare("INSERT INTO otps(phone, code_hash, created_at, expires_at)"
                                  " VALUES (?, ?, ?, ?)");
    int rc;
    if (!st)
        return -1;
    otp_hash(phone, code, hash);
    db_bind_texts(st, 2, (const char *const[]){phone, hash});
    sqlite3_bind_int64(st, 3, clock_now());
    sqlite3_bind_int64(st, 4, clock_now() + OTP_TTL_S);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    db_release(st);
    return rc;
}

static const char *phone_field(struct request *req, cJSON *body)
{
    const char *phone = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, "phone"));
    if (!phone || !phone_is_valid(phone)) {
        reply_error(req, 400, "invalid_phone",
                    "phone must be a mainland mobile number of 11 digits, e.g. 13800138000");
        return NULL;
    }
    return phone;
}

void auth_otp_create(struct request *req)
{
    cJSON *body = request_json_object(req), *out;
    const char *phone = body ? phone_field(req, body) : NULL;
    char code[7] = "", masked[MASKED_LEN];
    bool known;
    if (!phone)
        goto done;
    if (otp_code_for(phone, code, &known) != 0 || (known && otp_store(phone, code) != 0)) {
        reply_error(req, 500, "internal", "could not issue a code");
        goto done;
    }
    mask_phone(phone, masked);
    /* The one documented place a secret is logged: the demo's stand-in for an SMS. */
    if (known)
        fprintf(stderr, "otp for %s: %s\n", masked, code);
    else
        fprintf(stderr, "otp for %s: no such account, nothing sent\n", masked);
    out = cJSON_CreateObject();
    cJSON_AddTrueToObject(out, "sent");
    cJSON_AddNumberToObject(out, "expires_in_s", OTP_TTL_S);
    reply_json(req, 202, out);
done:
    cJSON_Delete(body);
}

/* ---- tokens ---- */

static void issue_token(struct request *req, const char *role, const char *account_id,
                        const char *staff_id)
{
    char token[2 * TOKEN_BYTES + 1], hash[SHA256_HEX_LEN + 1], expires[RFC3339_LEN];
    int64_t now = clock_now();
    int64_t exp = now + (account_id ? CUSTOMER_TOKEN_TTL_S : STAFF_TOKEN_TTL_S);
    sqlite3_stmt *st = db_prepare("INSERT INTO tokens(token_hash, role, account_id, staff_id,"
                                  " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)");
    if (!st || random_hex(token, TOKEN_BYTES) != 0) {
        db_release(st);
        reply_error(req, 500, "internal", "could not issue a token");
        return;
    }
    sha256_hex(token, hash);
    db_bind_texts(st, 4, (const char *const[]){hash, role, account_id, staff_id});
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_int64(st, 6, exp);
    int rc = sqlite3_step(st);
    db_release(st);
    if (rc != SQLITE_DONE) {
        reply_error(req, 500, "internal", "could not store the token");
        return;
    }
    clock_format(exp, expires);
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "token", token);
    cJSON_AddStringToObject(out, "token_type", "Bearer");
    cJSON_AddStringToObject(out, "expires_at", expires);
    cJSON_AddStringToObject(out, "role", role);
    cJSON_AddStringToObject(out, "subject", account_id ? account_id : staff_id);
    reply_json(req, 200, out);
}

static void reply_bad_credentials(struct request *req)
{
    reply_error(req, 401, "invalid_credentials", "the code or password is wrong or has expired");
}

static void otp_mark(int64_t id, bool used)
{
    char sql[128];
    if (used)
        snprintf(sql, sizeof sql, "UPDATE otps SET used_at = %lld WHERE id = %lld",
                 (long long)clock_now(), (long long)id);
    else
        snprintf(sql, sizeof sql,
                 "UPDATE otps SET failed_attempts = failed_attempts + 1 WHERE id = %lld",
                 (long long)id);
    db_exec(sql);
}

/* Checks the newest live code for the phone; a wrong guess counts against it. */
static bool otp_accepted(const char *phone, const char *code)
{
    char hash[SHA256_HEX_LEN + 1], stored[SHA256_HEX_LEN + 1];
    sqlite3_stmt *st = db_prepare(
        "SELECT id, code_hash FROM otps WHERE phone = ? AND used_at IS NULL AND expires_at > ?"
        " AND failed_attempts < ? ORDER BY created_at DESC, id DESC LIMIT 1");
    bool ok = false;
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, clock_now());
    sqlite3_bind_int(st, 3, OTP_MAX_FAILURES);
    if (sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        copy_column(st, 1, stored, sizeof stored);
        otp_hash(phone, code, hash);
        ok = secret_equal(hash, stored);
        otp_mark(id, ok);
    }
    db_release(st);
    return ok;
}

/* An account frozen as stolen logs in no more: the refusal comes only after a right code (a
 * wrong one is the usual 401), so the answers reveal the freeze only to whoever has the code,
 * and it is written to the audit log. */
static void refuse_frozen_login(struct request *req, const char *account_id)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "code", "account_frozen");
    audit_write(&(struct audit_entry){account_id, "customer", "login.refused", "account",
                                      account_id, NULL, req->id, clock_now()},
                d);
    reply_error(req, 403, "account_frozen",
                "this account is frozen: it cannot log in until customer service unfreezes it");
}

static void login_customer(struct request *req, const char *phone, const char *code)
{
    char account_id[64] = "";
    if (!phone_is_valid(phone)) {
        reply_error(req, 400, "invalid_phone",
                    "phone must be a mainland mobile number of 11 digits, e.g. 13800138000");
        return;
    }
    if (!otp_accepted(phone, code)) {
        reply_bad_credentials(req);
        return;
    }
    bool blocked = false;
    sqlite3_stmt *st = db_prepare("SELECT id, status = 'frozen' AND login_blocked_at IS NOT NULL"
                                  " FROM accounts WHERE phone = ?");
    if (st) {
        sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            copy_column(st, 0, account_id, sizeof account_id);
            blocked = sqlite3_column_int(st, 1) != 0;
        }
        db_release(st);
    }
    if (!account_id[0])
        reply_bad_credentials(req);
    else if (blocked)
        refuse_frozen_login(req, account_id);
    else
        issue_token(req, "customer", account_id, NULL);
}

int auth_hash_password(const char *password, char *out, size_t out_len)
{
    struct crypt_data data;
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    memset(&data, 0, sizeof data);
    if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof salt))
        return -1;
    const char *hash = crypt_r(password, salt, &data);
    if (!hash || hash[0] == '*' || strlen(hash) >= out_len)
        return -1;
    snprintf(out, out_len, "%s", hash);
    return 0;
}

static bool password_matches(const char *password, const char *stored)
{
    struct crypt_data data;
    memset(&data, 0, sizeof data);
    const char *hash = crypt_r(password, stored, &data);
    bool ok = hash && hash[0] != '*' && secret_equal(hash, stored);
    explicit_bzero(&data, sizeof data);
    return ok;
}

static void login_staff(struct request *req, const char *staff_id, const char *password)
{
    /* An unknown staff ID still pays for one hash, so timing does not reveal IDs. */
    static char dummy[256];
    char stored[256] = "";
    sqlite3_stmt *st = db_prepare("SELECT password_hash FROM staff WHERE id = ? AND active = 1");
    if (st) {
        sqlite3_bind_text(st, 1, staff_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            copy_column(st, 0, stored, sizeof stored);
        db_release(st);
    }
    if (!dummy[0] && auth_hash_password("no such staff member", dummy, sizeof dummy) != 0)
        dummy[0] = '\0';
    /* Hashing takes a noticeable time and reads no shared state: let others run. */
    db_unlock();
    bool ok = password_matches(password, stored[0] ? stored : dummy) && stored[0];
    db_lock();
    if (ok)
        issue_token(req, "staff", NULL, staff_id);
    else
        reply_bad_credentials(req);
}

static const char *string_field(cJSON *body, const char *name)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, name));
}

void auth_token_create(struct request *req)
{
    cJSON *body = request_json_object(req);
    if (!body)
        return;
    const char *phone = string_field(body, "phone"), *otp = string_field(body, "otp");
    const char *staff = string_field(body, "staff_id"), *pass = string_field(body, "password");
    if (phone && otp)
        login_customer(req, phone, otp);
    else if (staff && pass)
        login_staff(req, staff, pass);
    else
        reply_error(req, 400, "invalid_request",
                    "give either phone and otp, or staff_id and password");
    cJSON_Delete(body);
}

void auth_token_revoke(struct request *req)
{
    sqlite3_stmt *st = db_prepare("UPDATE tokens SET revoked_at = ? WHERE token_hash = ?");
    if (!st) {
        reply_error(req, 500, "internal", "could not revoke the token");
        return;
    }
    sqlite3_bind_int64(st, 1, clock_now());
    sqlite3_bind_text(st, 2, req->who.token_hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    db_release(st);
    if (rc != SQLITE_DONE)
        reply_error(req, 500, "internal", "could not revoke the token");
    else
        reply_empty(req, 204);
}

void auth_whoami(struct request *req)
{
    char expires[RFC3339_LEN];
    cJSON *out = cJSON_CreateObject();
    clock_format(req->who.expires_at, expires);
    cJSON_AddStringToObject(out, "subject", req->who.subject);
    cJSON_AddStringToObject(out, "role", req->who.role);
    cJSON_AddStringToObject(out, "name", req->who.name);
    if (req->who.account_id[0])
        cJSON_AddStringToObject(out, "account_id", req->who.account_id);
    else
        cJSON_AddNullToObject(out, "account_id");
    cJSON_AddStringToObject(out, "expires_at", expires);
    reply_json(req, 200, out);
}
