/*
 * Scalar text to typed values, strictly: the whole string must be the value. Shared by the
 * declared-key validation and the public pnk_config_parse_bool.
 */
#ifndef PNK_CONFIG_VALUE_H
#define PNK_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Base-10 int64, optional sign, digits only. 0, or -1 (*overflow tells why). */
int pnk_config_value_int(const char *s, int64_t *out, bool *overflow);
/* A finite double, nothing before or after it. 0 or -1. */
int pnk_config_value_double(const char *s, double *out);
/* The shortest text that reads back as x ("1", "0.5", "1e+300"). */
void pnk_config_value_fmt(double x, char *buf, size_t n);

#endif
