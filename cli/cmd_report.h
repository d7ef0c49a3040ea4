/* Shared by report, emergency and the ticket group: delivering a ticket create (with its
 * attachments) and printing a ticket. */
#ifndef CARHELP_CMD_REPORT_H
#define CARHELP_CMD_REPORT_H
#include <cjson/cJSON.h>
#include "session.h"
#include "core/outbox.h"

#define TICKET_MESSAGE_MAX 4000   /* characters, the service's limit (openapi maxLength) */
#define RATING_COMMENT_MAX 2000

/* Sends the item (progress on stderr for large files). 0: *answer is the service's result.
 * A failure the outbox takes: the item is saved and CH_OUTBOX returned (message printed).
 * Any other failure is reported and its exit code returned. */
int ticket_send_item(struct session *s, struct outbox_item *it, cJSON **answer);

/* "Ticket tkt_... filed" + SLA lines for a created ticket (human output). */
void ticket_print_created(struct session *s, const cJSON *t);

/* Code points of UTF-8 text; -1 when it is not valid UTF-8. */
long utf8_chars(const char *s);

#endif
