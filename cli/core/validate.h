/* Input validation before any request (cli.md "Input validation"). Each validator normalises
 * first (full-width ASCII from Chinese input methods -> ASCII), writes the canonical form to
 * `out`, and returns 0, or CH_USAGE with err naming the field (`field`, e.g. "--phone") and
 * the expected form. */
#ifndef CARHELP_VALIDATE_H
#define CARHELP_VALIDATE_H
#include <stddef.h>
#include <time.h>
#include "error.h"

/* Full-width forms U+FF01..U+FF5E -> ASCII, U+3000 -> space, U+3001/U+FF0C -> ','; trims
 * leading/trailing ASCII whitespace. Returns 0, or CH_USAGE when out is too small or the
 * input is not valid UTF-8. */
int normalize_input(const char *in, char *out, size_t outsz);

/* Mainland mobile: spaces and dashes dropped, +86 / 0086 prefix dropped, then 1[3-9]\d{9}. out >= 12. */
int validate_phone(const char *field, const char *in, char *out, size_t outsz, struct ch_error *err);
/* 18-character resident ID with the GB 11643 check digit; 'x' upper-cased. out >= 19. */
int validate_id_number(const char *field, const char *in, char *out, size_t outsz, struct ch_error *err);
/* \d{3}[\dX]; out >= 5. */
int validate_id_last4(const char *field, const char *in, char *out, size_t outsz, struct ch_error *err);
/* Province character + letter + 5 (or 6 for new-energy) of [A-Z0-9]; upper-cased. */
int validate_plate(const char *field, const char *in, char *out, size_t outsz, struct ch_error *err);
/* Order/ticket/account/member IDs: [A-Za-z0-9_-]{1,64}. */
int validate_object_id(const char *field, const char *in, char *out, size_t outsz, struct ch_error *err);
/* "2026-11-25" (local midnight), "7d", "24h", "30m" (before now). */
int validate_since(const char *field, const char *in, time_t now, time_t *out, struct ch_error *err);
/* "39.9087,116.3975": WGS-84 decimal degrees, lat in [-90,90], lng in [-180,180]. */
int validate_coordinates(const char *field, const char *in, double *lat, double *lng, struct ch_error *err);
/* Positive decimal seconds, at most max. */
int validate_seconds(const char *field, const char *in, double max, double *out, struct ch_error *err);
/* Non-negative integer in [min, max]. */
int validate_int(const char *field, const char *in, long min, long max, long *out, struct ch_error *err);
/* http(s) URL; plain http:// only for loopback hosts (127.0.0.0/8, ::1, localhost). */
int validate_api_url(const char *field, const char *in, struct ch_error *err);
/* GB 11643 check character for the first 17 digits ('0'-'9' or 'X'); 0 when not 17 digits. */
char id_check_digit(const char *first17);

#endif
