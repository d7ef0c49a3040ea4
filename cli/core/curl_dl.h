/* libcurl is loaded on first use (see curl_dl.c). */
#ifndef CARHELP_CURL_DL_H
#define CARHELP_CURL_DL_H
/* NULL when libcurl is (or can now be) loaded; otherwise why it cannot (dlerror text). */
const char *curl_dl_error(void);
#endif
