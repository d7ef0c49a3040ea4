#include "idempotency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "http.h"
#include "sha256.h"

static bool key_well_formed(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > IDEMPOTENCY_KEY_MAX)
        return false;
    for (const char *p = key; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            return false;
    return true;
}

/* SHA-256 over method, path and the body (or the handler's fingerprint), each framed by
 * its length so no two different requests run together into the same bytes. */
static void request_hash(const struct request *req, const char *fingerprint,
                         char out[SHA256_HEX_LEN + 1])
{
    struct sha256 s;
    unsigned char digest[SHA256_LEN];
    char len[32];
    const char *parts[3] = {req->method, req->path, fingerprint ? fingerprint : ""};
    size_t sizes[3] = {strlen(req->method), strlen(req->path),
                       fingerprint ? strlen(fingerprint) : req->body_len};
    sha256_init(&s);
    for (int i = 0; i < 3; i++) {
        int n = snprintf(len, sizeof len, "%zu:", sizes[i]);
        sha256_update(&s, len, (size_t)n);
        if (i == 2 && !fingerprint)
            sha256_update(&s, req->body ? req->body : "", req->body_len);
        else
            sha256_update(&s, parts[i], sizes[i]);
    }
    sha256_final(&s, digest);
    hex_encode(digest, sizeof digest, out);
}

void idempotency_expire(void)
{
    /* Once a minute at most: a DELETE is a write transaction of its own, a cost every
     * request paid before. Expired keys left meanwhile are ignored by replay() and
     * overwritten by record(), so expiry stays exact to the second. */
    static int64_t last_run = INT64_MIN;
    int64_t now = clock_now();
    if (last_run != INT64_MIN && now >= last_run && now - last_run < 60)
        return;
    last_run = now;
    sqlite3_stmt *st = db_prepare("DELETE FROM idempotency_keys WHERE created_at < ?");
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, now - IDEMPOTENCY_TTL_S);
    sqlite3_step(st);
    db_release(st);
}

/* Replies from the stored result, or 409 when the key was used for another request.
 * Returns true when it replied (the key is known). */
static bool replay(struct request *req, const char *subject, const char *key,
                   const char *hash)
{
    sqlite3_stmt *st = db_prepare("SELECT body_hash, status, response_body FROM idempotency_keys"
                                  " WHERE subject = ? AND key = ? AND created_at >= ?");
    bool known = false;
    if (!st)
        return false;
    db_bind_texts(st, 2, (const char *const[]){subject, key});
    sqlite3_bind_int64(st, 3, clock_now() - IDEMPOTENCY_TTL_S);
    if (sqlite3_step(st) == SQLITE_ROW) {
        known = true;
        if (strcmp((const char *)sqlite3_column_text(st, 0), hash) != 0) {
            reply_error(req, 409, "idempotency_conflict",
                        "this Idempotency-Key was already used with another request");
        } else {
            unsigned status = (unsigned)sqlite3_column_int(st, 1);
            const char *body = (const char *)sqlite3_column_text(st, 2);
            if (body && *body)
                reply_json(req, status, cJSON_Parse(body)); /* stored as sent: JSON */
            else
                reply_empty(req, status);
            req->reply.replayed = req->reply.status == status;
        }
    }
    db_release(st);
    return known;
}

static int record(const struct request *req, const char *subject, const char *key,
                  const char *hash)
{
    /* A conflict is an expired key not yet deleted (replay() found no live one). */
    sqlite3_stmt *st = db_prepare(
        "INSERT INTO idempotency_keys (subject, key, method, path, body_hash, status,"
        " response_body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(subject, key) DO UPDATE SET method = excluded.method,"
        " path = excluded.path, body_hash = excluded.body_hash, status = excluded.status,"
        " response_body = excluded.response_body, created_at = excluded.created_at");
    int rc;
    if (!st)
        return -1;
    db_bind_texts(st, 5, (const char *const[]){subject, key, req->method, req->path, hash});
    sqlite3_bind_int(st, 6, (int)req->reply.status);
    sqlite3_bind_text(st, 7, req->reply.body ? req->reply.body : "", (int)req->reply.len,
                      SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, clock_now());
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    db_release(st);
    return rc;
}

void idempotency_run(struct request *req, const char *fingerprint, idempotent_handler handler,
                     void *ctx)
{
    const char *key = request_header(req, IDEMPOTENCY_HEADER);
    char subject[sizeof req->who.role + sizeof req->who.subject + 1];
    char hash[SHA256_HEX_LEN + 1];
    if (!key) {
        handler(req, ctx);
        return;
    }
    if (!key_well_formed(key)) {
        reply_error(req, 400, "invalid_request",
                    "Idempotency-Key must be 1 to 255 printable ASCII characters");
        return;
    }
    snprintf(subject, sizeof subject, "%s:%s", req->who.role, req->who.subject);
    request_hash(req, fingerprint, hash);
    idempotency_expire();
    if (replay(req, subject, key, hash))
        return;
    if (db_exec("SAVEPOINT idempotent_request") != 0) {
        reply_error(req, 500, "internal", "could not start the request's transaction");
        return;
    }
    handler(req, ctx);
    if (req->reply.status >= 200 && req->reply.status < 300) {
        if (record(req, subject, key, hash) != 0) {
            db_exec("ROLLBACK TO idempotent_request");
            reply_error(req, 500, "internal", "could not record the Idempotency-Key");
        }
    } else {
        db_exec("ROLLBACK TO idempotent_request");
    }
    db_exec("RELEASE idempotent_request");
}
