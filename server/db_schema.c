#include "db_schema.h"

/* Times are integer seconds since the epoch; money integer fen; IDs text. */
static const char schema_v1[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"

    "CREATE TABLE accounts ("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL, member_id TEXT NOT NULL UNIQUE,"
    " phone TEXT NOT NULL UNIQUE, id_number TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('active','frozen','suspended')),"
    " balance_fen INTEGER NOT NULL DEFAULT 0, deposit_fen INTEGER NOT NULL DEFAULT 0,"
    " licence_status TEXT NOT NULL CHECK (licence_status IN ('verified','expired','pending')),"
    " member_level TEXT NOT NULL CHECK (member_level IN ('gold','silver','standard')),"
    " demo_otp TEXT," /* fixed login code of a demo account; NULL: random codes */
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"

    "CREATE TABLE staff ("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL, password_hash TEXT NOT NULL,"
    " active INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL);"

    "CREATE TABLE tokens ("
    " token_hash TEXT PRIMARY KEY," /* SHA-256 hex of the token; the token is never stored */
    " role TEXT NOT NULL CHECK (role IN ('customer','staff')),"
    " account_id TEXT REFERENCES accounts(id), staff_id TEXT REFERENCES staff(id),"
    " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, revoked_at INTEGER,"
    " CHECK ((role = 'customer') = (account_id IS NOT NULL)),"
    " CHECK ((role = 'staff') = (staff_id IS NOT NULL)));"

    "CREATE TABLE otps ("
    " id INTEGER PRIMARY KEY, phone TEXT NOT NULL, code_hash TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " failed_attempts INTEGER NOT NULL DEFAULT 0, used_at INTEGER);"
    "CREATE INDEX otps_phone ON otps(phone, created_at);"

    "CREATE TABLE verifications ("
    " token_hash TEXT NOT NULL REFERENCES tokens(token_hash) ON DELETE CASCADE,"
    " account_id TEXT NOT NULL REFERENCES accounts(id), method TEXT NOT NULL,"
    " verified_at INTEGER NOT NULL, PRIMARY KEY (token_hash, account_id));"

    /* One row per verification attempt; the lockout is computed per phone from these. */
    "CREATE TABLE verify_attempts ("
    " id INTEGER PRIMARY KEY, phone TEXT NOT NULL, method TEXT NOT NULL,"
    " success INTEGER NOT NULL, token_hash TEXT, at INTEGER NOT NULL);"
    "CREATE INDEX verify_attempts_phone ON verify_attempts(phone, at);"

    "CREATE TABLE tariffs ("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL, currency TEXT NOT NULL DEFAULT 'CNY',"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE tariff_rules ("
    " id INTEGER PRIMARY KEY, tariff_id TEXT NOT NULL REFERENCES tariffs(id),"
    " position INTEGER NOT NULL, kind TEXT NOT NULL, unit TEXT NOT NULL,"
    " price_fen INTEGER NOT NULL, rounding TEXT, cap_fen INTEGER, period_s INTEGER,"
    " UNIQUE (tariff_id, position));"

    "CREATE TABLE vehicles ("
    " id TEXT PRIMARY KEY, plate TEXT NOT NULL UNIQUE, model TEXT NOT NULL,"
    " energy TEXT NOT NULL CHECK (energy IN ('electric','petrol')),"
    " online INTEGER NOT NULL, locked INTEGER NOT NULL, doors_closed INTEGER NOT NULL,"
    " battery_pct INTEGER, fuel_pct INTEGER, lat REAL NOT NULL, lng REAL NOT NULL,"
    " last_seen_at INTEGER NOT NULL);"

    "CREATE TABLE orders ("
    " id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),"
    " vehicle_id TEXT NOT NULL REFERENCES vehicles(id),"
    " tariff_id TEXT NOT NULL REFERENCES tariffs(id),"
    " status TEXT NOT NULL CHECK (status IN ('reserved','active','completed','cancelled')),"
    " started_at INTEGER NOT NULL, ended_at INTEGER, distance_m INTEGER,"
    " start_lat REAL, start_lng REAL, end_lat REAL, end_lng REAL,"
    " created_at INTEGER NOT NULL);"
    "CREATE INDEX orders_account ON orders(account_id, started_at);"

    "CREATE TABLE fee_lines ("
    " id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders(id),"
    " kind TEXT NOT NULL CHECK (kind IN ('time','distance','service','insurance','discount',"
    "  'penalty','adjustment')),"
    " description TEXT NOT NULL, quantity REAL NOT NULL, unit TEXT NOT NULL,"
    " unit_price_fen INTEGER NOT NULL, amount_fen INTEGER NOT NULL,"
    " charged_at INTEGER NOT NULL);"
    "CREATE INDEX fee_lines_order ON fee_lines(order_id);"

    "CREATE TABLE payments ("
    " id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders(id),"
    " amount_fen INTEGER NOT NULL, method TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX payments_order ON payments(order_id);"

    "CREATE TABLE refunds ("
    " id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders(id),"
    " payment_id TEXT REFERENCES payments(id), amount_fen INTEGER NOT NULL,"
    " method TEXT NOT NULL, reason TEXT, at INTEGER NOT NULL);"
    "CREATE INDEX refunds_order ON refunds(order_id);"

    "CREATE TABLE tickets ("
    " id TEXT PRIMARY KEY, account_id TEXT REFERENCES accounts(id),"
    " created_by TEXT NOT NULL, created_by_role TEXT NOT NULL,"
    " category TEXT NOT NULL CHECK (category IN ('vehicle','billing','account','app',"
    "  'cleanliness','accident','complaint','feedback','other')),"
    " priority TEXT NOT NULL CHECK (priority IN ('low','normal','high','emergency')),"
    " status TEXT NOT NULL CHECK (status IN ('open','in_progress','waiting_customer',"
    "  'resolved','closed')),"
    " queue TEXT NOT NULL DEFAULT 'phone'," /* support channel the ticket waits in */
    " order_id TEXT REFERENCES orders(id), vehicle_id TEXT REFERENCES vehicles(id),"
    " message TEXT NOT NULL, lat REAL, lng REAL,"
    " short_code TEXT UNIQUE," /* 8 characters read out on the phone */
    " sla_due_at INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX tickets_account ON tickets(account_id, created_at);"
    "CREATE INDEX tickets_queue ON tickets(queue, status);"

    "CREATE TABLE ticket_events ("
    " id INTEGER PRIMARY KEY, ticket_id TEXT NOT NULL REFERENCES tickets(id),"
    " kind TEXT NOT NULL, actor TEXT NOT NULL, actor_role TEXT NOT NULL,"
    " body TEXT, at INTEGER NOT NULL);"
    "CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, at);"

    "CREATE TABLE attachments ("
    " id TEXT PRIMARY KEY, ticket_id TEXT NOT NULL REFERENCES tickets(id),"
    " filename TEXT NOT NULL, content_type TEXT NOT NULL, size INTEGER NOT NULL,"
    " sha256 TEXT NOT NULL, data BLOB NOT NULL, created_at INTEGER NOT NULL);"

    "CREATE TABLE ratings ("
    " ticket_id TEXT PRIMARY KEY REFERENCES tickets(id),"
    " score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5), comment TEXT,"
    " created_at INTEGER NOT NULL);"

    "CREATE TABLE vehicle_commands ("
    " id TEXT PRIMARY KEY, vehicle_id TEXT NOT NULL REFERENCES vehicles(id),"
    " type TEXT NOT NULL CHECK (type IN ('unlock','lock','honk','flash')),"
    " status TEXT NOT NULL CHECK (status IN ('queued','sent','succeeded','failed','expired')),"
    " failure_code TEXT, reason TEXT, order_id TEXT REFERENCES orders(id),"
    " requested_by TEXT NOT NULL, requested_by_role TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX vehicle_commands_vehicle ON vehicle_commands(vehicle_id, created_at);"

    /* Keys are scoped to the caller (subject) so two clients never share a key space. */
    "CREATE TABLE idempotency_keys ("
    " subject TEXT NOT NULL, key TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,"
    " body_hash TEXT NOT NULL, status INTEGER NOT NULL, response_body TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, PRIMARY KEY (subject, key));"
    "CREATE INDEX idempotency_keys_age ON idempotency_keys(created_at);"

    "CREATE TABLE audit_log ("
    " id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,"
    " actor_role TEXT NOT NULL, action TEXT NOT NULL, target_type TEXT NOT NULL,"
    " target_id TEXT NOT NULL, reason TEXT, request_id TEXT, details TEXT);";

/* Tickets: the evidence a create may carry (a JSON object, e.g. the fee audit's
 * findings of a dispute), and attachments looked up by ticket. */
static const char schema_v2_tickets[] =
    "ALTER TABLE tickets ADD COLUMN evidence TEXT;"
    "CREATE INDEX attachments_ticket ON attachments(ticket_id, created_at);";

/* Vehicles: the simulated vehicle's plan for a command, fixed when the command is
 * accepted, in milliseconds of the service clock (--vehicle-delay-ms is often under a
 * second): when it is sent (NULL: never, the vehicle is offline), when the vehicle answers
 * and what (NULL: it never answers). The visible status is derived from these on read. */
static const char schema_v3_vehicles[] =
    "ALTER TABLE vehicle_commands ADD COLUMN created_ms INTEGER;"
    "ALTER TABLE vehicle_commands ADD COLUMN sent_ms INTEGER;"
    "ALTER TABLE vehicle_commands ADD COLUMN answer_ms INTEGER;"
    "ALTER TABLE vehicle_commands ADD COLUMN answer TEXT;"
    "ALTER TABLE vehicle_commands ADD COLUMN answer_code TEXT;"
    "CREATE INDEX vehicle_commands_open ON vehicle_commands(vehicle_id, status);";

/* Speed: the verification lockout reads "failures since the last success" of a
 * phone; with only (phone, at) that scanned every attempt the phone ever had, so each
 * verification got slower than the one before. */
static const char schema_v4_verify_index[] =
    "CREATE INDEX verify_attempts_outcome ON verify_attempts(phone, success, id);";

/* Stolen-account freezes: when a freeze through POST /v1/accounts/{id}/freeze revoked the
 * account's tokens. While the account is frozen and this is set, it may not log in; an account
 * frozen without it (the seed's acc_1003, an operator's hold) still may. The index finds an
 * account's tokens to revoke them. */
static const char schema_v5_freeze[] =
    "ALTER TABLE accounts ADD COLUMN login_blocked_at INTEGER;"
    "CREATE INDEX tokens_account ON tokens(account_id);";

const char *const db_migrations[] = {schema_v1, schema_v2_tickets, schema_v3_vehicles,
                                     schema_v4_verify_index, schema_v5_freeze};
const int db_migration_count = (int)(sizeof db_migrations / sizeof db_migrations[0]);
