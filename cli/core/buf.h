/* A growable byte buffer for bodies, URLs and messages. `data` is never NULL after
 * buf_init and is always NUL-terminated, so it can be used as a C string. Allocation
 * failure aborts (a CLI cannot do anything useful without memory). */
#ifndef CARHELP_BUF_H
#define CARHELP_BUF_H
#include <stddef.h>
#include <stdarg.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);                 /* len = 0, keeps the allocation */
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
char *buf_detach(struct buf *b);               /* caller frees; b is re-initialised */
/* Appends s percent-encoded for a URL path segment or query value. */
void buf_put_urlencoded(struct buf *b, const char *s);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
