/* The route table: method, path pattern ({id} matches one segment), handler and whether
 * a bearer token is needed. Unknown paths answer 404, known paths with another method 405. */
#ifndef CARHELP_SERVER_ROUTER_H
#define CARHELP_SERVER_ROUTER_H

#include <stddef.h>

struct request;

typedef void (*route_handler)(struct request *req);

/* The largest body the route for method and path accepts (BODY_MAX unless the route
 * says otherwise, e.g. attachment uploads). */
size_t router_body_limit(const char *method, const char *path);

/* Routes the request and runs its handler with the database lock held. */
void router_dispatch(struct request *req);

#endif
