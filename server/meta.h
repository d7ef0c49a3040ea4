/* GET /v1/meta: what a client checks before anything else (version, clock, zone). */
#ifndef CARHELP_SERVER_META_H
#define CARHELP_SERVER_META_H

struct request;

#define API_VERSION "1.0"
#define MIN_CLIENT_VERSION "0.1.0"

void meta_get(struct request *req);

#endif
