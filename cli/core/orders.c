/* Orders, fees and tariffs through the API (see orders.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "orders.h"
#include "api.h"
#include "buf.h"
#include "output.h"

static int malformed(struct ch_error *err, const char *what, const char *why)
{
    return err_set(err, CH_SERVICE, "malformed_response", what, "%s", why);
}

/* The ID as one path segment (IDs are validated before, so this is belt and braces). */
static void put_segment(struct buf *b, const char *prefix, const char *id, const char *suffix)
{
    buf_puts(b, prefix);
    buf_put_urlencoded(b, id);
    buf_puts(b, suffix ? suffix : "");
}

int orders_list_page(struct http_client *c, const struct order_query *q, const char *cursor,
                     cJSON **page, struct ch_error *err)
{
    struct buf path = BUF_INIT;
    char sep = '?';
    buf_init(&path);
    put_segment(&path, "/v1/accounts/", q->account_id, "/orders");
    if (q->limit > 0) {
        buf_printf(&path, "%climit=%d", sep, q->limit);
        sep = '&';
    }
    if (q->status) {
        buf_printf(&path, "%cstatus=", sep);
        buf_put_urlencoded(&path, q->status);
        sep = '&';
    }
    if (q->since != (time_t)-1) {
        char since[64];
        format_rfc3339(q->since, since, sizeof since);
        buf_printf(&path, "%csince=", sep);
        buf_put_urlencoded(&path, since);
        sep = '&';
    }
    if (cursor) {
        buf_printf(&path, "%ccursor=", sep);
        buf_put_urlencoded(&path, cursor);
    }
    int rc = api_get(c, path.data, "list orders", page, err);
    buf_free(&path);
    if (rc)
        return rc;
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(*page, "items");
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(*page, "next_cursor");
    const cJSON *it;
    bool ok = cJSON_IsArray(items) && (cJSON_IsNull(next) || (cJSON_IsString(next) &&
                                                              next->valuestring[0]));
    cJSON_ArrayForEach(it, items)
        if (!cJSON_IsObject(it) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "id")))
            ok = false;
    if (!ok) {
        cJSON_Delete(*page);
        *page = NULL;
        return malformed(err, "list orders",
                         "the list lacks items or next_cursor, or an item has no id");
    }
    return 0;
}

int orders_list_all(struct http_client *c, const struct order_query *q, cJSON **all,
                    struct ch_error *err)
{
    cJSON *doc = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(doc, "items");
    char *cursor = NULL;
    int rc = 0;
    for (int pages = 0;; pages++) {
        cJSON *page = NULL;
        if (pages == ORDERS_MAX_PAGES) {
            rc = malformed(err, "list orders", "the service's cursors never reach the end");
            break;
        }
        if ((rc = orders_list_page(c, q, cursor, &page, err)))
            break;
        cJSON *it, *arr = cJSON_GetObjectItemCaseSensitive(page, "items");
        while ((it = cJSON_DetachItemFromArray(arr, 0)))
            cJSON_AddItemToArray(items, it);
        const cJSON *next = cJSON_GetObjectItemCaseSensitive(page, "next_cursor");
        char *following = cJSON_IsString(next) ? xstrdup(next->valuestring) : NULL;
        cJSON_Delete(page);
        if (following && cursor && strcmp(following, cursor) == 0) {
            free(following);
            rc = malformed(err, "list orders", "the service gave the same cursor twice");
            break;
        }
        free(cursor);
        cursor = following;
        if (!cursor)
            break;
    }
    free(cursor);
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    cJSON_AddNullToObject(doc, "next_cursor");
    *all = doc;
    return 0;
}

static int get_one(struct http_client *c, const char *prefix, const char *id,
                   const char *suffix, const char *what, cJSON **out, struct ch_error *err)
{
    struct buf path = BUF_INIT;
    buf_init(&path);
    put_segment(&path, prefix, id, suffix);
    int rc = api_get(c, path.data, what, out, err);
    buf_free(&path);
    if (!rc && !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return malformed(err, what, "expected a JSON object");
    }
    return rc;
}

int order_get(struct http_client *c, const char *order_id, cJSON **out, struct ch_error *err)
{
    return get_one(c, "/v1/orders/", order_id, NULL, "show order", out, err);
}

int order_get_fees(struct http_client *c, const char *order_id, cJSON **out,
                   struct ch_error *err)
{
    return get_one(c, "/v1/orders/", order_id, "/fees", "show fees", out, err);
}

int tariff_get(struct http_client *c, const char *tariff_id, cJSON **out, struct ch_error *err)
{
    return get_one(c, "/v1/tariffs/", tariff_id, NULL, "get tariff", out, err);
}

void order_auditor_init(struct order_auditor *a, struct http_client *http)
{
    a->http = http;
    a->tariffs = cJSON_CreateObject();
}

void order_auditor_free(struct order_auditor *a)
{
    cJSON_Delete(a->tariffs);
    a->tariffs = NULL;
}

int order_auditor_run(struct order_auditor *a, const char *order_id, struct audit_report *r,
                      char *tariff_id, struct ch_error *err)
{
    cJSON *order = NULL, *fees = NULL, *tariff;
    int rc = order_get(a->http, order_id, &order, err);
    const char *tid = rc ? NULL : cJSON_GetStringValue(
                                      cJSON_GetObjectItemCaseSensitive(order, "tariff_id"));
    if (!rc && (!tid || !*tid || strlen(tid) > 64))
        rc = malformed(err, "audit", "the order has no tariff_id");
    if (!rc && tariff_id)
        snprintf(tariff_id, 65, "%s", tid);
    /* An unfinished order cannot be audited: say so without fetching its fees. */
    if (!rc)
        rc = audit_check_order(order, err);
    if (!rc)
        rc = order_get_fees(a->http, order_id, &fees, err);
    if (!rc && !(tariff = cJSON_GetObjectItemCaseSensitive(a->tariffs, tid))) {
        if (!(rc = tariff_get(a->http, tid, &tariff, err)))
            cJSON_AddItemToObject(a->tariffs, tid, tariff);
    }
    if (!rc)
        rc = audit_order(order, fees, tariff, r, err);
    cJSON_Delete(order);
    cJSON_Delete(fees);
    return rc;
}
