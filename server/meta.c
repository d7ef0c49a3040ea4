#include "meta.h"

#include "clock.h"
#include "config.h"
#include "db.h"
#include "http.h"

void meta_get(struct request *req)
{
    char now[RFC3339_LEN];
    cJSON *out = cJSON_CreateObject();
    clock_format(clock_now(), now);
    cJSON_AddStringToObject(out, "api_version", API_VERSION);
    cJSON_AddStringToObject(out, "service", SERVER_NAME " " CARHELP_VERSION);
    cJSON_AddStringToObject(out, "server_time", now);
    cJSON_AddStringToObject(out, "time_zone", SERVICE_TIME_ZONE);
    cJSON_AddStringToObject(out, "min_client_version", MIN_CLIENT_VERSION);
    cJSON_AddNumberToObject(out, "idempotency_key_ttl_s", IDEMPOTENCY_TTL_S);
    reply_json(req, 200, out);
}
