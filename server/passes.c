#include "passes.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "http.h"
#include "secret.h"
#include "sha256.h"

#define ID_MAX 64
#define PAYLOAD_MAX (2 + ID_MAX + 8 + PASS_SIG_LEN)

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/* The same unambiguous alphabet tickets.c gives new tickets (no 0/O, 1/I/L). */
static const char code_alphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

static bool is_staff(const struct request *req)
{
    return strcmp(req->who.role, "staff") == 0;
}

static size_t b64url_encode(const unsigned char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = b64url[(v >> 6) & 63];
        if (i + 2 < len)
            out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
    return o;
}

static int b64url_value(char c)
{
    const char *p = c ? strchr(b64url, c) : NULL;
    return p ? (int)(p - b64url) : -1;
}

/* Decoded length, or -1 when the text is not unpadded base64url or too long. */
static long b64url_decode(const char *in, unsigned char *out, size_t out_max)
{
    size_t len = strlen(in), o = 0;
    if (len % 4 == 1)
        return -1;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == out_max)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return (long)o;
}

static void put_u32(unsigned char *p, int64_t v)
{
    uint32_t u = (uint32_t)v;
    p[0] = (unsigned char)(u >> 24), p[1] = (unsigned char)(u >> 16);
    p[2] = (unsigned char)(u >> 8), p[3] = (unsigned char)u;
}

static int64_t get_u32(const unsigned char *p)
{
    return (int64_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

static int sign(const unsigned char *data, size_t len, unsigned char sig[SHA256_LEN])
{
    char hex[65];
    unsigned char key[32];
    if (db_pass_key(hex) != 0)
        return -1;
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        key[i] = (unsigned char)v;
    }
    hmac_sha256(key, sizeof key, data, len, sig);
    memset(key, 0, sizeof key);
    return 0;
}

int pass_make(const char *ticket_id, int64_t issued, int64_t expires, char *out, size_t out_len)
{
    unsigned char buf[PAYLOAD_MAX], sig[SHA256_LEN];
    size_t id_len = strlen(ticket_id);
    if (id_len == 0 || id_len > ID_MAX || out_len < (PAYLOAD_MAX + 2) / 3 * 4 + 1)
        return -1;
    size_t n = 0;
    buf[n++] = PASS_VERSION;
    buf[n++] = (unsigned char)id_len;
    memcpy(buf + n, ticket_id, id_len);
    n += id_len;
    put_u32(buf + n, issued), n += 4;
    put_u32(buf + n, expires), n += 4;
    if (sign(buf, n, sig) != 0)
        return -1;
    memcpy(buf + n, sig, PASS_SIG_LEN);
    n += PASS_SIG_LEN;
    b64url_encode(buf, n, out);
    return 0;
}

struct parsed_pass {
    char ticket_id[ID_MAX + 1];
    int64_t issued, expires;
};

/* 0 valid signature; -1 not a pass or the signature does not match (tampered). */
static int pass_open(const char *text, struct parsed_pass *p)
{
    unsigned char buf[PAYLOAD_MAX], sig[SHA256_LEN];
    long n = b64url_decode(text, buf, sizeof buf);
    if (n < 2 + 1 + 8 + PASS_SIG_LEN || buf[0] != PASS_VERSION)
        return -1;
    size_t id_len = buf[1];
    if (id_len == 0 || id_len > ID_MAX || (size_t)n != 2 + id_len + 8 + PASS_SIG_LEN)
        return -1;
    size_t body = 2 + id_len + 8;
    if (sign(buf, body, sig) != 0)
        return -1;
    unsigned char diff = 0;
    for (int i = 0; i < PASS_SIG_LEN; i++)
        diff |= (unsigned char)(sig[i] ^ buf[body + (size_t)i]);
    if (diff)
        return -1;
    memcpy(p->ticket_id, buf + 2, id_len);
    p->ticket_id[id_len] = '\0';
    for (size_t i = 0; i < id_len; i++)
        if (!isgraph((unsigned char)p->ticket_id[i]))
            return -1;
    p->issued = get_u32(buf + 2 + id_len);
    p->expires = get_u32(buf + 2 + id_len + 4);
    return 0;
}

static void add_time(cJSON *obj, const char *name, int64_t t)
{
    char text[RFC3339_LEN];
    clock_format(t, text);
    cJSON_AddStringToObject(obj, name, text);
}

struct ticket_row {
    char id[ID_MAX + 1], account[64], short_code[16], status[24], category[24], priority[24];
    bool has_code;
};

/* by: "id" or "short_code". 1 found, 0 not found, -1 error. */
static int ticket_load(const char *by, const char *value, struct ticket_row *t)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT id, account_id, short_code, status, category, priority FROM tickets"
             " WHERE %s = ?", strcmp(by, "id") == 0 ? "id" : "short_code");
    sqlite3_stmt *st = db_prepare(sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *cols[6];
        for (int i = 0; i < 6; i++)
            cols[i] = (const char *)sqlite3_column_text(st, i);
        snprintf(t->id, sizeof t->id, "%s", cols[0] ? cols[0] : "");
        snprintf(t->account, sizeof t->account, "%s", cols[1] ? cols[1] : "");
        t->has_code = cols[2] != NULL;
        snprintf(t->short_code, sizeof t->short_code, "%s", cols[2] ? cols[2] : "");
        snprintf(t->status, sizeof t->status, "%s", cols[3] ? cols[3] : "");
        snprintf(t->category, sizeof t->category, "%s", cols[4] ? cols[4] : "");
        snprintf(t->priority, sizeof t->priority, "%s", cols[5] ? cols[5] : "");
    }
    db_release(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Tickets made before short codes existed get one on first use. */
static int ensure_short_code(struct ticket_row *t)
{
    for (int attempt = 0; !t->has_code && attempt < 8; attempt++) {
        unsigned char bytes[8];
        char code[9];
        if (random_bytes(bytes, sizeof bytes) != 0)
            return -1;
        for (int i = 0; i < 8; i++)
            code[i] = code_alphabet[bytes[i] % (sizeof code_alphabet - 1)];
        code[8] = '\0';
        sqlite3_stmt *st = db_prepare("UPDATE tickets SET short_code = ? WHERE id = ?"
                                      " AND short_code IS NULL");
        if (!st)
            return -1;
        const char *args[] = {code, t->id};
        db_bind_texts(st, 2, args);
        int rc = sqlite3_step(st);
        db_release(st);
        if (rc == SQLITE_DONE) {
            snprintf(t->short_code, sizeof t->short_code, "%s", code);
            t->has_code = true;
        }
    }
    return t->has_code ? 0 : -1;
}

void passes_get(struct request *req)
{
    struct ticket_row t;
    int found = ticket_load("id", req->params[0], &t);
    if (found < 0) {
        reply_error(req, 500, "internal", "could not read the ticket");
        return;
    }
    if (found == 0) {
        reply_error(req, 404, "not_found", "no such ticket");
        return;
    }
    if (!is_staff(req) && strcmp(t.account, req->who.account_id) != 0) {
        reply_error(req, 403, "forbidden", "this ticket belongs to another account");
        return;
    }
    int64_t now = clock_now();
    char pass[PASS_MAX_TEXT];
    if (ensure_short_code(&t) != 0 || pass_make(t.id, now, now + PASS_TTL_S, pass, sizeof pass)) {
        reply_error(req, 500, "internal", "could not sign the pass");
        return;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "ticket_id", t.id);
    cJSON_AddStringToObject(doc, "pass", pass);
    cJSON_AddStringToObject(doc, "short_code", t.short_code);
    add_time(doc, "issued_at", now);
    add_time(doc, "expires_at", now + PASS_TTL_S);
    reply_json(req, 200, doc);
}

static void reply_result(struct request *req, const char *reason, const struct ticket_row *t,
                         int64_t expires)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddBoolToObject(doc, "valid", reason == NULL);
    if (reason)
        cJSON_AddStringToObject(doc, "reason", reason);
    else
        cJSON_AddNullToObject(doc, "reason");
    if (t) {
        cJSON_AddStringToObject(doc, "ticket_id", t->id);
        cJSON_AddStringToObject(doc, "status", t->status);
        cJSON_AddStringToObject(doc, "category", t->category);
        cJSON_AddStringToObject(doc, "priority", t->priority);
    } else {
        cJSON_AddNullToObject(doc, "ticket_id");
    }
    if (expires > 0)
        add_time(doc, "expires_at", expires);
    else
        cJSON_AddNullToObject(doc, "expires_at");
    reply_json(req, 200, doc);
}

/* Short codes as read out: case and separators (spaces, dashes) do not matter. */
static bool normalise_code(const char *in, char out[9])
{
    size_t n = 0;
    for (; *in; in++) {
        if (*in == '-' || *in == ' ')
            continue;
        char c = (char)toupper((unsigned char)*in);
        if (n == 8 || !isalnum((unsigned char)c))
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    return n == 8;
}

/* A customer learns about their own tickets only: anyone else's is "unknown", so short
 * codes cannot be guessed to read other people's ticket status. */
static bool may_see(const struct request *req, const struct ticket_row *t)
{
    return is_staff(req) || strcmp(t->account, req->who.account_id) == 0;
}

void passes_verify(struct request *req)
{
    cJSON *body = request_json_object(req);
    if (!body)
        return;
    const cJSON *pass = cJSON_GetObjectItemCaseSensitive(body, "pass");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(body, "short_code");
    if ((pass != NULL) == (code != NULL)) {
        cJSON_Delete(body);
        reply_error(req, 400, "invalid_request", "pass or short_code: give exactly one");
        return;
    }
    const cJSON *given = pass ? pass : code;
    if (!cJSON_IsString(given) || !given->valuestring[0] ||
        strlen(given->valuestring) > (pass ? PASS_MAX_TEXT : 16)) {
        reply_error(req, 400, "invalid_request",
                    pass ? "pass: a string of 1 to 1024 characters is required"
                         : "short_code: a string of 1 to 16 characters is required");
        cJSON_Delete(body);
        return;
    }
    struct ticket_row t;
    int found;
    if (code) {
        char norm[9];
        found = normalise_code(code->valuestring, norm) ? ticket_load("short_code", norm, &t) : 0;
        cJSON_Delete(body);
        if (found < 0)
            reply_error(req, 500, "internal", "could not read the ticket");
        else if (found == 0 || !may_see(req, &t))
            reply_result(req, "unknown", NULL, 0);
        else
            reply_result(req, NULL, &t, 0);
        return;
    }
    struct parsed_pass p;
    int opened = pass_open(pass->valuestring, &p);
    cJSON_Delete(body);
    if (opened != 0) {
        reply_result(req, "tampered", NULL, 0);
        return;
    }
    found = ticket_load("id", p.ticket_id, &t);
    if (found < 0)
        reply_error(req, 500, "internal", "could not read the ticket");
    else if (found == 0 || !may_see(req, &t))
        reply_result(req, "unknown", NULL, p.expires);
    else if (clock_now() >= p.expires)
        reply_result(req, "expired", &t, p.expires);
    else
        reply_result(req, NULL, &t, p.expires);
}
