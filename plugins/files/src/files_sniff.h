/*
 * Content-type sniffing from a file's first bytes. The type a client declares is never
 * trusted: what is stored and served is what these bytes say. Pure, unit-tested.
 */
#ifndef FILES_SNIFF_H
#define FILES_SNIFF_H

#include <stddef.h>

/* How many leading bytes files_sniff looks at, at most. */
#define FILES_SNIFF_LEN 1024

/* The content type of a file starting with buf[0..len) (len may be less than the file):
 * a static string such as "image/png", "text/html; charset=utf-8" (markup found),
 * "text/plain; charset=utf-8" (valid UTF-8 text) or "application/octet-stream". `complete`
 * says buf holds the whole file (a cut UTF-8 sequence at the end is then invalid). */
const char *files_sniff(const unsigned char *buf, size_t len, int complete);

#endif
