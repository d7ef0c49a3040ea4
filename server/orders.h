/* Orders and their fees: a customer sees their own; staff see an account's orders once this
 * token verified the account (the rule of GET /v1/accounts/{id}). */
#ifndef CARHELP_SERVER_ORDERS_H
#define CARHELP_SERVER_ORDERS_H

struct request;

#define ORDERS_LIMIT_DEFAULT 20
#define ORDERS_LIMIT_MAX 100

void orders_list(struct request *req);   /* GET /v1/accounts/{id}/orders */
void orders_get(struct request *req);    /* GET /v1/orders/{id} */
void orders_fees(struct request *req);   /* GET /v1/orders/{id}/fees */

#endif
