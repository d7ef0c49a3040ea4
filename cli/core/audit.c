/* The fee audit (see audit.h). The arithmetic follows api.md's tariff rules: time is started
 * minutes x rate, capped per started period; distance is metres x price / 1000 rounded half
 * up; the service fee is per order. Everything is integer fen with overflow checks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "audit.h"
#include "output.h"

#define JSON_SAFE_INT 9007199254740992.0  /* 2^53: beyond it a JSON number is not exact */

/* ---- strict readers: the service's answer is untrusted ---- */

/* An integer member: 0 and *out; 1 when null or absent and allowed; -1 when not an integer. */
static int strict_int(const cJSON *obj, const char *key, bool nullable, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return nullable ? 1 : -1;
    if (!cJSON_IsNumber(v))
        return -1;
    double d = v->valuedouble;
    if (!(d >= -JSON_SAFE_INT && d <= JSON_SAFE_INT) || d != (double)(long long)d)
        return -1;
    *out = (long long)d;
    return 0;
}

static const char *strict_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static int malformed(struct ch_error *err, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int malformed(struct ch_error *err, const char *what, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(err, CH_SERVICE, "malformed_response", what, "%s", msg);
}

static int cannot_audit(struct ch_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int cannot_audit(struct ch_error *err, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_set(err, CH_UNDECIDED, "cannot_audit", "audit", "cannot audit: %s", msg);
    err_hint(err, "ask support to check the fees by hand");
    return CH_UNDECIDED;
}

/* ---- the tariff ---- */

static int parse_rounding(const char *s, enum audit_rounding *out)
{
    static const struct { const char *name; enum audit_rounding r; } names[] = {
        {"ceil", ROUND_CEIL}, {"floor", ROUND_FLOOR}, {"half_up", ROUND_HALF_UP},
    };
    if (!s) {
        *out = ROUND_NONE;
        return 0;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].r;
            return 0;
        }
    return -1;
}

/* Unit of a time or distance rule -> seconds or metres per unit; 0 when unknown. */
static long long unit_size(enum audit_rule_kind kind, const char *unit)
{
    static const struct { enum audit_rule_kind kind; const char *unit; long long size; } units[] = {
        {RULE_TIME, "second", 1}, {RULE_TIME, "minute", 60}, {RULE_TIME, "hour", 3600},
        {RULE_DISTANCE, "m", 1}, {RULE_DISTANCE, "km", 1000}, {RULE_SERVICE, "order", 1},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (units[i].kind == kind && strcmp(unit, units[i].unit) == 0)
            return units[i].size;
    return 0;
}

static int parse_rule(const cJSON *j, int index, struct audit_rule *r, struct ch_error *err)
{
    static const char *const kinds[] = {"time", "distance", "service"};
    char where[32];
    snprintf(where, sizeof where, "rule %d", index + 1);
    const char *kind = strict_str(j, "kind"), *unit = strict_str(j, "unit");
    const cJSON *rounding_j = cJSON_GetObjectItemCaseSensitive(j, "rounding");
    if (!cJSON_IsObject(j) || !kind || !unit)
        return malformed(err, "tariff", "%s lacks its kind or unit", where);
    if (rounding_j && !cJSON_IsNull(rounding_j) && !cJSON_IsString(rounding_j))
        return malformed(err, "tariff", "%s: rounding is not a string", where);
    memset(r, 0, sizeof *r);
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] && strcmp(kind, kinds[k]) != 0)
        k++;
    if (k == sizeof kinds / sizeof kinds[0])
        return cannot_audit(err, "unknown rule \"%s\"", kind);
    r->kind = (enum audit_rule_kind)k;
    if (strict_int(j, "price_fen", false, &r->price_fen) != 0 || r->price_fen < 0)
        return malformed(err, "tariff", "%s: price_fen is not a non-negative integer", where);
    int cap = strict_int(j, "cap_fen", true, &r->cap_fen);
    int period = strict_int(j, "period_s", true, &r->period_s);
    if (cap < 0 || period < 0 || (cap == 0 && r->cap_fen < 0) || (period == 0 && r->period_s < 1))
        return malformed(err, "tariff", "%s: cap_fen or period_s is not a valid integer",
                         where);
    r->has_cap = cap == 0;
    if (period != 0)
        r->period_s = 0;
    r->unit_size = unit_size(r->kind, unit);
    if (!r->unit_size)
        return cannot_audit(err, "unknown rule \"%s\" unit \"%s\"", kind, unit);
    const char *rounding = cJSON_IsString(rounding_j) ? rounding_j->valuestring : NULL;
    if (parse_rounding(rounding, &r->rounding) != 0)
        return cannot_audit(err, "unknown rule \"%s\" rounding \"%s\"", kind, rounding);
    /* Forms whose meaning api.md does not give: refuse rather than guess. */
    if (r->rounding == ROUND_NONE && r->unit_size != 1)
        return cannot_audit(err, "unknown rule \"%s\" without rounding (unit \"%s\")", kind,
                            unit);
    if (period == 0 && (r->kind != RULE_TIME || !r->has_cap))
        return cannot_audit(err, "unknown rule \"%s\" with period_s", kind);
    if (r->kind == RULE_SERVICE && (r->has_cap || r->rounding != ROUND_NONE))
        return cannot_audit(err, "unknown rule \"%s\" with a cap or rounding", kind);
    return 0;
}

int audit_parse_tariff(const cJSON *tariff, struct audit_tariff *out, struct ch_error *err)
{
    const char *id = strict_str(tariff, "id"), *currency = strict_str(tariff, "currency");
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(tariff, "rules");
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(tariff) || !id || !currency || !cJSON_IsArray(rules))
        return malformed(err, "tariff", "the tariff lacks its id, currency or rules");
    snprintf(out->id, sizeof out->id, "%s", id);
    if (strcmp(currency, "CNY") != 0)
        return cannot_audit(err, "unknown currency \"%s\" (amounts are audited in fen)",
                            currency);
    int n = cJSON_GetArraySize(rules);
    if (n > AUDIT_MAX_RULES)
        return malformed(err, "tariff", "the tariff has too many rules");
    bool seen[3] = {false, false, false};
    for (int i = 0; i < n; i++) {
        struct audit_rule *r = &out->rules[i];
        int rc = parse_rule(cJSON_GetArrayItem(rules, i), i, r, err);
        if (rc)
            return rc;
        if (seen[r->kind])
            return cannot_audit(err, "two rules of kind \"%s\"",
                                r->kind == RULE_TIME ? "time"
                                : r->kind == RULE_DISTANCE ? "distance" : "service");
        seen[r->kind] = true;
        out->nrules++;
    }
    return 0;
}

/* ---- arithmetic ---- */

static int too_large(struct ch_error *err)
{
    return err_set(err, CH_SERVICE, "malformed_response", "audit",
                   "amounts too large to audit in 64-bit fen");
}

/* Whole units in `amount` base units (seconds, metres) as the rule rounds them. */
static long long round_div(long long num, long long den, enum audit_rounding rounding)
{
    switch (rounding) {
    case ROUND_CEIL:
        return num / den + (num % den != 0);
    case ROUND_HALF_UP:
        return num / den + (num % den >= den - num % den);  /* remainder >= half */
    case ROUND_FLOOR:
    case ROUND_NONE:
    default:
        return num / den;
    }
}

/* Time: the duration is rounded to whole units (started minutes with ceil), then priced. */
static int time_block_fee(const struct audit_rule *r, long long seconds, long long *fen)
{
    long long units = round_div(seconds, r->unit_size, r->rounding), v;
    if (__builtin_mul_overflow(units, r->price_fen, &v))
        return -1;
    if (r->has_cap && v > r->cap_fen)
        v = r->cap_fen;
    *fen = v;
    return 0;
}

int audit_rule_fee(const struct audit_rule *r, long long seconds, long long metres,
                   long long *fen, struct ch_error *err)
{
    long long v = 0;
    if (seconds < 0 || metres < 0)
        return err_set(err, CH_SERVICE, "malformed_response", "audit",
                       "negative duration or distance");
    switch (r->kind) {
    case RULE_SERVICE:
        v = r->price_fen;
        break;
    case RULE_TIME:
        if (r->has_cap && r->period_s > 0) {
            /* Each started period is priced on its own and capped at cap_fen. */
            long long full = seconds / r->period_s, rest = seconds % r->period_s, per, last = 0;
            if (time_block_fee(r, r->period_s, &per) != 0 ||
                (rest && time_block_fee(r, rest, &last) != 0) ||
                __builtin_mul_overflow(full, per, &v) || __builtin_add_overflow(v, last, &v))
                return too_large(err);
        } else if (time_block_fee(r, seconds, &v) != 0) {
            return too_large(err);
        }
        break;
    case RULE_DISTANCE: {
        /* Distance: the amount is rounded to whole fen (metres x price / 1000, half up). */
        long long num;
        if (__builtin_mul_overflow(metres, r->price_fen, &num))
            return too_large(err);
        v = round_div(num, r->unit_size, r->rounding);
        if (r->has_cap && v > r->cap_fen)
            v = r->cap_fen;
        break;
    }
    }
    *fen = v;
    return 0;
}

/* ---- the bill ---- */

struct line {
    const char *id, *kind, *description, *unit;
    double quantity;
    long long unit_price_fen, amount_fen;
    time_t charged_at;
    bool excluded;  /* already flagged (late or duplicate): not counted again */
};

static const char *const line_kinds[] = {"time", "distance", "service", "insurance",
                                         "discount", "penalty", "adjustment"};
#define NLINE_KINDS (sizeof line_kinds / sizeof line_kinds[0])

static int line_kind_index(const char *kind)
{
    for (size_t i = 0; i < NLINE_KINDS; i++)
        if (strcmp(kind, line_kinds[i]) == 0)
            return (int)i;
    return -1;
}

static int parse_line(const cJSON *j, int index, bool check_kind, struct line *l,
                      struct ch_error *err)
{
    char where[32];
    snprintf(where, sizeof where, "fee line %d", index + 1);
    memset(l, 0, sizeof *l);
    if (!cJSON_IsObject(j))
        return malformed(err, "fees", "%s is not an object", where);
    l->id = strict_str(j, "id");
    l->kind = strict_str(j, "kind");
    l->description = strict_str(j, "description");
    l->unit = strict_str(j, "unit");
    const char *at = strict_str(j, "charged_at");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(j, "quantity");
    if (!l->id || !l->kind)
        return malformed(err, "fees", "%s lacks its id or kind", where);
    if (strict_int(j, "amount_fen", false, &l->amount_fen) != 0)
        return malformed(err, "fees", "%s (%s): amount_fen is missing or not an integer", where,
                         l->id);
    if (strict_int(j, "unit_price_fen", false, &l->unit_price_fen) != 0)
        return malformed(err, "fees", "%s (%s): unit_price_fen is missing or not an integer",
                         where, l->id);
    if (!at || (l->charged_at = parse_rfc3339(at)) == (time_t)-1)
        return malformed(err, "fees", "%s (%s): charged_at is missing or not an RFC 3339 time",
                         where, l->id);
    l->quantity = cJSON_IsNumber(q) ? q->valuedouble : 0;
    if (!l->description)
        l->description = "";
    if (!l->unit)
        l->unit = "";
    if (check_kind && line_kind_index(l->kind) < 0)
        return cannot_audit(err, "unknown fee kind \"%s\" (line %s)", l->kind, l->id);
    return 0;
}

/* Sum of amount_fen over an array of payments or refunds. */
static int sum_money(const cJSON *fees, const char *key, long long *sum, struct ch_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(fees, key), *m;
    *sum = 0;
    if (!cJSON_IsArray(arr))
        return malformed(err, "fees", "the fees lack the %s list", key);
    cJSON_ArrayForEach(m, arr) {
        long long a;
        if (!cJSON_IsObject(m) || strict_int(m, "amount_fen", false, &a) != 0)
            return malformed(err, "fees", "a %s entry's amount_fen is missing or not an integer",
                             key);
        if (__builtin_add_overflow(*sum, a, sum))
            return too_large(err);
    }
    return 0;
}

static bool same_line(const struct line *a, const struct line *b)
{
    return strcmp(a->kind, b->kind) == 0 && strcmp(a->description, b->description) == 0 &&
           strcmp(a->unit, b->unit) == 0 && a->quantity == b->quantity &&
           a->unit_price_fen == b->unit_price_fen && a->amount_fen == b->amount_fen;
}

static struct audit_finding *add_finding(struct audit_report *r, const char *code,
                                         long long expected, long long billed)
{
    if (r->nfindings == AUDIT_MAX_FINDINGS)
        return NULL;
    struct audit_finding *f = &r->findings[r->nfindings++];
    memset(f, 0, sizeof *f);
    snprintf(f->code, sizeof f->code, "%s", code);
    f->expected_fen = expected;
    f->billed_fen = billed;
    f->difference_fen = billed - expected;
    return f;
}

/* Findings quote the service (line IDs, descriptions, the tariff's ID) and are printed on a
 * terminal: they are kept in the sanitiser's safe one-line form (found by tests/fuzz). */
static void one_line(char *s, size_t size)
{
    char *raw = xstrdup(s);
    term_safe(raw, s, size);
    free(raw);
}

static void yuan(long long fen, char *out, size_t outsz)
{
    format_fen(fen, out, outsz);
}

struct trip {
    const char *order_id;
    time_t started, ended;
    long long seconds, metres;
};

/* Lines dated after the order ended (beyond the grace) are charges after the end. */
static void flag_late_lines(struct line *lines, int n, const struct trip *t,
                            struct audit_report *r)
{
    for (int i = 0; i < n; i++) {
        struct line *l = &lines[i];
        if (l->amount_fen <= 0 || l->charged_at <= t->ended + AUDIT_LATE_GRACE_S)
            continue;
        struct audit_finding *f = add_finding(r, AUDIT_CHARGED_AFTER_END, 0, l->amount_fen);
        if (!f)
            return;
        char when[64], amount[32];
        format_rfc3339(l->charged_at, when, sizeof when);
        yuan(l->amount_fen, amount, sizeof amount);
        snprintf(f->message, sizeof f->message,
                 "%s line %s (%s) charged at %s, %lld min after the order ended", l->kind, l->id,
                 amount, when, (long long)(l->charged_at - t->ended) / 60);
        l->excluded = true;
    }
}

/* Duplicates of kind k: a line identical to an earlier one (all but id and time). For a
 * tariff kind only as much as the kind is billed above the tariff (`over`, -1: no limit). */
static long long flag_duplicates(struct line *lines, int n, const char *kind, long long over,
                                 struct audit_report *r)
{
    long long flagged = 0;
    for (int i = 0; i < n; i++) {
        struct line *l = &lines[i];
        if (l->excluded || strcmp(l->kind, kind) != 0 || l->amount_fen <= 0)
            continue;
        int first = -1;
        for (int j = 0; j < i && first < 0; j++)
            if (!lines[j].excluded && same_line(&lines[j], l))
                first = j;
        if (first < 0)
            continue;
        long long diff = l->amount_fen;
        if (over >= 0 && diff > over - flagged)
            diff = over - flagged;
        if (diff <= 0)
            break;
        struct audit_finding *f = add_finding(r, AUDIT_DUPLICATE_LINE, l->amount_fen - diff,
                                              l->amount_fen);
        if (!f)
            break;
        char amount[32];
        yuan(l->amount_fen, amount, sizeof amount);
        snprintf(f->message, sizeof f->message, "%s line %s (%s, \"%s\") repeats line %s",
                 l->kind, l->id, amount, l->description, lines[first].id);
        l->excluded = true;
        flagged += diff;
    }
    return flagged;
}

static long long billed_of_kind(const struct line *lines, int n, const char *kind)
{
    long long sum = 0;
    for (int i = 0; i < n; i++)
        if (!lines[i].excluded && strcmp(lines[i].kind, kind) == 0)
            sum += lines[i].amount_fen;
    return sum;
}

static const struct audit_rule *rule_of(const struct audit_tariff *tar, enum audit_rule_kind k)
{
    for (int i = 0; i < tar->nrules; i++)
        if (tar->rules[i].kind == k)
            return &tar->rules[i];
    return NULL;
}

static void kind_message(struct audit_finding *f, enum audit_rule_kind k, const struct trip *t,
                         const struct audit_tariff *tar, bool has_rule)
{
    char exp[32], billed[32];
    yuan(f->expected_fen, exp, sizeof exp);
    yuan(f->billed_fen, billed, sizeof billed);
    if (!has_rule) {
        snprintf(f->message, sizeof f->message, "%s billed %s but tariff %s has no %s rule",
                 k == RULE_TIME ? "time" : k == RULE_DISTANCE ? "distance" : "service fee",
                 billed, tar->id, k == RULE_TIME ? "time" : k == RULE_DISTANCE ? "distance"
                                                                              : "service");
        return;
    }
    switch (k) {
    case RULE_TIME:
        snprintf(f->message, sizeof f->message,
                 "time billed beyond the trip: %lld s (%lld started min) cost %s under %s, "
                 "billed %s", t->seconds, (t->seconds + 59) / 60, exp, tar->id, billed);
        break;
    case RULE_DISTANCE:
        snprintf(f->message, sizeof f->message,
                 "distance billed beyond the trip: %lld m cost %s under %s, billed %s",
                 t->metres, exp, tar->id, billed);
        break;
    case RULE_SERVICE:
        snprintf(f->message, sizeof f->message,
                 "service fee above the tariff: %s per order under %s, billed %s", exp, tar->id,
                 billed);
        break;
    }
}

/* Tariff kinds: billed above the tariff -> duplicates first, then what is left over. */
static int check_tariff_kinds(struct line *lines, int n, const struct trip *t,
                              const struct audit_tariff *tar, struct audit_report *r,
                              struct ch_error *err)
{
    static const struct { enum audit_rule_kind kind; const char *name, *code; } kinds[] = {
        {RULE_TIME, "time", AUDIT_TIME_BEYOND_TRIP},
        {RULE_DISTANCE, "distance", AUDIT_DISTANCE_BEYOND_TRIP},
        {RULE_SERVICE, "service", AUDIT_SERVICE_ABOVE_TARIFF},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        const struct audit_rule *rule = rule_of(tar, kinds[k].kind);
        long long expected = 0, billed = billed_of_kind(lines, n, kinds[k].name);
        if (rule && audit_rule_fee(rule, t->seconds, t->metres, &expected, err) != 0)
            return err->exit_code;
        if (billed <= expected)
            continue;
        billed -= flag_duplicates(lines, n, kinds[k].name, billed - expected, r);
        if (billed <= expected)
            continue;
        struct audit_finding *f = add_finding(r, kinds[k].code, expected, billed);
        if (f)
            kind_message(f, kinds[k].kind, t, tar, rule != NULL);
    }
    return 0;
}

static int parse_trip(const cJSON *order, struct trip *t, struct ch_error *err)
{
    const char *id = strict_str(order, "id"), *status = strict_str(order, "status");
    const char *started = strict_str(order, "started_at"), *ended = strict_str(order, "ended_at");
    memset(t, 0, sizeof *t);
    if (!cJSON_IsObject(order) || !id || !status)
        return malformed(err, "order", "the order lacks its id or status");
    t->order_id = id;
    if (strcmp(status, "completed") != 0) {
        err_set(err, CH_UNDECIDED, "cannot_audit", "audit",
                "cannot audit: order %s is %s; fees are final once it is completed", id, status);
        return CH_UNDECIDED;
    }
    if (!started || !ended || (t->started = parse_rfc3339(started)) == (time_t)-1 ||
        (t->ended = parse_rfc3339(ended)) == (time_t)-1 || t->ended < t->started)
        return malformed(err, "order", "order %s: started_at/ended_at missing or not a valid "
                         "time range", id);
    t->seconds = (long long)(t->ended - t->started);
    if (strict_int(order, "distance_m", false, &t->metres) != 0 || t->metres < 0)
        return malformed(err, "order", "order %s: distance_m is missing or not a non-negative "
                         "integer", id);
    return 0;
}

static int parse_lines(const cJSON *fees, bool check_kind, struct line *lines, int *n,
                       struct ch_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(fees, "lines");
    if (!cJSON_IsObject(fees) || !cJSON_IsArray(arr))
        return malformed(err, "fees", "the fees lack the lines list");
    *n = cJSON_GetArraySize(arr);
    if (*n > AUDIT_MAX_LINES)
        return malformed(err, "fees", "too many fee lines to audit");
    for (int i = 0; i < *n; i++) {
        int rc = parse_line(cJSON_GetArrayItem(arr, i), i, check_kind, &lines[i], err);
        if (rc)
            return rc;
    }
    return 0;
}

int audit_order(const cJSON *order, const cJSON *fees, const cJSON *tariff,
                struct audit_report *out, struct ch_error *err)
{
    struct trip t;
    struct audit_tariff tar;
    struct line *lines = calloc(AUDIT_MAX_LINES, sizeof *lines);
    int n = 0, rc;
    long long total, paid, refunded, sum = 0, line_over = 0;
    memset(out, 0, sizeof *out);
    if (!lines)
        abort();
    if ((rc = parse_trip(order, &t, err)) || (rc = parse_lines(fees, true, lines, &n, err)) ||
        (rc = sum_money(fees, "payments", &paid, err)) ||
        (rc = sum_money(fees, "refunds", &refunded, err)))
        goto done;
    if (strict_int(fees, "total_fen", false, &total) != 0) {
        rc = malformed(err, "fees", "total_fen is missing or not an integer");
        goto done;
    }
    if ((rc = audit_parse_tariff(tariff, &tar, err)))
        goto done;
    snprintf(out->order_id, sizeof out->order_id, "%s", t.order_id);
    out->billed_total_fen = total;
    out->paid_fen = paid;
    out->refunded_fen = refunded;
    for (int i = 0; i < n; i++)
        if (__builtin_add_overflow(sum, lines[i].amount_fen, &sum)) {
            rc = too_large(err);
            goto done;
        }
    flag_late_lines(lines, n, &t, out);
    if ((rc = check_tariff_kinds(lines, n, &t, &tar, out, err)))
        goto done;
    /* Kinds the tariff does not price (insurance, penalty, ...): taken as billed, except
     * repeated identical charges. */
    for (size_t k = 3; k < NLINE_KINDS; k++)
        flag_duplicates(lines, n, line_kinds[k], -1, out);
    for (int i = 0; i < out->nfindings; i++)
        line_over += out->findings[i].difference_fen;
    out->expected_total_fen = sum - line_over;
    if (sum != total) {
        struct audit_finding *f = add_finding(out, AUDIT_TOTAL_MISMATCH, sum, total);
        char a[32], b[32];
        yuan(sum, a, sizeof a);
        yuan(total, b, sizeof b);
        if (f)
            snprintf(f->message, sizeof f->message,
                     "the lines add up to %s but the bill's total is %s", a, b);
    }
    /* Paid (net of refunds) more than the bill itself asks: a credit was never refunded. */
    if (paid - refunded > total) {
        struct audit_finding *f = add_finding(out, AUDIT_REFUND_MISSING, total, paid - refunded);
        char a[32], b[32], c[32];
        yuan(paid, a, sizeof a);
        yuan(refunded, b, sizeof b);
        yuan(total, c, sizeof c);
        if (f)
            snprintf(f->message, sizeof f->message,
                     "paid %s, refunded %s, but the bill's total is %s: a refund is missing",
                     a, b, c);
    }
    one_line(out->order_id, sizeof out->order_id);
    for (int i = 0; i < out->nfindings; i++)
        one_line(out->findings[i].message, sizeof out->findings[i].message);
    rc = 0;
done:
    free(lines);
    return rc;
}

int audit_check_order(const cJSON *order, struct ch_error *err)
{
    struct trip t;
    return parse_trip(order, &t, err);
}

int audit_check_fees(const cJSON *fees, struct ch_error *err)
{
    struct line *lines = calloc(AUDIT_MAX_LINES, sizeof *lines);
    long long sum;
    int n, rc;
    if (!lines)
        abort();
    if (!(rc = parse_lines(fees, false, lines, &n, err)) &&
        !(rc = sum_money(fees, "payments", &sum, err)) &&
        !(rc = sum_money(fees, "refunds", &sum, err)) &&
        strict_int(fees, "total_fen", false, &sum) != 0)
        rc = malformed(err, "fees", "total_fen is missing or not an integer");
    free(lines);
    return rc;
}

cJSON *audit_report_json(const struct audit_report *r)
{
    cJSON *doc = cJSON_CreateObject(), *arr;
    cJSON_AddStringToObject(doc, "order_id", r->order_id);
    cJSON_AddBoolToObject(doc, "ok", r->nfindings == 0);
    arr = cJSON_AddArrayToObject(doc, "findings");
    for (int i = 0; i < r->nfindings; i++) {
        const struct audit_finding *f = &r->findings[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", f->code);
        cJSON_AddStringToObject(o, "message", f->message);
        cJSON_AddNumberToObject(o, "expected_fen", (double)f->expected_fen);
        cJSON_AddNumberToObject(o, "billed_fen", (double)f->billed_fen);
        cJSON_AddNumberToObject(o, "difference_fen", (double)f->difference_fen);
        cJSON_AddItemToArray(arr, o);
    }
    return doc;
}
