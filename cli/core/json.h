/* Small helpers over cJSON for reading fields defensively: a server is untrusted input, so a
 * missing or mistyped field yields the fallback, never a crash. */
#ifndef CARHELP_JSON_H
#define CARHELP_JSON_H
#include <stdbool.h>
#include <cjson/cJSON.h>

const char *json_str(const cJSON *obj, const char *key, const char *fallback);
long long json_int(const cJSON *obj, const char *key, long long fallback);
double json_num(const cJSON *obj, const char *key, double fallback);
bool json_bool(const cJSON *obj, const char *key, bool fallback);
const cJSON *json_obj(const cJSON *obj, const char *key);    /* object or NULL */
const cJSON *json_arr(const cJSON *obj, const char *key);    /* array or NULL */
/* Unformatted JSON text of obj; caller frees. */
char *json_print(const cJSON *obj);

#endif
