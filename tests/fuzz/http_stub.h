/* The answers the HTTP stub (http_stub.c) hands out, one per request, in order. */
#ifndef CARHELP_FUZZ_HTTP_STUB_H
#define CARHELP_FUZZ_HTTP_STUB_H
#include <stddef.h>

struct stub_answer {
    long status;
    const char *content_type;
    const char *request_id;
    double retry_after_s;   /* -1: no Retry-After */
    const char *body;
    size_t body_len;
};

/* Queues the answers (kept by reference: they must outlive the requests). */
void stub_queue(const struct stub_answer *answers, int n);
/* Requests made since the last stub_queue. */
int stub_requests(void);

#endif
