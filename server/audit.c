#include "audit.h"

#include <stdlib.h>

#include "db.h"

int audit_write(const struct audit_entry *e, cJSON *details)
{
    char *text = details ? cJSON_PrintUnformatted(details) : NULL;
    sqlite3_stmt *st = db_prepare(
        "INSERT INTO audit_log(at, actor, actor_role, action, target_type, target_id, reason,"
        " request_id, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    int rc = -1;
    if (st) {
        db_bind_texts(st, 9, (const char *const[]){NULL, e->actor, e->role, e->action,
                                                    e->target_type, e->target_id,
                                                    e->reason && *e->reason ? e->reason : NULL,
                                                    e->request_id, text});
        sqlite3_bind_int64(st, 1, e->at);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        db_release(st);
    }
    free(text);
    cJSON_Delete(details);
    return rc;
}
