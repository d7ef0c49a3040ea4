/* libcurl, loaded on first use. Linking libcurl directly makes the dynamic loader map and
 * relocate some thirty libraries (TLS, HTTP/2, Kerberos, LDAP, ...) at every start, which
 * costs more than everything else `carhelp --version` or `carhelp __complete` does. So the
 * binary is not linked against libcurl: these definitions stand in for the libcurl functions
 * carhelp calls and forward to the real ones, which are dlopen'ed by the first call that
 * needs the network. Built only with CARHELP_CURL_DLOPEN (the Makefile's default). */
#ifdef CARHELP_CURL_DLOPEN
#define CURL_DISABLE_TYPECHECK 1
/* curl_url_get's handle became `const CURLU *` in later libcurl headers: the header's own
 * declaration is renamed out of the way here, so the stand-in below (same ABI either way)
 * compiles against old and new headers alike. Callers elsewhere see the real declaration. */
#define curl_url_get curl_url_get_as_declared
#include <curl/curl.h>
#undef curl_url_get
CURLUcode curl_url_get(CURLU *u, CURLUPart what, char **part, unsigned int flags);
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include "curl_dl.h"

#ifndef CURL_SONAME
#define CURL_SONAME "libcurl.so.4"
#endif

/* X(return type, name, parameters, arguments, value returned when libcurl cannot be loaded) */
#define CURL_FUNCS(X)                                                                        \
    X(CURLcode, curl_global_init, (long flags), (flags), CURLE_FAILED_INIT)                  \
    X(CURL *, curl_easy_init, (void), (), NULL)                                              \
    X(CURLcode, curl_easy_perform, (CURL *h), (h), CURLE_FAILED_INIT)                        \
    X(void, curl_easy_cleanup, (CURL *h), (h), )                                             \
    X(void, curl_easy_reset, (CURL *h), (h), )                                               \
    X(CURL *, curl_easy_duphandle, (CURL *h), (h), NULL)                                     \
    X(const char *, curl_easy_strerror, (CURLcode c), (c), "libcurl could not be loaded")    \
    X(struct curl_slist *, curl_slist_append, (struct curl_slist *l, const char *s), (l, s), NULL) \
    X(void, curl_slist_free_all, (struct curl_slist *l), (l), )                              \
    X(curl_version_info_data *, curl_version_info, (CURLversion v), (v), NULL)               \
    X(curl_mime *, curl_mime_init, (CURL *h), (h), NULL)                                     \
    X(void, curl_mime_free, (curl_mime *m), (m), )                                           \
    X(curl_mimepart *, curl_mime_addpart, (curl_mime *m), (m), NULL)                         \
    X(CURLcode, curl_mime_name, (curl_mimepart *p, const char *n), (p, n), CURLE_FAILED_INIT) \
    X(CURLcode, curl_mime_filename, (curl_mimepart *p, const char *n), (p, n), CURLE_FAILED_INIT) \
    X(CURLcode, curl_mime_type, (curl_mimepart *p, const char *t), (p, t), CURLE_FAILED_INIT) \
    X(CURLcode, curl_mime_data, (curl_mimepart *p, const char *d, size_t n), (p, d, n), CURLE_FAILED_INIT) \
    X(CURLcode, curl_mime_filedata, (curl_mimepart *p, const char *f), (p, f), CURLE_FAILED_INIT) \
    X(CURLM *, curl_multi_init, (void), (), NULL)                                            \
    X(CURLMcode, curl_multi_add_handle, (CURLM *m, CURL *h), (m, h), CURLM_INTERNAL_ERROR)   \
    X(CURLMcode, curl_multi_remove_handle, (CURLM *m, CURL *h), (m, h), CURLM_INTERNAL_ERROR) \
    X(CURLMcode, curl_multi_perform, (CURLM *m, int *running), (m, running), CURLM_INTERNAL_ERROR) \
    X(CURLMcode, curl_multi_poll, (CURLM *m, struct curl_waitfd *fds, unsigned n, int ms, int *ret), \
      (m, fds, n, ms, ret), CURLM_INTERNAL_ERROR)                                            \
    X(CURLMcode, curl_multi_wakeup, (CURLM *m), (m), CURLM_INTERNAL_ERROR)                   \
    X(CURLMsg *, curl_multi_info_read, (CURLM *m, int *left), (m, left), NULL)               \
    X(CURLMcode, curl_multi_cleanup, (CURLM *m), (m), CURLM_INTERNAL_ERROR)                  \
    X(const char *, curl_multi_strerror, (CURLMcode c), (c), "libcurl could not be loaded") \
    X(CURLU *, curl_url, (void), (), NULL)                                                   \
    X(void, curl_url_cleanup, (CURLU *u), (u), )                                             \
    X(CURLUcode, curl_url_set, (CURLU *u, CURLUPart what, const char *part, unsigned int flags), \
      (u, what, part, flags), CURLUE_OUT_OF_MEMORY)                                          \
    X(CURLUcode, curl_url_get, (CURLU *u, CURLUPart what, char **part, unsigned int flags),  \
      (u, what, part, flags), CURLUE_OUT_OF_MEMORY)                                          \
    X(void, curl_free, (void *p), (p), )

#define DECLARE_PTR(ret, name, params, args, fail) static ret(*p_##name) params;
CURL_FUNCS(DECLARE_PTR)
static CURLcode (*p_curl_easy_setopt)(CURL *, CURLoption, ...);
static CURLcode (*p_curl_easy_getinfo)(CURL *, CURLINFO, ...);
static CURLMcode (*p_curl_multi_setopt)(CURLM *, CURLMoption, ...);

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int loaded;
static char load_error[256];

static void *sym(void *lib, const char *name, int *missing)
{
    void *p = dlsym(lib, name);
    if (!p && !*missing) {
        *missing = 1;
        snprintf(load_error, sizeof load_error, "%s has no %s", CURL_SONAME, name);
    }
    return p;
}

static void load(void)
{
    void *lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        snprintf(load_error, sizeof load_error, "%s", why ? why : CURL_SONAME ": cannot be loaded");
        return;
    }
    int missing = 0;
#define LOAD_PTR(ret, name, params, args, fail) *(void **)&p_##name = sym(lib, #name, &missing);
    CURL_FUNCS(LOAD_PTR)
    *(void **)&p_curl_easy_setopt = sym(lib, "curl_easy_setopt", &missing);
    *(void **)&p_curl_easy_getinfo = sym(lib, "curl_easy_getinfo", &missing);
    *(void **)&p_curl_multi_setopt = sym(lib, "curl_multi_setopt", &missing);
    loaded = !missing;
}

static int ready(void)
{
    pthread_once(&load_once, load);
    return loaded;
}

const char *curl_dl_error(void)
{
    return ready() ? NULL : load_error;
}

#define DEFINE_WRAPPER(ret, name, params, args, fail) \
    ret name params                                   \
    {                                                 \
        if (!ready())                                 \
            return fail;                              \
        return p_##name args;                         \
    }
CURL_FUNCS(DEFINE_WRAPPER)

/* The option number says the type of the one variadic argument (curl.h CURLOPTTYPE_*). */
static CURLcode setopt_va(CURL *h, CURLoption opt, va_list ap)
{
    if (opt < CURLOPTTYPE_OBJECTPOINT)
        return p_curl_easy_setopt(h, opt, va_arg(ap, long));
    if (opt < CURLOPTTYPE_FUNCTIONPOINT)
        return p_curl_easy_setopt(h, opt, va_arg(ap, void *));
    if (opt < CURLOPTTYPE_OFF_T)
        return p_curl_easy_setopt(h, opt, va_arg(ap, void (*)(void)));
    if (opt < CURLOPTTYPE_BLOB)
        return p_curl_easy_setopt(h, opt, va_arg(ap, curl_off_t));
    return p_curl_easy_setopt(h, opt, va_arg(ap, void *));
}

CURLcode curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
    if (!ready())
        return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, opt);
    CURLcode rc = setopt_va(h, opt, ap);
    va_end(ap);
    return rc;
}

CURLcode curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
    if (!ready())
        return CURLE_FAILED_INIT;
    va_list ap;
    va_start(ap, info);
    void *out = va_arg(ap, void *);
    va_end(ap);
    return p_curl_easy_getinfo(h, info, out);
}

CURLMcode curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
    if (!ready())
        return CURLM_INTERNAL_ERROR;
    va_list ap;
    va_start(ap, opt);
    CURLMcode rc;
    if (opt < CURLOPTTYPE_OBJECTPOINT)
        rc = p_curl_multi_setopt(m, opt, va_arg(ap, long));
    else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
        rc = p_curl_multi_setopt(m, opt, va_arg(ap, void *));
    else if (opt < CURLOPTTYPE_OFF_T)
        rc = p_curl_multi_setopt(m, opt, va_arg(ap, void (*)(void)));
    else
        rc = p_curl_multi_setopt(m, opt, va_arg(ap, curl_off_t));
    va_end(ap);
    return rc;
}

#else
/* Linked against libcurl directly (make CURL_DLOPEN=0): nothing to stand in for. */
#include <stddef.h>
#include "curl_dl.h"
const char *curl_dl_error(void)
{
    return NULL;
}
#endif
