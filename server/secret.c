#include "secret.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "sha256.h"

int random_bytes(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int random_hex(char *out, size_t nbytes)
{
    unsigned char buf[64];
    if (nbytes > sizeof buf || random_bytes(buf, nbytes) != 0)
        return -1;
    hex_encode(buf, nbytes, out);
    return 0;
}

bool secret_equal(const char *a, const char *b)
{
    /* Hashing first makes the comparison fixed-length whatever the inputs. */
    unsigned char da[SHA256_LEN], db[SHA256_LEN];
    unsigned diff = 0;
    sha256(a, strlen(a), da);
    sha256(b, strlen(b), db);
    for (size_t i = 0; i < SHA256_LEN; i++)
        diff |= (unsigned)(da[i] ^ db[i]);
    return diff == 0;
}
