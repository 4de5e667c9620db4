/* Opening libcurl on first use (curlload.h): one dlopen, the symbols checked, the version
 * compared with the headers the worker was built against. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "curlload.h"
#include "dlload.h"

/* libcurl's soname has been .so.4 since 7.16 (2006); its ABI promise is this number. */
#define CURL_SONAME "libcurl.so.4"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pnw_curl_t table;
static const pnw_curl_t *loaded;
static char failure[256];

static void
open_curl(void)
{
    curl_version_info_data *(*version)(CURLversion) = NULL;
    CURLcode (*global_init)(long) = NULL;
    const pnw_dlsym_t syms[] = {
        {"curl_version_info", (void **)&version},
        {"curl_global_init", (void **)&global_init},
        {"curl_easy_init", (void **)&table.easy_init},
        {"curl_easy_setopt", (void **)&table.easy_setopt},
        {"curl_easy_perform", (void **)&table.easy_perform},
        {"curl_easy_getinfo", (void **)&table.easy_getinfo},
        {"curl_easy_reset", (void **)&table.easy_reset},
        {"curl_easy_cleanup", (void **)&table.easy_cleanup},
        {"curl_easy_strerror", (void **)&table.easy_strerror},
        {"curl_slist_append", (void **)&table.slist_append},
        {"curl_slist_free_all", (void **)&table.slist_free_all},
        {"curl_global_cleanup", (void **)&table.global_cleanup},
    };
    if (pnw_dlopen_syms(CURL_SONAME, syms, sizeof syms / sizeof *syms, failure, sizeof failure))
        return;
    /* Options the worker sets (CURLOPT_PROTOCOLS_STR, ...) exist only from the version its
     * headers describe; an older library would refuse them one by one at run time. */
    const curl_version_info_data *v = version(CURLVERSION_NOW);
    if (!v || v->version_num < LIBCURL_VERSION_NUM) {
        (void)snprintf(failure, sizeof failure, "%s is %s, the worker needs %s or newer",
                       CURL_SONAME, v ? v->version : "of unknown version", LIBCURL_VERSION);
        return;
    }
    CURLcode rc = global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        (void)snprintf(failure, sizeof failure, "curl_global_init failed (%d)", (int)rc);
        return;
    }
    loaded = &table;
}

const pnw_curl_t *
pnw_curl(char *why, size_t whylen)
{
    pthread_once(&once, open_curl);
    if (!loaded && why)
        (void)snprintf(why, whylen, "%s", failure);
    return loaded;
}

void
pnw_curl_cleanup(void)
{
    if (loaded)
        loaded->global_cleanup();
}
