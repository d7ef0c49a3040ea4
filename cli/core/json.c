/* Defensive readers over cJSON: the service is untrusted input. */
#include <math.h>
#include <stdlib.h>
#include "json.h"
#include "buf.h"

static const cJSON *field(const cJSON *obj, const char *key)
{
    if (!obj || !cJSON_IsObject(obj) || !key)
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

const char *json_str(const cJSON *obj, const char *key, const char *fallback)
{
    const cJSON *v = field(obj, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : fallback;
}

long long json_int(const cJSON *obj, const char *key, long long fallback)
{
    const cJSON *v = field(obj, key);
    if (!cJSON_IsNumber(v))
        return fallback;
    double d = v->valuedouble;
    /* Only whole numbers inside the exactly representable range count as integers. */
    if (!isfinite(d) || d != floor(d) || d > 9007199254740992.0 || d < -9007199254740992.0)
        return fallback;
    return (long long)d;
}

double json_num(const cJSON *obj, const char *key, double fallback)
{
    const cJSON *v = field(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

bool json_bool(const cJSON *obj, const char *key, bool fallback)
{
    const cJSON *v = field(obj, key);
    if (cJSON_IsTrue(v))
        return true;
    if (cJSON_IsFalse(v))
        return false;
    return fallback;
}

const cJSON *json_obj(const cJSON *obj, const char *key)
{
    const cJSON *v = field(obj, key);
    return cJSON_IsObject(v) ? v : NULL;
}

const cJSON *json_arr(const cJSON *obj, const char *key)
{
    const cJSON *v = field(obj, key);
    return cJSON_IsArray(v) ? v : NULL;
}

char *json_print(const cJSON *obj)
{
    char *s = obj ? cJSON_PrintUnformatted(obj) : NULL;
    if (!s)
        return xstrdup("null");
    /* cJSON allocates with its own hooks (malloc by default); copy so callers can free(). */
    char *copy = xstrdup(s);
    cJSON_free(s);
    return copy;
}
