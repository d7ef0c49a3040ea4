/* SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), used to store tokens and OTPs
 * hashed, to hash request bodies for idempotency and to sign ticket passes. */
#ifndef CARHELP_SERVER_SHA256_H
#define CARHELP_SERVER_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_HEX_LEN 64

struct sha256 {
    uint32_t h[8];
    uint64_t total;
    unsigned char block[64];
    size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN]);

void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);
/* Lowercase hex digest of a NUL-terminated string (out holds 65 bytes). */
void sha256_hex(const char *text, char out[SHA256_HEX_LEN + 1]);
void hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                 unsigned char out[SHA256_LEN]);

/* Writes 2*len lowercase hex digits plus NUL. */
void hex_encode(const unsigned char *data, size_t len, char *out);

#endif
