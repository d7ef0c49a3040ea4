/* Evidence files for tickets (cli.md): JPEG, PNG, HEIC and PDF recognised by their first
 * bytes (never by the name), at most 10 MiB each and 5 per ticket. Checked before any
 * request is sent. */
#ifndef CARHELP_ATTACH_H
#define CARHELP_ATTACH_H
#include "error.h"

#define ATTACH_MAX_BYTES (10LL * 1024 * 1024)
#define ATTACH_MAX_PER_TICKET 5

struct attach_info {
    const char *content_type;   /* "image/jpeg", "image/png", "image/heic", "application/pdf" */
    long long size;
    char sha256[65];
};

/* The type of a file starting with these bytes, or NULL when it is none of the four. */
const char *attach_sniff(const unsigned char *head, size_t n);
/* Checks the file at path (a regular, readable, non-empty file of a known type, within the
 * size limit) and checksums it. CH_USAGE with err naming `field` ("--attach") otherwise. */
int attach_inspect(const char *field, const char *path, struct attach_info *info,
                   struct ch_error *err);

#endif
