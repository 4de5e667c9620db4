/*
 * libcurl, opened with dlopen on the first call to the server rather than linked: the 33
 * libraries libcurl brings (TLS, Kerberos, LDAP, SSH, IDN) cost a process about 15 ms of
 * start-up and 5-7 MiB of RSS, which a local run (--run) and any process whose jobs never call
 * the server do not need. The daemon opens it at start-up, so a worker without libcurl fails
 * there, not at its first job.
 */
#ifndef PNW_CURLLOAD_H
#define PNW_CURLLOAD_H

#include <curl/curl.h>
#include <stddef.h>

/* The libcurl functions the worker uses, with libcurl's own signatures. */
typedef struct pnw_curl {
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *c);
    CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
    void (*easy_reset)(CURL *c);
    void (*easy_cleanup)(CURL *c);
    const char *(*easy_strerror)(CURLcode rc);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
    void (*global_cleanup)(void);
} pnw_curl_t;

/* The table, opening libcurl.so.4 and running curl_global_init on the first call (once per
 * process, safe from several threads). NULL when libcurl is missing, older than the headers the
 * worker was built with, or failed to start; the same reason is then returned on every call. */
const pnw_curl_t *pnw_curl(char *why, size_t whylen);
/* curl_global_cleanup, if libcurl was opened and started; the library stays mapped. */
void pnw_curl_cleanup(void);

#endif
