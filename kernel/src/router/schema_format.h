/* The "format" checks and the code-point length used by the schema validator (schema.c). */
#ifndef PNK_SCHEMA_FORMAT_H
#define PNK_SCHEMA_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    PNK_FMT_NONE = 0,
    PNK_FMT_UUID,
    PNK_FMT_EMAIL,
    PNK_FMT_DATETIME,
    PNK_FMT_URI,
} pnk_schema_format_t;

/* The format named `name`, or PNK_FMT_NONE when we do not support it. */
pnk_schema_format_t pnk_schema_format_parse(const char *name);
/* "a UUID", "an email address", ... for messages. */
const char *pnk_schema_format_desc(pnk_schema_format_t f);
/* Whether s (n bytes) is valid for the format. */
bool pnk_schema_format_check(pnk_schema_format_t f, const char *s, size_t n);
/* Unicode code points in n bytes of UTF-8 (the decoder already refused invalid UTF-8). */
size_t pnk_schema_utf8_len(const char *s, size_t n);

#endif
