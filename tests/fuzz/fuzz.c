/* Helpers shared by the harnesses (see fuzz.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz.h"

static char scratch[256];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_scratch(void)
{
    if (scratch[0])
        nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_dir(void)
{
    if (!scratch[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
        snprintf(scratch, sizeof scratch, "%s/carhelp-fuzz.XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(scratch))
            fuzz_fail("cannot make a scratch folder %s: %s", scratch, strerror(errno));
        atexit(remove_scratch);
    }
    return scratch;
}

void fuzz_path(char *out, size_t outsz, const char *name)
{
    int n = snprintf(out, outsz, "%s/%s", fuzz_dir(), name);
    if (n < 0 || (size_t)n >= outsz)
        fuzz_fail("path too long: %s", name);
}

void fuzz_write(const char *path, const void *data, size_t size, int mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        fuzz_fail("cannot write %s: %s", path, strerror(errno));
    const char *p = data;
    while (size > 0) {
        ssize_t w = write(fd, p, size);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            fuzz_fail("cannot write %s: %s", path, strerror(errno));
        p += w;
        size -= (size_t)w;
    }
    if (fchmod(fd, (mode_t)mode) != 0 || close(fd) != 0)
        fuzz_fail("cannot write %s: %s", path, strerror(errno));
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

int fuzz_split(char *text, char **parts, int max)
{
    int n = 0;
    parts[n++] = text;
    for (char *p = text; n < max && (p = strstr(p, "%%")) != NULL;) {
        int at_start = p == text || p[-1] == '\n';
        int at_end = p[2] == '\n' || p[2] == '\0';
        if (!at_start || !at_end) {
            p += 2;
            continue;
        }
        if (p > text)
            p[-1] = '\0';   /* the newline before the marker ends the previous part */
        *p = '\0';
        p += p[2] ? 3 : 2;
        parts[n++] = p;
    }
    return n;
}

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz: invariant broken: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

int fuzz_has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 1;
    return 0;
}
