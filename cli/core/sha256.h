/* SHA-256 (FIPS 180-4) for the checksums of outbox attachments. The CLI keeps its own small
 * copy: it shares no code with the service. */
#ifndef CARHELP_SHA256_H
#define CARHELP_SHA256_H
#include <stddef.h>
#include <stdint.h>

struct ch_sha256 {
    uint32_t h[8];
    uint64_t bytes;
    unsigned char block[64];
    size_t used;
};

void ch_sha256_init(struct ch_sha256 *s);
void ch_sha256_update(struct ch_sha256 *s, const void *data, size_t len);
/* Lowercase hex digest, 64 characters + NUL. */
void ch_sha256_final_hex(struct ch_sha256 *s, char out[65]);

#endif
