/* The origin of a URL, (scheme, host, port), as a token is bound to it: the scheme and host in
 * lower case, the port always written (http 80, https 443 when the URL gives none), path,
 * trailing slash, query and fragment ignored, IPv6 literals in their brackets. Parsed by
 * libcurl's URL API, the parser that also sends the requests. */
#ifndef CARHELP_ORIGIN_H
#define CARHELP_ORIGIN_H
#include <stdbool.h>
#include <stddef.h>

#define ORIGIN_MAX 320

/* 0 and "scheme://host:port" in out; -1 (out "") when url has no usable origin. */
int url_origin(const char *url, char *out, size_t outsz);
/* True when both URLs have an origin and it is the same one. */
bool same_origin(const char *a, const char *b);

#endif
