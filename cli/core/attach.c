#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "attach.h"
#include "sha256.h"

const char *attach_sniff(const unsigned char *d, size_t n)
{
    static const char *const heif_brands[] = {"heic", "heix", "heim", "heis", "hevc",
                                              "hevx", "mif1", "msf1", NULL};
    if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
        return "image/jpeg";
    if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (n >= 5 && memcmp(d, "%PDF-", 5) == 0)
        return "application/pdf";
    if (n >= 12 && memcmp(d + 4, "ftyp", 4) == 0)
        for (const char *const *b = heif_brands; *b; b++)
            if (memcmp(d + 8, *b, 4) == 0)
                return "image/heic";
    return NULL;
}

int attach_inspect(const char *field, const char *path, struct attach_info *info,
                   struct ch_error *err)
{
    struct stat st;
    unsigned char buf[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return err_set(err, CH_USAGE, "invalid_attachment", field, "%s: cannot read: %s", path,
                       strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(err, CH_USAGE, "invalid_attachment", field,
                       S_ISDIR(st.st_mode) ? "%s: is a directory, not a file"
                                           : "%s: not a regular file",
                       path);
    }
    if (st.st_size > ATTACH_MAX_BYTES) {
        close(fd);
        err_set(err, CH_USAGE, "attachment_too_large", field,
                "%s: %.1f MiB is over the 10 MiB limit per attachment", path,
                (double)st.st_size / (1024.0 * 1024.0));
        err_hint(err, "shrink or split the file (photos: a lower resolution is enough)");
        return CH_USAGE;
    }
    if (st.st_size == 0) {
        close(fd);
        return err_set(err, CH_USAGE, "invalid_attachment", field, "%s: the file is empty", path);
    }
    struct ch_sha256 h;
    ch_sha256_init(&h);
    long long total = 0;
    unsigned char head[16];
    size_t head_len = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return err_set(err, CH_USAGE, "invalid_attachment", field, "%s: cannot read: %s",
                           path, strerror(e));
        }
        if (n == 0)
            break;
        if (head_len < sizeof head) {
            size_t k = sizeof head - head_len < (size_t)n ? sizeof head - head_len : (size_t)n;
            memcpy(head + head_len, buf, k);
            head_len += k;
        }
        ch_sha256_update(&h, buf, (size_t)n);
        total += n;
        if (total > ATTACH_MAX_BYTES)
            break;   /* grew while we read it */
    }
    close(fd);
    if (total > ATTACH_MAX_BYTES)
        return err_set(err, CH_USAGE, "attachment_too_large", field,
                       "%s: over the 10 MiB limit per attachment", path);
    const char *type = attach_sniff(head, head_len);
    if (!type) {
        err_set(err, CH_USAGE, "unsupported_attachment_type", field,
                "%s: not a JPEG, PNG, HEIC or PDF file (judged by its content, not its name)",
                path);
        return CH_USAGE;
    }
    info->content_type = type;
    info->size = total;
    ch_sha256_final_hex(&h, info->sha256);
    return 0;
}
