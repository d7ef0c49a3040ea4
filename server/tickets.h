/* Tickets: reports, complaints and disputes with their event history, comments, evidence
 * attachments and the satisfaction rating. Customers see and act on their own tickets;
 * staff on all. Creates honour Idempotency-Key (idempotency.h).
 *
 * Priority and SLA (api.md): category accident is always emergency; the SLA is due
 * 30 minutes after creation for emergency, 4 h for high, 24 h for normal and low. */
#ifndef CARHELP_SERVER_TICKETS_H
#define CARHELP_SERVER_TICKETS_H

#include <stddef.h>

struct request;

#define TICKET_MESSAGE_MAX 4000           /* characters (UTF-8 code points) */
#define TICKET_COMMENT_MAX 4000
#define RATING_COMMENT_MAX 2000
#define ATTACHMENT_MAX_BYTES (10u * 1024u * 1024u)
#define ATTACHMENTS_PER_TICKET 5
/* Body cap of the upload route: one file plus the multipart framing. */
#define ATTACHMENT_BODY_MAX (ATTACHMENT_MAX_BYTES + 64u * 1024u)

void tickets_create(struct request *req);        /* POST /v1/tickets */
void tickets_list(struct request *req);          /* GET /v1/tickets */
void tickets_get(struct request *req);           /* GET /v1/tickets/{id} */
void tickets_update(struct request *req);        /* PATCH /v1/tickets/{id} (staff: status) */
void tickets_comment(struct request *req);       /* POST /v1/tickets/{id}/comments */
void tickets_attach(struct request *req);        /* POST /v1/tickets/{id}/attachments */
void tickets_rate(struct request *req);          /* POST /v1/tickets/{id}/rating */

#endif
