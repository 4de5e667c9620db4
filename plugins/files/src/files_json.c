/*
 * Rows to replies: the file summary every route returns, and small JSON helpers.
 */
#include <string.h>

#include "files.h"
#include "files_names.h"

const char files_summary_cols[] =
    "f.id, f.filename, f.description, f.content_type, f.file_size, f.file_type, f.category, "
    "f.visibility, f.version, f.current_version_id, f.checksum_sha256, f.processing_status, "
    "f.metadata, f.exif_data, f.dimensions, f.download_count, f.storage_id, f.parent_file_id, "
    "f.derivative_kind, f.uploaded_by_id, f.created_at, f.updated_at, f.deleted_at, "
    "COALESCE((SELECT jsonb_agg(t.name ORDER BY t.name) FROM file_object_tags ot "
    "JOIN file_tags t ON t.id = ot.file_tag_id WHERE ot.file_object_id = f.id), '[]'::jsonb) "
    "AS tags";

json_t *
files_row0(pn_req_t *req, pn_rows_t *rows)
{
    json_t *list = pn_host_->req_keep_json(req, pn_host_->rows_json(rows));
    json_t *first = json_array_get(list, 0);
    return first ? json_incref(first) : NULL;
}

const char *
files_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

json_t *
files_file_get(pn_req_t *req, const char *account_id, const char *id, bool include_deleted)
{
    pn_rows_t *rows;
    const char *sql = pn_req_printf(req,
                                    "SELECT %s FROM file_objects f WHERE f.id = $1 AND "
                                    "f.account_id = $2 AND ($3::boolean OR f.deleted_at IS NULL)",
                                    files_summary_cols);

    if (!files_is_uuid(id)) {
        pn_fail(req, PN_E_NOTFOUND, "file not found");
        return NULL;
    }
    if (sql == NULL ||
        pn_db_query(req, &rows, sql, id, account_id, include_deleted ? "true" : "false") != PN_OK)
        return NULL;
    if (pn_rows_count(rows) == 0) {
        pn_fail(req, PN_E_NOTFOUND, "file not found");
        return NULL;
    }
    return files_row0(req, rows);
}
