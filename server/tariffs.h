/* Tariffs: the pricing rules an order was billed under, readable by any caller so that a
 * client can audit its fees. */
#ifndef CARHELP_SERVER_TARIFFS_H
#define CARHELP_SERVER_TARIFFS_H

struct request;

void tariffs_get(struct request *req);   /* GET /v1/tariffs/{id} */

#endif
