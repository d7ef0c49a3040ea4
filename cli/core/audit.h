/* The fee audit: recomputes an order's fees from the tariff it was billed under and says
 * where the bill differs. Written from the tariff rules of api.md, independently of any
 * service's billing code (sharing it would make the audit blind to the service's mistakes).
 * Integer fen throughout; never floating point for money.
 *
 * The service's answers are untrusted input: a missing or non-integer amount is a malformed
 * response (CH_SERVICE, exit 7), never a crash or a guess; a rule the audit does not know
 * (kind, unit, rounding) means it cannot decide (CH_UNDECIDED, exit 11), never a verdict. */
#ifndef CARHELP_AUDIT_H
#define CARHELP_AUDIT_H
#include <stdbool.h>
#include <cjson/cJSON.h>
#include "error.h"

#define AUDIT_MAX_RULES 16
#define AUDIT_MAX_LINES 256
#define AUDIT_MAX_FINDINGS 64
/* A line dated later than this after the order's end is a charge after the end (billing
 * runs may close an order a little after the car is returned). */
#define AUDIT_LATE_GRACE_S (15 * 60)

enum audit_rule_kind { RULE_TIME, RULE_DISTANCE, RULE_SERVICE };
enum audit_rounding { ROUND_NONE, ROUND_CEIL, ROUND_FLOOR, ROUND_HALF_UP };

struct audit_rule {
    enum audit_rule_kind kind;
    long long unit_size;       /* seconds (time) or metres (distance) per unit; 1 for service */
    long long price_fen;       /* per unit */
    enum audit_rounding rounding;
    bool has_cap;
    long long cap_fen;         /* most the rule charges per period (per order when period 0) */
    long long period_s;        /* 0: the cap is per order */
};

struct audit_tariff {
    char id[65];
    int nrules;
    struct audit_rule rules[AUDIT_MAX_RULES];
};

/* Finding codes (stable: scripts read them). */
#define AUDIT_TIME_BEYOND_TRIP      "time_beyond_trip"
#define AUDIT_DISTANCE_BEYOND_TRIP  "distance_beyond_trip"
#define AUDIT_SERVICE_ABOVE_TARIFF  "service_above_tariff"
#define AUDIT_DUPLICATE_LINE        "duplicate_line"
#define AUDIT_CHARGED_AFTER_END     "charged_after_end"
#define AUDIT_TOTAL_MISMATCH        "total_mismatch"
#define AUDIT_REFUND_MISSING        "refund_missing"

struct audit_finding {
    char code[32];
    char message[256];
    long long expected_fen, billed_fen, difference_fen;  /* difference = billed - expected */
};

struct audit_report {
    char order_id[65];
    int nfindings;
    struct audit_finding findings[AUDIT_MAX_FINDINGS];
    long long expected_total_fen;  /* what the lines should add up to under the tariff */
    long long billed_total_fen;    /* the bill's total_fen */
    long long paid_fen, refunded_fen;
};

/* Tariff JSON ({id, currency, rules:[...]}) -> rules. 0, CH_SERVICE (malformed) or
 * CH_UNDECIDED ("cannot audit: unknown rule ..."). */
int audit_parse_tariff(const cJSON *tariff, struct audit_tariff *out, struct ch_error *err);

/* The fee of one rule for a trip of `seconds` and `metres` (the service rule ignores both):
 * time = started units x price, each started period capped at cap_fen; distance = metres x
 * price / unit, rounded as the rule says, capped per order. 0 and *fen, or CH_SERVICE when
 * the amount would not fit in 64 bits. */
int audit_rule_fee(const struct audit_rule *r, long long seconds, long long metres,
                   long long *fen, struct ch_error *err);

/* Audits one order: order JSON (GET /v1/orders/{id}), fees JSON (GET .../fees) and tariff
 * JSON (GET /v1/tariffs/{id}). 0 and *out filled (no findings = billed correctly), or
 * CH_SERVICE / CH_UNDECIDED with err. An order that is not completed cannot be audited. */
int audit_order(const cJSON *order, const cJSON *fees, const cJSON *tariff,
                struct audit_report *out, struct ch_error *err);

/* The checks audit_order makes of one document, for callers that have only it: the order
 * (completed, with a valid time range and distance: else 11 or 7) and the fees (every
 * amount an integer, every line dated: else 7; kinds are not checked, so `order fees` can
 * show lines of kinds the audit does not know). */
int audit_check_order(const cJSON *order, struct ch_error *err);
int audit_check_fees(const cJSON *fees, struct ch_error *err);

/* {"order_id","ok","findings":[{"code","message","expected_fen","billed_fen","difference_fen"}]} */
cJSON *audit_report_json(const struct audit_report *r);

#endif
