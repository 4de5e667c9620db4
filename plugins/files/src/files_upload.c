/*
 * The ordinary upload routes: POST /api/v1/files/upload and POST /api/v1/files/:id/versions,
 * each taking either multipart/form-data (field "file" plus optional fields) or a raw body
 * (any other Content-Type; the name from ?filename= or Content-Disposition). The bytes are
 * already in memory (the route's max_body bounds them); the parser only slices them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "files.h"
#include "files_multipart.h"
#include "files_names.h"

#define FIELD_MAX 65536

typedef struct {
    pn_req_t *req;
    const char *body;
    size_t body_len;
    /* the current part */
    enum { P_SKIP, P_FILE, P_FIELD } kind;
    char *field_name;
    char *fbuf;
    size_t flen;
    /* results */
    bool have_file;
    const char *file_name;
    files_seg_t *segs;
    size_t nsegs, capsegs;
    json_t *fields; /* name -> string */
    const char *error;
} form_t;

static int
on_part(void *ud, const files_mp_part_t *p)
{
    form_t *f = ud;

    if (strcmp(p->name, "file") == 0) {
        if (f->have_file) {
            f->error = "only one file per upload";
            return -1;
        }
        f->have_file = true;
        f->kind = P_FILE;
        f->file_name = pn_host_->req_strdup(f->req, p->filename ? p->filename : "");
        return 0;
    }
    if (json_object_get(f->fields, p->name)) {
        f->error = "a form field is repeated";
        return -1;
    }
    f->kind = P_FIELD;
    f->field_name = pn_host_->req_strdup(f->req, p->name);
    f->flen = 0;
    return f->field_name ? 0 : -1;
}

static int
on_data(void *ud, const char *d, size_t n)
{
    form_t *f = ud;

    if (f->kind == P_FILE) {
        /* Pieces inside the body are referenced in place; the parser's own delimiter bytes
         * (re-emitted data) are copied. Adjacent pieces are merged. */
        bool inside = d >= f->body && d + n <= f->body + f->body_len;
        if (inside && f->nsegs && f->segs[f->nsegs - 1].p + f->segs[f->nsegs - 1].n == d) {
            f->segs[f->nsegs - 1].n += n;
            return 0;
        }
        if (f->nsegs == f->capsegs) {
            size_t cap = f->capsegs ? f->capsegs * 2 : 16;
            files_seg_t *s = pn_req_alloc(f->req, cap * sizeof *s);
            if (s == NULL)
                return -1;
            if (f->nsegs)
                memcpy(s, f->segs, f->nsegs * sizeof *s);
            f->segs = s;
            f->capsegs = cap;
        }
        const char *p = d;
        if (!inside) {
            char *c = pn_req_alloc(f->req, n);
            if (c == NULL)
                return -1;
            memcpy(c, d, n);
            p = c;
        }
        f->segs[f->nsegs++] = (files_seg_t){p, n};
        return 0;
    }
    if (f->kind == P_FIELD) {
        if (f->flen + n > FIELD_MAX) {
            f->error = "a form field is too long";
            return -1;
        }
        if (f->fbuf == NULL && (f->fbuf = pn_req_alloc(f->req, FIELD_MAX + 1)) == NULL)
            return -1;
        memcpy(f->fbuf + f->flen, d, n);
        f->flen += n;
    }
    return 0;
}

static int
on_part_end(void *ud)
{
    form_t *f = ud;

    if (f->kind == P_FIELD) {
        if (!files_utf8_ok(f->fbuf ? f->fbuf : "", f->flen)) {
            f->error = "a form field is not UTF-8";
            return -1;
        }
        json_object_set_new(f->fields, f->field_name,
                            json_stringn(f->fbuf ? f->fbuf : "", f->flen));
    }
    f->kind = P_SKIP;
    return 0;
}

/* Tags from an array or a comma list: each cleaned; at most 20. */
static int
parse_tags(pn_req_t *req, json_t *in, json_t **out)
{
    json_t *list = json_array();
    char name[101];

    pn_host_->req_keep_json(req, list);
    *out = list;
    if (in == NULL)
        return PN_OK;
    if (json_is_string(in)) {
        char *s = pn_host_->req_strdup(req, json_string_value(in));
        for (char *save = NULL, *t = s ? strtok_r(s, ",", &save) : NULL; t;
             t = strtok_r(NULL, ",", &save)) {
            if (files_tag_name(t, name) != 0)
                goto bad;
            json_array_append_new(list, json_string(name));
        }
    } else if (json_is_array(in)) {
        size_t i;
        json_t *t;
        json_array_foreach(in, i, t)
        {
            if (!json_is_string(t) || files_tag_name(json_string_value(t), name) != 0)
                goto bad;
            json_array_append_new(list, json_string(name));
        }
    } else {
        goto bad;
    }
    if (json_array_size(list) > 20)
        goto bad;
    return PN_OK;
bad:
    pn_fail_field(req, "tags", "at most 20 names of 1 to 100 characters, without commas");
    return pn_fail(req, PN_E_INVALID, "invalid tags");
}

static bool
one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(v, *set) == 0)
            return true;
    return false;
}

static const char *const categories[] = {"user_upload", "workflow_output", "ai_generated", "temp",
                                         "system",      "import",          "page_content", NULL};
static const char *const visibilities[] = {"private", "public", "shared", "internal", NULL};

/* Options common to both body kinds, from form fields or the query string. */
static int
read_options(pn_req_t *req, json_t *fields, files_upload_in_t *in)
{
#define OPT(name) (fields ? files_str(fields, name) : pn_req_query(req, name))
    in->category = OPT("category");
    in->visibility = OPT("visibility");
    in->description = OPT("description");
    in->change_description = OPT("change_description");
    in->storage_id = OPT("storage_id");
    const char *tags = OPT("tags");
    const char *meta = fields ? files_str(fields, "metadata") : NULL;
#undef OPT
    if (in->category && !one_of(in->category, categories)) {
        pn_fail_field(req, "category", "unknown category");
        return pn_fail(req, PN_E_INVALID, "invalid category");
    }
    if (in->visibility && !one_of(in->visibility, visibilities)) {
        pn_fail_field(req, "visibility", "must be private, public, shared or internal");
        return pn_fail(req, PN_E_INVALID, "invalid visibility");
    }
    if (in->description && strlen(in->description) > 2000) {
        pn_fail_field(req, "description", "at most 2000 bytes");
        return pn_fail(req, PN_E_INVALID, "invalid description");
    }
    if (in->change_description && strlen(in->change_description) > 2000) {
        pn_fail_field(req, "change_description", "at most 2000 bytes");
        return pn_fail(req, PN_E_INVALID, "invalid change_description");
    }
    if (in->storage_id && !files_is_uuid(in->storage_id))
        return pn_fail(req, PN_E_NOTFOUND, "storage not found");
    if (meta) {
        json_error_t je;
        in->metadata = pn_host_->req_keep_json(req, json_loads(meta, JSON_REJECT_DUPLICATES, &je));
        if (!json_is_object(in->metadata) || strlen(meta) > 16384) {
            pn_fail_field(req, "metadata", "must be a JSON object of at most 16 KiB");
            return pn_fail(req, PN_E_INVALID, "invalid metadata");
        }
    }
    return parse_tags(req, tags ? pn_host_->req_keep_json(req, json_string(tags)) : NULL,
                      &in->tags);
}

typedef struct {
    pn_req_t *req;
    const char *name;
} cd_capture_t;

static int
cd_on_part(void *ud, const files_mp_part_t *p)
{
    cd_capture_t *c = ud;

    if (p->filename)
        c->name = pn_host_->req_strdup(c->req, p->filename);
    return 0;
}

/* The filename of a raw upload's "Content-Disposition: attachment; filename=..." (or
 * filename*). The multipart header grammar is the same, so the header is parsed as the
 * disposition of a one-part form. */
static const char *
disposition_name(pn_req_t *req)
{
    static const files_mp_callbacks_t cb = {cd_on_part, NULL, NULL};
    const char *cd = pn_req_header(req, "Content-Disposition");
    const char *semi = cd ? strchr(cd, ';') : NULL;
    char fake[FILES_MP_MAX_HEAD];
    cd_capture_t c = {req, NULL};

    if (semi == NULL)
        return NULL;
    int n = snprintf(fake, sizeof fake,
                     "--x\r\nContent-Disposition: form-data; name=\"f\"%s\r\n\r\n\r\n--x--", semi);
    if (n < 0 || (size_t)n >= sizeof fake)
        return NULL;
    files_mp_t *mp = files_mp_new("x", &cb, &c);
    if (mp == NULL)
        return NULL;
    if (files_mp_feed(mp, fake, (size_t)n) != 0 || files_mp_finish(mp) != 0)
        c.name = NULL;
    files_mp_free(mp);
    return c.name;
}

static int
upload(pn_req_t *req, const char *target_file_id)
{
    size_t len;
    const char *body = pn_host_->req_body(req, &len);
    const char *ct = pn_req_header(req, "Content-Type");
    char boundary[FILES_MP_MAX_BOUNDARY + 1];
    files_upload_in_t in = {.target_file_id = target_file_id};
    files_seg_t one = {body, len};
    int rc;

    if (ct && files_mp_boundary(ct, boundary) == 0) {
        form_t f = {.req = req, .body = body, .body_len = len};
        f.fields = pn_host_->req_keep_json(req, json_object());
        static const files_mp_callbacks_t cb = {on_part, on_data, on_part_end};
        files_mp_t *mp = files_mp_new(boundary, &cb, &f);
        if (mp == NULL || f.fields == NULL) {
            files_mp_free(mp);
            return pn_fail(req, PN_E_INTERNAL, "out of memory");
        }
        pn_req_defer(req, (pn_defer_fn)files_mp_free, mp);
        if (files_mp_feed(mp, body, len) != 0 || files_mp_finish(mp) != 0) {
            pn_fail_field(req, "body", "%s", f.error ? f.error : files_mp_error(mp));
            return pn_fail(req, PN_E_BADREQ, "malformed multipart body");
        }
        if (!f.have_file) {
            pn_fail_field(req, "file", "is required");
            return pn_fail(req, PN_E_INVALID, "no file in the form");
        }
        in.segs = f.segs ? f.segs : &one;
        in.nsegs = f.segs ? f.nsegs : 0;
        in.filename = files_str(f.fields, "filename");
        if (in.filename == NULL)
            in.filename = f.file_name;
        if ((rc = read_options(req, f.fields, &in)) != PN_OK)
            return rc;
    } else {
        if (ct && strncasecmp(ct, "multipart/", 10) == 0) {
            pn_fail_field(req, "Content-Type",
                          "multipart/form-data with a valid boundary expected");
            return pn_fail(req, PN_E_MEDIATYPE, "unsupported multipart body");
        }
        in.segs = &one;
        in.nsegs = 1;
        in.filename = pn_req_query(req, "filename");
        if (in.filename == NULL)
            in.filename = disposition_name(req);
        if ((rc = read_options(req, NULL, &in)) != PN_OK)
            return rc;
    }
    if (target_file_id) {
        in.category = in.visibility = in.description = NULL;
        in.tags = NULL;
        in.metadata = NULL;
    }
    return files_store_upload(req, &in);
}

int
files_h_upload(pn_req_t *req)
{
    return upload(req, NULL);
}

int
files_h_version_upload(pn_req_t *req)
{
    const char *id = pn_req_param(req, "id");

    if (!files_is_uuid(id))
        return pn_fail(req, PN_E_NOTFOUND, "file not found");
    return upload(req, id);
}
