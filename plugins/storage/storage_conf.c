/*
 * The fields each provider type takes, as a table: the per-type schema behind the create and
 * update routes (the route schema checks only the envelope, since one route serves all types),
 * the split into public and credential fields, and the masks shown instead of credentials.
 */
#include "storage_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { F_STRING, F_BOOL };

typedef struct field {
    const char *name;
    int type;
    bool required;
    bool secret;     /* sealed at rest, masked on the way out */
    bool identifier; /* a masked secret shows its ends (key ids), others show nothing */
    size_t maxlen;
    const char *const *choices; /* NULL-terminated, or NULL */
} field_t;

static const char *const sse_choices[] = {"AES256", "", NULL};
static const char *const sig_choices[] = {"goog4", "aws4", NULL};

static const field_t local_fields[] = {
    {"root", F_STRING, false, false, false, 1024, NULL},
    {NULL, 0, false, false, false, 0, NULL},
};

static const field_t s3_fields[] = {
    {"bucket", F_STRING, true, false, false, 63, NULL},
    {"region", F_STRING, false, false, false, 32, NULL},
    {"endpoint", F_STRING, false, false, false, 512, NULL},
    {"force_path_style", F_BOOL, false, false, false, 0, NULL},
    {"prefix", F_STRING, false, false, false, 200, NULL},
    {"server_side_encryption", F_STRING, false, false, false, 16, sse_choices},
    {"access_key_id", F_STRING, true, true, true, 256, NULL},
    {"secret_access_key", F_STRING, true, true, false, 256, NULL},
    {NULL, 0, false, false, false, 0, NULL},
};

static const field_t gcs_fields[] = {
    {"bucket", F_STRING, true, false, false, 63, NULL},
    {"endpoint", F_STRING, false, false, false, 512, NULL},
    {"prefix", F_STRING, false, false, false, 200, NULL},
    {"signature", F_STRING, false, false, false, 8, sig_choices},
    {"hmac_access_id", F_STRING, true, true, true, 256, NULL},
    {"hmac_secret", F_STRING, true, true, false, 256, NULL},
    {NULL, 0, false, false, false, 0, NULL},
};

static const field_t azure_fields[] = {
    {"account_name", F_STRING, true, false, false, 24, NULL},
    {"container", F_STRING, true, false, false, 63, NULL},
    {"endpoint", F_STRING, false, false, false, 512, NULL},
    {"prefix", F_STRING, false, false, false, 200, NULL},
    {"account_key", F_STRING, true, true, false, 256, NULL},
    {NULL, 0, false, false, false, 0, NULL},
};

static const field_t *
fields_of(const char *type)
{
    if (type == NULL)
        return NULL;
    if (strcmp(type, "local") == 0)
        return local_fields;
    if (strcmp(type, "s3") == 0)
        return s3_fields;
    if (strcmp(type, "gcs") == 0)
        return gcs_fields;
    if (strcmp(type, "azure") == 0)
        return azure_fields;
    return NULL;
}

bool
st_conf_known_type(const char *type)
{
    return fields_of(type) != NULL;
}

bool
st_conf_has_secrets(const char *type)
{
    const field_t *f = fields_of(type);
    for (; f != NULL && f->name != NULL; f++)
        if (f->secret)
            return true;
    return false;
}

static void
problem(st_problem_fn fn, void *ud, const char *name, const char *msg, int *n)
{
    char field[96];
    (void)snprintf(field, sizeof field, "configuration.%s", name);
    if (fn != NULL)
        fn(ud, field, msg);
    (*n)++;
}

int
st_conf_check(const char *type, json_t *conf, st_problem_fn fn, void *ud)
{
    const field_t *fields = fields_of(type);
    const char *name;
    json_t *v;
    int n = 0;

    if (fields == NULL) {
        if (fn != NULL)
            fn(ud, "provider_type", "is not a provider type");
        return 1;
    }
    if (!json_is_object(conf)) {
        if (fn != NULL)
            fn(ud, "configuration", "must be an object");
        return 1;
    }
    json_object_foreach(conf, name, v)
    {
        const field_t *f = fields;
        while (f->name != NULL && strcmp(f->name, name) != 0)
            f++;
        if (f->name == NULL) {
            char field[96];
            /* The name is the client's: keep it short and printable in the message. */
            (void)snprintf(field, sizeof field, "configuration.%.40s", name);
            for (char *p = field; *p; p++)
                if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
                    *p = '?';
            if (fn != NULL)
                fn(ud, field, "is not a field of this provider type");
            n++;
            continue;
        }
        if (f->type == F_BOOL) {
            if (!json_is_boolean(v))
                problem(fn, ud, f->name, "must be true or false", &n);
            continue;
        }
        if (!json_is_string(v)) {
            problem(fn, ud, f->name, "must be a string", &n);
            continue;
        }
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (len != strlen(s)) {
            problem(fn, ud, f->name, "must not contain NUL", &n);
        } else if (len > f->maxlen) {
            char msg[64];
            (void)snprintf(msg, sizeof msg, "must be at most %zu characters", f->maxlen);
            problem(fn, ud, f->name, msg, &n);
        } else if (f->required && len == 0) {
            problem(fn, ud, f->name, "must not be empty", &n);
        } else if (f->choices != NULL) {
            const char *const *c = f->choices;
            while (*c != NULL && strcmp(*c, s) != 0)
                c++;
            if (*c == NULL)
                problem(fn, ud, f->name, "is not one of the accepted values", &n);
        } else {
            for (const char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                    problem(fn, ud, f->name, "must not contain control characters", &n);
                    break;
                }
        }
    }
    for (const field_t *f = fields; f->name != NULL; f++)
        if (f->required && json_object_get(conf, f->name) == NULL)
            problem(fn, ud, f->name, "is required", &n);
    return n;
}

void
st_conf_split(const char *type, json_t *conf, json_t **pub, json_t **secret)
{
    const char *name;
    json_t *v;

    *pub = json_object();
    *secret = json_object();
    json_object_foreach(conf, name, v)
    {
        const field_t *f = fields_of(type);
        while (f != NULL && f->name != NULL && strcmp(f->name, name) != 0)
            f++;
        bool is_secret = f != NULL && f->name != NULL && f->secret;
        json_object_set(is_secret ? *secret : *pub, name, v);
    }
}

char *
st_mask(const char *value, bool identifier)
{
    size_t n = value ? strlen(value) : 0;
    char out[32];

    if (identifier && n >= 12)
        (void)snprintf(out, sizeof out, "%.4s****%s", value, value + n - 4);
    else if (identifier && n >= 8)
        (void)snprintf(out, sizeof out, "%.2s****", value);
    else if (identifier)
        (void)snprintf(out, sizeof out, "****");
    else
        (void)snprintf(out, sizeof out, "********");
    return strdup(out);
}

json_t *
st_conf_mask(const char *type, const json_t *secret)
{
    json_t *out = json_object();
    for (const field_t *f = fields_of(type); f != NULL && f->name != NULL; f++) {
        if (!f->secret)
            continue;
        const char *v = json_string_value(json_object_get(secret, f->name));
        if (v == NULL)
            continue;
        char *m = st_mask(v, f->identifier);
        if (m != NULL)
            json_object_set_new(out, f->name, json_string(m));
        free(m);
    }
    return out;
}
