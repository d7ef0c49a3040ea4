/* Randomness and secret comparison: every token, OTP and key comes from getrandom(2),
 * and secrets are compared in constant time so timing does not leak how much matched. */
#ifndef CARHELP_SERVER_SECRET_H
#define CARHELP_SERVER_SECRET_H

#include <stdbool.h>
#include <stddef.h>

int random_bytes(void *buf, size_t len);
/* nbytes random bytes as 2*nbytes hex digits plus NUL in out. */
int random_hex(char *out, size_t nbytes);
/* Equal iff same length and same bytes; time depends only on the lengths. */
bool secret_equal(const char *a, const char *b);

#endif
