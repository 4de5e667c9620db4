/* Raw requests that smuggling and parser-confusion attacks are built from, each with the
 * status we must answer. Used by the parser tests and, over a socket, by the server tests. */
#ifndef SMUGGLE_CORPUS_H
#define SMUGGLE_CORPUS_H

#include <stddef.h>

typedef struct smuggle_case {
    const char *name;
    const char *raw;
    size_t len; /* raw may hold NUL bytes */
    int status; /* expected final status; 200 when the request is framed and accepted */
} smuggle_case_t;

extern const smuggle_case_t smuggle_corpus[];
extern const size_t smuggle_corpus_len;

#endif
