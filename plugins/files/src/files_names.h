/*
 * Names and classifications that never touch the host: cleaning a user's filename for
 * metadata, tag names, ids, the file_type of a content type, and which types are active
 * content. Pure functions, unit-tested.
 */
#ifndef FILES_NAMES_H
#define FILES_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define FILES_NAME_MAX 255

/* Clean a user-supplied filename for metadata: keep the last path component ('/' or '\\'),
 * replace invalid UTF-8, control characters, bidi controls and characters Windows forbids by
 * '_', trim spaces and dots at both ends, cut at FILES_NAME_MAX bytes on a character boundary.
 * "", "." and ".." become "file". out needs FILES_NAME_MAX + 1 bytes. The result is only ever
 * shown and stored in a column; storage keys never derive from it. */
void files_clean_filename(const char *in, size_t len, char out[FILES_NAME_MAX + 1]);

/* Whether s is a UUID in canonical text form (36 chars, hex and dashes). */
bool files_is_uuid(const char *s);

/* Normalise a tag name into out (lower case ASCII, trimmed): 0, or -1 when empty, longer
 * than 100 bytes, or containing control characters or commas. */
int files_tag_name(const char *in, char out[101]);

/* image, video, audio, document, archive, code, data or other. */
const char *files_type_of(const char *ct);

/* HTML, SVG, XML, JavaScript and the like: content a browser would execute. Always served as
 * an attachment under a sandbox CSP. */
bool files_is_active_type(const char *content_type);

/* Whether s is valid UTF-8 (no overlongs, no surrogates, no NUL) of length n. */
bool files_utf8_ok(const char *s, size_t n);

#endif
