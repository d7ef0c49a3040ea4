#include "db.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db_schema.h"
#include "secret.h"

static sqlite3 *db;
static pthread_mutex_t db_mutex = PTHREAD_MUTEX_INITIALIZER;

/* Prepared statements, kept for reuse (parsing the SQL was a large share of a request's
 * work). Keyed by the SQL text, so handlers that build their SQL keep working unchanged. A
 * statement is lent out by db_prepare and given back by db_release; a second db_prepare of
 * the same SQL while the first is still out gets a statement of its own. When the cache is
 * full, statements are prepared and finalized as before. Guarded by db_mutex like the rest. */
#define STMT_CACHE_MAX 256
struct cached_stmt {
    uint64_t hash;
    char *sql;
    sqlite3_stmt *st;
    bool lent;
};
static struct cached_stmt stmt_cache[STMT_CACHE_MAX];
static int stmt_cached;

sqlite3 *db_handle(void)
{
    return db;
}

void db_lock(void)
{
    pthread_mutex_lock(&db_mutex);
}

void db_unlock(void)
{
    pthread_mutex_unlock(&db_mutex);
}

int db_exec(const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "carhelp-server: database: %s\n", msg ? msg : "error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static uint64_t sql_hash(const char *sql)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return h;
}

static sqlite3_stmt *prepare(const char *sql, unsigned flags)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db, sql, -1, flags, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "carhelp-server: database: %s\n", sqlite3_errmsg(db));
        return NULL;
    }
    return st;
}

sqlite3_stmt *db_prepare(const char *sql)
{
    uint64_t h = sql_hash(sql);
    bool seen = false;
    for (int i = 0; i < stmt_cached; i++) {
        struct cached_stmt *c = &stmt_cache[i];
        if (c->hash != h || strcmp(c->sql, sql) != 0)
            continue;
        seen = true;
        if (!c->lent) {
            c->lent = true;
            return c->st;
        }
    }
    /* A statement nested in another use of the same SQL is prepared once, not kept. */
    if (seen || stmt_cached == STMT_CACHE_MAX)
        return prepare(sql, 0);
    struct cached_stmt *c = &stmt_cache[stmt_cached];
    if (!(c->sql = strdup(sql)))
        return prepare(sql, 0);
    if (!(c->st = prepare(sql, SQLITE_PREPARE_PERSISTENT))) {
        free(c->sql);
        c->sql = NULL;
        return NULL;
    }
    c->hash = h;
    c->lent = true;
    stmt_cached++;
    return c->st;
}

void db_release(sqlite3_stmt *st)
{
    if (!st)
        return;
    for (int i = 0; i < stmt_cached; i++) {
        if (stmt_cache[i].st == st) {
            /* Ends the statement's read, and drops bindings that point into the caller's
             * memory: unbound parameters are NULL again for the next user. */
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            stmt_cache[i].lent = false;
            return;
        }
    }
    sqlite3_finalize(st);
}

static void stmt_cache_clear(void)
{
    for (int i = 0; i < stmt_cached; i++) {
        sqlite3_finalize(stmt_cache[i].st);
        free(stmt_cache[i].sql);
        stmt_cache[i] = (struct cached_stmt){0};
    }
    stmt_cached = 0;
}

void db_bind_texts(sqlite3_stmt *st, int n, const char *const *values)
{
    for (int i = 0; i < n; i++) {
        if (values[i])
            sqlite3_bind_text(st, i + 1, values[i], -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, i + 1);
    }
}

int64_t db_query_int(const char *sql, const char *arg, int64_t fallback)
{
    sqlite3_stmt *st = db_prepare(sql);
    int64_t v = fallback;
    if (!st)
        return fallback;
    if (arg)
        sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    db_release(st);
    return v;
}

int db_schema_version(void)
{
    return (int)db_query_int("PRAGMA user_version", NULL, -1);
}

static int migrate(char *err, size_t err_len)
{
    int version = db_schema_version();
    if (version > db_migration_count) {
        snprintf(err, err_len, "database schema version %d is newer than this server (%d)",
                 version, db_migration_count);
        return -1;
    }
    for (; version < db_migration_count; version++) {
        char bump[64];
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d;", version + 1);
        if (db_exec("BEGIN IMMEDIATE") != 0)
            return -1;
        if (db_exec(db_migrations[version]) != 0 || db_exec(bump) != 0) {
            db_exec("ROLLBACK");
            snprintf(err, err_len, "migration to schema version %d failed", version + 1);
            return -1;
        }
        if (db_exec("COMMIT") != 0)
            return -1;
    }
    return 0;
}

int db_meta_get(const char *key, char *out, size_t out_len)
{
    sqlite3_stmt *st = db_prepare("SELECT value FROM meta WHERE key = ?");
    int rc = -1;
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out, out_len, "%s", (const char *)sqlite3_column_text(st, 0));
        rc = 0;
    }
    db_release(st);
    return rc;
}

int db_meta_set(const char *key, const char *value)
{
    sqlite3_stmt *st = db_prepare("INSERT INTO meta(key, value) VALUES (?, ?)"
                                  " ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    int rc;
    if (!st)
        return -1;
    db_bind_texts(st, 2, (const char *const[]){key, value});
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    db_release(st);
    return rc;
}

int db_pass_key(char out[65])
{
    if (db_meta_get("pass_signing_key", out, 65) == 0 && strlen(out) == 64)
        return 0;
    if (random_hex(out, 32) != 0)
        return -1;
    return db_meta_set("pass_signing_key", out);
}

static void prune_idempotency_keys(void)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM idempotency_keys WHERE created_at < %lld",
             (long long)(clock_now() - IDEMPOTENCY_TTL_S));
    db_exec(sql);
}

static int configure(char *err, size_t err_len)
{
    char key[65];
    sqlite3_busy_timeout(db, 5000);
    if (db_exec("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"
                " PRAGMA synchronous = NORMAL;") != 0 ||
        migrate(err, err_len) != 0)
        return -1;
    if (db_pass_key(key) != 0) {
        snprintf(err, err_len, "cannot create the pass-signing key");
        return -1;
    }
    prune_idempotency_keys();
    return 0;
}

int db_open(const char *path, char *err, size_t err_len)
{
    const char *name = path ? path : ":memory:";
    err[0] = '\0';
    /* NOMUTEX: db_mutex already serialises every use of the connection, so SQLite's own
     * per-call mutex would only be taken and given back again. */
    if (sqlite3_open_v2(name, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                       SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, err_len, "cannot open database %s: %s", name,
                 db ? sqlite3_errmsg(db) : "out of memory");
        db_close();
        return -1;
    }
    if (configure(err, err_len) != 0) {
        if (!err[0])
            snprintf(err, err_len, "cannot set up database %s: %s", name, sqlite3_errmsg(db));
        db_close();
        return -1;
    }
    return 0;
}

void db_close(void)
{
    stmt_cache_clear();
    if (db) {
        sqlite3_close_v2(db);
        db = NULL;
    }
}
