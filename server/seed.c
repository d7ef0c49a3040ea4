#include "seed.h"

#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "db.h"

/* cols is the statement's parameter count; a fill function completes what the static
 * rows leave out. Rows are text; SQLite's column affinity stores numbers as numbers. NULL is SQL NULL. */
#define MAX_COLS 13
struct table {
    const char *sql;
    int cols;
    const char *rows[12][MAX_COLS];
    int nrows;
};

static const struct table accounts = {
    "INSERT INTO accounts(id, name, member_id, phone, id_number, status, balance_fen,"
    " deposit_fen, licence_status, member_level, demo_otp, created_at, updated_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
    13,
    {
        {"acc_1001", "王小明", "M100001", "13800138000", "11010519491231002X", "active", "5800",
         "0", "verified", "gold", "246810"},
        {"acc_1002", "李娜", "M100002", "13912345678", "310115198805123454", "active", "12000",
         "0", "verified", "silver", "135790"},
        {"acc_1003", "张伟", "M100003", "13700001111", "44030419950101123X", "frozen", "0", "0",
         "expired", "standard", "112233"},
    },
    3,
};
static const char *const account_created[] = {
    "2024-03-15T10:00:00+08:00", "2024-06-02T14:30:00+08:00", "2025-01-20T09:15:00+08:00"};

static const struct table tariffs = {
    "INSERT INTO tariffs(id, name, currency, created_at) VALUES (?,?,?,?)",
    4,
    {{"tar_std", "Standard", "CNY", "1704038400"}},
    1,
};

/* time: per started minute, capped per started 24 h; distance: km × 99 fen, half up. */
static const struct table tariff_rules = {
    "INSERT INTO tariff_rules(tariff_id, position, kind, unit, price_fen, rounding, cap_fen,"
    " period_s) VALUES (?,?,?,?,?,?,?,?)",
    8,
    {
        {"tar_std", "1", "time", "minute", "35", "ceil", "30000", "86400"},
        {"tar_std", "2", "distance", "km", "99", "half_up", NULL, NULL},
        {"tar_std", "3", "service", "order", "300", NULL, NULL, NULL},
    },
    3,
};

/* Vehicles: last_seen_at (column 12) is filled in relative to the service start. */
static const struct table vehicles = {
    "INSERT INTO vehicles(id, plate, model, energy, online, locked, doors_closed, battery_pct,"
    " fuel_pct, lat, lng, last_seen_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
    12,
    {
        {"veh_001", "京AD12345", "BYD Dolphin", "electric", "1", "1", "1", "76", NULL,
         "39.9087", "116.3975"},
        {"veh_002", "京B67890", "Volkswagen Lavida", "petrol", "0", "1", "1", NULL, "12",
         "39.999", "116.3266"},
        {"veh_003", "沪AD54321", "GAC Aion S", "electric", "1", "1", "1", "54", NULL,
         "31.2304", "121.4737"},
    },
    3,
};
static const int vehicle_seen_ago_s[] = {0, 2 * 3600, 0};

/* Orders: started_at, ended_at (RFC 3339 or NULL) are columns 5 and 6. */
static const struct table orders = {
    "INSERT INTO orders(id, account_id, vehicle_id, tariff_id, status, started_at, ended_at,"
    " distance_m, start_lat, start_lng, end_lat, end_lng, created_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
    13,
    {
        {"ord_20261101_0001", "acc_1001", "veh_001", "tar_std", "completed",
         "2026-11-01T09:12:00+08:00", "2026-11-01T09:54:00+08:00", "18300", "39.9163",
         "116.3972", "39.9087", "116.3975"},
        {"ord_20261102_0002", "acc_1002", "veh_003", "tar_std", "completed",
         "2026-11-02T18:05:00+08:00", "2026-11-02T18:40:00+08:00", "12000", "31.2397",
         "121.4998", "31.2304", "121.4737"},
        {"ord_20261103_0003", "acc_1002", "veh_003", "tar_std", "completed",
         "2026-11-03T07:30:00+08:00", "2026-11-03T07:50:00+08:00", "5250", "31.2243",
         "121.4470", "31.2304", "121.4737"},
        {"ord_20261125_0004", "acc_1001", "veh_001", "tar_std", "active", NULL, NULL, NULL,
         "39.9087", "116.3975", NULL, NULL},
    },
    4,
};
#define ACTIVE_ORDER_AGO_S (25 * 60)

/* Fee lines: charged_at (column 8) is the order's end. */
static const struct table fee_lines = {
    "INSERT INTO fee_lines(id, order_id, kind, description, quantity, unit, unit_price_fen,"
    " amount_fen, charged_at) VALUES (?,?,?,?,?,?,?,?,?)",
    9,
    {
        {"fee_0001", "ord_20261101_0001", "time", "Time, 42 started minutes", "42", "minute",
         "35", "1470"},
        {"fee_0002", "ord_20261101_0001", "distance", "Distance, 18.3 km", "18.3", "km", "99",
         "1812"},
        {"fee_0003", "ord_20261101_0001", "service", "Service fee", "1", "order", "300", "300"},
        {"fee_0004", "ord_20261102_0002", "time", "Time, 95 started minutes", "95", "minute",
         "35", "3325"},
        {"fee_0005", "ord_20261102_0002", "distance", "Distance, 12.0 km", "12", "km", "99",
         "1188"},
        {"fee_0006", "ord_20261102_0002", "service", "Service fee", "1", "order", "300", "300"},
        {"fee_0007", "ord_20261103_0003", "time", "Time, 20 started minutes", "20", "minute",
         "35", "700"},
        {"fee_0008", "ord_20261103_0003", "distance", "Distance, 5.25 km", "5.25", "km", "99",
         "520"},
        {"fee_0009", "ord_20261103_0003", "service", "Service fee", "1", "order", "300", "300"},
        {"fee_0010", "ord_20261103_0003", "service", "Service fee", "1", "order", "300", "300"},
    },
    10,
};

static const struct table payments = {
    "INSERT INTO payments(id, order_id, amount_fen, method, at) VALUES (?,?,?,?,?)",
    5,
    {
        {"pay_0001", "ord_20261101_0001", "3582", "wallet", "2026-11-01T09:55:00+08:00"},
        {"pay_0002", "ord_20261102_0002", "4813", "wechat_pay", "2026-11-02T18:41:00+08:00"},
        {"pay_0003", "ord_20261103_0003", "1820", "alipay", "2026-11-03T07:51:00+08:00"},
    },
    3,
};

static int insert_row(sqlite3_stmt *st, int cols, const char *const *values)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    db_bind_texts(st, cols, values);
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

/* Inserts every row; fill (may be NULL) completes row i into a private copy first. */
static int insert_table(const struct table *t, void (*fill)(int i, const char **row,
                                                             char buf[][40]))
{
    sqlite3_stmt *st = db_prepare(t->sql);
    int rc = st ? 0 : -1;
    for (int i = 0; rc == 0 && i < t->nrows; i++) {
        const char *row[MAX_COLS];
        char buf[4][40];
        memcpy(row, t->rows[i], sizeof t->rows[i]);
        if (fill)
            fill(i, row, buf);
        rc = insert_row(st, t->cols, row);
        if (rc != 0)
            fprintf(stderr, "carhelp-server: seed: %s\n", sqlite3_errmsg(db_handle()));
    }
    db_release(st);
    return rc;
}

static void epoch_text(int64_t t, char out[40])
{
    snprintf(out, 40, "%lld", (long long)t);
}

/* Converts an RFC 3339 column to epoch seconds in place (NULL stays NULL). */
static void convert_time(const char **row, int col, char out[40])
{
    int64_t t;
    if (row[col] && clock_parse(row[col], &t) == 0) {
        epoch_text(t, out);
        row[col] = out;
    }
}

static void fill_account(int i, const char **row, char buf[][40])
{
    row[11] = account_created[i];
    convert_time(row, 11, buf[0]);
    row[12] = row[11];
}

static void fill_vehicle(int i, const char **row, char buf[][40])
{
    epoch_text(clock_started() - vehicle_seen_ago_s[i], buf[0]);
    row[11] = buf[0];
}

static void fill_order(int i, const char **row, char buf[][40])
{
    (void)i;
    if (!row[5]) {
        epoch_text(clock_started() - ACTIVE_ORDER_AGO_S, buf[0]);
        row[5] = buf[0];
    } else {
        convert_time(row, 5, buf[0]);
    }
    convert_time(row, 6, buf[1]);
    row[12] = row[5];
}

static void fill_fee_line(int i, const char **row, char buf[][40])
{
    int64_t ended = db_query_int("SELECT ended_at FROM orders WHERE id = ?", row[1], 0);
    (void)i;
    epoch_text(ended, buf[0]);
    row[8] = buf[0];
}

static void fill_payment(int i, const char **row, char buf[][40])
{
    (void)i;
    convert_time(row, 4, buf[0]);
}

static int insert_staff(void)
{
    char hash[256], created[40];
    if (auth_hash_password("field01-demo-pass", hash, sizeof hash) != 0) {
        fprintf(stderr, "carhelp-server: seed: cannot hash the staff password\n");
        return -1;
    }
    sqlite3_stmt *st = db_prepare(
        "INSERT INTO staff(id, name, password_hash, created_at) VALUES (?,?,?,?)");
    epoch_text(clock_started(), created);
    int rc = st ? insert_row(st, 4, (const char *const[]){"field01", "field01", hash, created})
                : -1;
    db_release(st);
    return rc;
}

static int insert_demo(void)
{
    return insert_table(&accounts, fill_account) || insert_staff() ||
                   insert_table(&tariffs, NULL) || insert_table(&tariff_rules, NULL) ||
                   insert_table(&vehicles, fill_vehicle) || insert_table(&orders, fill_order) ||
                   insert_table(&fee_lines, fill_fee_line) ||
                   insert_table(&payments, fill_payment)
               ? -1
               : 0;
}

bool seed_known(const char *name)
{
    return strcmp(name, "demo") == 0;
}

int seed_load(const char *name)
{
    char done[64];
    if (!seed_known(name))
        return -1;
    if (db_meta_get("seed_demo", done, sizeof done) == 0)
        return 0;
    if (db_exec("BEGIN IMMEDIATE") != 0)
        return -1;
    epoch_text(clock_started(), done);
    if (insert_demo() != 0 || db_meta_set("seed_demo", done) != 0) {
        db_exec("ROLLBACK");
        return -1;
    }
    return db_exec("COMMIT");
}
