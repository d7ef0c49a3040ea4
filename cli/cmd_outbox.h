/* The CLI side of the outbox (core/outbox.h) that other command groups call. */
#ifndef CARHELP_CMD_OUTBOX_H
#define CARHELP_CMD_OUTBOX_H
#include "session.h"
#include "core/outbox.h"

/* After a create failed with `cause` (outbox_accepts(cause) must be true): saves the item in
 * the session's outbox, tells the user (stderr; with --json also {"outbox":{...}} on
 * stdout) and returns CH_OUTBOX (10), or the exit code of a failed save. */
int cmd_outbox_queue(struct session *s, struct outbox_item *it, const struct ch_error *cause);

/* The same from a request description (order dispute: method, path, body, key, profile and
 * API URL of the session are filled in when NULL). */
int cmd_outbox_queue_request(struct session *s, const struct outbox_request *r,
                             const struct ch_error *cause);

/* Called by main after every successful command: one stderr line when items are waiting. */
void outbox_mention_pending(struct session *s);

#endif
