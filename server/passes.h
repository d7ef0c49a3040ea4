/* QR passes for tickets: a compact signed string (the QR code's payload) and the ticket's
 * 8-character short code read out on the phone, and the check of either.
 *
 * A pass is base64url (no padding) of: version byte 1, ticket-ID length byte, the ticket
 * ID, issued-at and expires-at (big-endian uint32 seconds), then the first PASS_SIG_LEN bytes
 * of HMAC-SHA-256 over everything before it, keyed with the database's pass-signing key. */
#ifndef CARHELP_SERVER_PASSES_H
#define CARHELP_SERVER_PASSES_H

#include <stddef.h>
#include <stdint.h>

struct request;

#define PASS_VERSION 1
#define PASS_SIG_LEN 16              /* 128-bit truncated HMAC */
#define PASS_TTL_S (7 * 24 * 3600)   /* a pass lasts a week */
#define PASS_MAX_TEXT 1024

void passes_get(struct request *req);     /* GET /v1/tickets/{id}/pass */
void passes_verify(struct request *req);  /* POST /v1/tickets/passes/verify */

/* Exposed for tests and tools: builds the pass text for a ticket (out >= 256 bytes). */
int pass_make(const char *ticket_id, int64_t issued, int64_t expires, char *out, size_t out_len);

#endif
