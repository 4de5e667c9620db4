/*
 * The rules that decide who sees an event: channel names, the permission each channel needs,
 * stream ids and the per-subscriber filter. Pure, so the unit tests cover every rule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"

static bool
lower_word(const char *s, size_t n)
{
    if (n == 0 || s[0] < 'a' || s[0] > 'z')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

bool
pnk_events_channel_valid(const char *channel)
{
    if (channel == NULL)
        return false;
    size_t n = strlen(channel);
    if (n == 0 || n > PNK_EVENTS_NAME_MAX)
        return false;
    if (strcmp(channel, "system") == 0 || strcmp(channel, "audit") == 0)
        return true;
    const char *dot = strchr(channel, '.');
    if (dot == NULL)
        return false;
    size_t a = (size_t)(dot - channel);
    return lower_word(channel, a) && lower_word(dot + 1, n - a - 1);
}

const char *
pnk_events_channel_perm(const char *channel, char *buf, size_t n)
{
    int k;

    if (!pnk_events_channel_valid(channel))
        return NULL;
    if (strcmp(channel, "system") == 0)
        k = snprintf(buf, n, "admin.system.read");
    else if (strcmp(channel, "audit") == 0)
        k = snprintf(buf, n, "admin.audit_logs.read");
    else
        k = snprintf(buf, n, "%s.read", channel);
    return k > 0 && (size_t)k < n ? buf : NULL;
}

bool
pnk_events_type_valid(const char *type)
{
    size_t n = type ? strlen(type) : 0;

    if (n == 0 || n > PNK_EVENTS_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = type[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static int
parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 19)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int
pnk_event_id_parse(const char *s, pnk_event_id_t *out)
{
    const char *dash = s ? strchr(s, '-') : NULL;

    if (dash == NULL)
        return -1;
    if (parse_u64(s, (size_t)(dash - s), &out->ms) != 0 ||
        parse_u64(dash + 1, strlen(dash + 1), &out->seq) != 0)
        return -1;
    return 0;
}

int
pnk_event_id_cmp(const pnk_event_id_t *a, const pnk_event_id_t *b)
{
    if (a->ms != b->ms)
        return a->ms < b->ms ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool
pnk_events_visible(const pnk_events_filter_t *f, const char *account_id, const char *channel,
                   const char *perm)
{
    if (account_id == NULL || channel == NULL || perm == NULL || f->account_id == NULL ||
        strcmp(f->account_id, account_id) != 0)
        return false;
    if (f->nchannels) {
        bool selected = false;
        for (size_t i = 0; i < f->nchannels && !selected; i++)
            selected = strcmp(f->channels[i], channel) == 0;
        if (!selected)
            return false;
    }
    if (f->all_perms)
        return true;
    return f->nperms && bsearch(&perm, f->perms, f->nperms, sizeof(*f->perms), cmp_str) != NULL;
}
