-- file_storages.files_count (the storage plugin's column) counts the live files, derivatives
-- included, whose blobs are on that storage: not trashed ones. A trigger keeps it, so every
-- path (upload, derivative, trash, restore, purge, the sweeper, a deleted account) is covered
-- in the same transaction as the row change; the storage row's lock serialises writers.

CREATE FUNCTION files_storage_files_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.deleted_at IS NULL) = (NEW.deleted_at IS NULL)
       AND OLD.storage_id = NEW.storage_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        UPDATE file_storages SET files_count = files_count - 1 WHERE id = OLD.storage_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted_at IS NULL THEN
        UPDATE file_storages SET files_count = files_count + 1 WHERE id = NEW.storage_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER file_objects_storage_files_count
    AFTER INSERT OR DELETE OR UPDATE OF deleted_at, storage_id ON file_objects
    FOR EACH ROW EXECUTE FUNCTION files_storage_files_count();

UPDATE file_storages s SET files_count =
    (SELECT count(*) FROM file_objects f WHERE f.storage_id = s.id AND f.deleted_at IS NULL);
