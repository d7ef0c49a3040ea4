/* Orders, fees and tariffs through the API, and the fee audit of one order fetched from it.
 * Everything the service sends is checked for shape: a list without items, a cursor that
 * is not a string, a page that repeats itself are malformed responses (CH_SERVICE). */
#ifndef CARHELP_ORDERS_H
#define CARHELP_ORDERS_H
#include <stdbool.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "audit.h"
#include "http.h"

#define ORDERS_MAX_PAGES 1000   /* --all stops here rather than loop on a broken cursor */

struct order_query {
    const char *account_id;     /* required */
    const char *status;         /* NULL: any */
    time_t since;               /* -1: no lower bound */
    int limit;                  /* 1..100; 0: the service's default */
};

/* One page ({"items":[...],"next_cursor":...}); cursor NULL for the first. */
int orders_list_page(struct http_client *c, const struct order_query *q, const char *cursor,
                     cJSON **page, struct ch_error *err);
/* Every page, following next_cursor: {"items":[all],"next_cursor":null}. */
int orders_list_all(struct http_client *c, const struct order_query *q, cJSON **all,
                    struct ch_error *err);

int order_get(struct http_client *c, const char *order_id, cJSON **out, struct ch_error *err);
int order_get_fees(struct http_client *c, const char *order_id, cJSON **out,
                   struct ch_error *err);
int tariff_get(struct http_client *c, const char *tariff_id, cJSON **out, struct ch_error *err);

/* Audits orders fetched from the service; tariffs are fetched once per run. */
struct order_auditor {
    struct http_client *http;
    cJSON *tariffs;             /* object: tariff id -> tariff document */
};
void order_auditor_init(struct order_auditor *a, struct http_client *http);
void order_auditor_free(struct order_auditor *a);
/* GET the order, its fees and its tariff, then audit_order. *tariff_id (may be NULL, 65
 * bytes) gets the order's tariff. Errors: the API's (3, 4, 5, 6, 7, ...), 7 malformed, 11. */
int order_auditor_run(struct order_auditor *a, const char *order_id, struct audit_report *r,
                      char *tariff_id, struct ch_error *err);

#endif
