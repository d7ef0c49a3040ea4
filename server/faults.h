/* Test-only fault injection (--faults): the X-Fault request header, a comma-separated
 * combination of delay=MS, status=CODE, retry-after=S, drop, drop-rate=P (drop with
 * probability P in [0, 1]), truncate, garbage, big, content-type=TYPE and slowloris[=MS]
 * (every byte of the answer, status line and headers first, MS apart; default 1000).
 * Without --faults the header is ignored. */
#ifndef CARHELP_SERVER_FAULTS_H
#define CARHELP_SERVER_FAULTS_H

#include <microhttpd.h>
#include <stdbool.h>

struct request;

struct fault_plan {
    long delay_ms;
    unsigned status;     /* 0: none */
    int retry_after;     /* <0: none */
    long slowloris_ms;   /* per byte; 0: off */
    bool drop, truncate, garbage, big;
    char content_type[128];
};

/* Returns -1 (with a reason) when the header is malformed. */
int faults_parse(const char *header, struct fault_plan *plan, const char **why);
/* Runs the delay; returns false when the connection must be dropped. */
bool faults_before(struct request *req);
/* Replies the injected status, if any; returns true when it did. */
bool faults_reply(struct request *req);
/* Adjusts the reply (status, headers, body) after the handler. */
void faults_after(struct request *req);
/* A streamed response for truncate/big/slowloris, or NULL for the ordinary one. */
struct MHD_Response *faults_response(struct request *req);
/* slowloris over plain HTTP: writes the whole answer, status line and headers included, to
 * the socket one byte every slowloris ms (truncate: half the body) and returns true; the
 * caller then closes the connection without queueing resp. False: not asked for. */
bool faults_trickle(struct request *req, struct MHD_Response *resp);
/* Ends every sleep and stream early: the service is stopping. */
void faults_cancel_all(void);
bool faults_cancelled(void);

#endif
