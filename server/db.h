/* The service database: one SQLite connection (WAL, foreign keys on) guarded by one
 * mutex. The HTTP layer holds the lock while a handler runs, so handlers use db_handle()
 * freely and never lock themselves; code outside a handler wraps its work in
 * db_lock()/db_unlock(). A handler may drop the lock around slow work that touches no
 * shared state (password hashing) and must take it back before returning. The schema is versioned with PRAGMA user_version. */
#ifndef CARHELP_SERVER_DB_H
#define CARHELP_SERVER_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define IDEMPOTENCY_TTL_S (30 * 24 * 3600)

/* path NULL: in-memory. Creates or migrates the schema and makes the pass-signing key. */
int db_open(const char *path, char *err, size_t err_len);
void db_close(void);
sqlite3 *db_handle(void);
void db_lock(void);
void db_unlock(void);

/* Runs SQL without results; logs and returns -1 on error. */
int db_exec(const char *sql);
/* A prepared statement for sql (reused from earlier requests when possible), or NULL after
 * logging. Give it back with db_release, never sqlite3_finalize. */
sqlite3_stmt *db_prepare(const char *sql);
/* Resets the statement and clears its bindings for the next user (NULL: no-op). */
void db_release(sqlite3_stmt *st);
/* Binds text parameters 1..n (NULL binds SQL NULL). */
void db_bind_texts(sqlite3_stmt *st, int n, const char *const *values);
/* First column of the first row as integer; fallback when no row. */
int64_t db_query_int(const char *sql, const char *arg, int64_t fallback);

int db_meta_get(const char *key, char *out, size_t out_len);
int db_meta_set(const char *key, const char *value);
/* The HMAC key for ticket passes (hex), made on first start and kept in the database. */
int db_pass_key(char out[65]);
int db_schema_version(void);

#endif
