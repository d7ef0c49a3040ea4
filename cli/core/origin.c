/* URL origins for binding a token to the service that issued it (see origin.h). */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include "origin.h"

static void lower_ascii(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

int url_origin(const char *url, char *out, size_t outsz)
{
    if (outsz)
        out[0] = '\0';
    if (!url || !*url || outsz == 0)
        return -1;
    CURLU *u = curl_url();
    if (!u)
        return -1;
    char *scheme = NULL, *host = NULL, *port = NULL, *zone = NULL;
    int rc = -1;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host && *host &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        if (curl_url_get(u, CURLUPART_ZONEID, &zone, 0) != CURLUE_OK)
            zone = NULL;
        lower_ascii(scheme);
        lower_ascii(host);
        int n;
        if (zone && *zone && host[0] == '[' && host[strlen(host) - 1] == ']')
            n = snprintf(out, outsz, "%s://%.*s%%25%s]:%s", scheme, (int)strlen(host) - 1, host,
                         zone, port);
        else
            n = snprintf(out, outsz, "%s://%s:%s", scheme, host, port);
        rc = n > 0 && (size_t)n < outsz ? 0 : -1;
        if (rc)
            out[0] = '\0';
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(zone);
    curl_url_cleanup(u);
    return rc;
}

bool same_origin(const char *a, const char *b)
{
    char oa[ORIGIN_MAX], ob[ORIGIN_MAX];
    return url_origin(a, oa, sizeof oa) == 0 && url_origin(b, ob, sizeof ob) == 0 &&
           strcmp(oa, ob) == 0;
}
