/*
 * The migrations runner: NNNN_<what>.sql files per owner, applied once each in name order,
 * each in its own transaction, under an advisory lock so concurrent servers never race.
 */
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/log.h"
#include "db_internal.h"

/* "pnmigrat" in ASCII: one lock for every Powernode server sharing the database. */
#define LOCK_SQL "SELECT pg_advisory_lock(8101537657398866292)"
#define UNLOCK_SQL "SELECT pg_advisory_unlock(8101537657398866292)"
#define MAX_FILE PN_MIB(64)

static const char create_sql[] =
    "CREATE TABLE IF NOT EXISTS pn_schema_migrations ("
    " owner text NOT NULL, name text NOT NULL, version text NOT NULL, checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (owner, name))";

typedef struct mfile {
    const char *name, *path;
    char *sql; /* NULL until read */
    char sum[65];
} mfile_t;

typedef struct mdir {
    const pnk_migration_source_t *src;
    mfile_t *files;
    size_t n;
} mdir_t;

static bool
valid_name(const char *s)
{
    size_t n = strlen(s), i;

    if (n < 10 || strcmp(s + n - 4, ".sql") != 0) /* 0000_x.sql */
        return false;
    for (i = 0; i < 4; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    if (s[4] != '_')
        return false;
    for (i = 5; i < n - 4; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(((const mfile_t *)a)->name, ((const mfile_t *)b)->name);
}

/* The sorted file list of one source; names only, contents are read when needed. */
static int
list_dir(pnk_arena_t *a, const pnk_migration_source_t *src, mdir_t *d, char *err, size_t errlen)
{
    DIR *dir = opendir(src->dir);
    struct dirent *e;
    size_t cap = 16;

    d->src = src;
    d->n = 0;
    if (dir == NULL) {
        (void)snprintf(err, errlen, "migrations of %s: cannot open directory %s: %s", src->owner,
                       src->dir, strerror(errno));
        return PN_E_INTERNAL;
    }
    d->files = pnk_arena_calloc(a, cap, sizeof(*d->files));
    bool oom = d->files == NULL;
    while (!oom && (e = readdir(dir)) != NULL) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        char *path = pnk_arena_printf(a, "%s/%s", src->dir, e->d_name);
        char *name = pnk_arena_strdup(a, e->d_name);
        if (path == NULL || name == NULL) {
            oom = true;
            break;
        }
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            continue;
        if (!valid_name(name)) {
            (void)snprintf(
                err, errlen,
                "migrations of %s: %s: the name must match NNNN_<what>.sql (four digits, "
                "then lowercase letters, digits and underscores)",
                src->owner, path);
            closedir(dir);
            return PN_E_INTERNAL;
        }
        if (d->n == cap) {
            mfile_t *more = pnk_arena_calloc(a, cap * 2, sizeof(*more));
            if (more == NULL) {
                oom = true;
                break;
            }
            memcpy(more, d->files, cap * sizeof(*more));
            d->files = more;
            cap *= 2;
        }
        d->files[d->n].name = name;
        d->files[d->n].path = path;
        d->n++;
    }
    closedir(dir);
    if (oom) {
        (void)snprintf(err, errlen, "migrations of %s: out of memory", src->owner);
        return PN_E_INTERNAL;
    }
    qsort(d->files, d->n, sizeof(*d->files), by_name);
    return PN_OK;
}

static int
read_file(pnk_arena_t *a, const char *owner, mfile_t *f, char *err, size_t errlen)
{
    FILE *fp = fopen(f->path, "rb");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    long len;

    if (fp == NULL) {
        (void)snprintf(err, errlen, "migration %s/%s: cannot read %s: %s", owner, f->name, f->path,
                       strerror(errno));
        return PN_E_INTERNAL;
    }
    if (fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 || (size_t)len > MAX_FILE ||
        fseek(fp, 0, SEEK_SET) != 0) {
        (void)fclose(fp);
        (void)snprintf(err, errlen, "migration %s/%s: cannot read %s (or larger than 64 MiB)",
                       owner, f->name, f->path);
        return PN_E_INTERNAL;
    }
    f->sql = pnk_arena_alloc(a, (size_t)len + 1);
    if (f->sql == NULL || fread(f->sql, 1, (size_t)len, fp) != (size_t)len) {
        (void)fclose(fp);
        (void)snprintf(err, errlen, "migration %s/%s: cannot read %s", owner, f->name, f->path);
        return PN_E_INTERNAL;
    }
    (void)fclose(fp);
    f->sql[len] = '\0';
    if (memchr(f->sql, '\0', (size_t)len) != NULL) {
        (void)snprintf(err, errlen, "migration %s/%s: contains a NUL byte", owner, f->name);
        return PN_E_INTERNAL;
    }
    if (EVP_Digest(f->sql, (size_t)len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
        (void)snprintf(err, errlen, "migration %s/%s: sha256 failed", owner, f->name);
        return PN_E_INTERNAL;
    }
    for (size_t i = 0; i < mdlen; i++)
        (void)snprintf(f->sum + 2 * i, 3, "%02x", md[i]);
    return PN_OK;
}

/* The names (and checksums) already recorded for one owner. */
static int
recorded(pnk_db_conn_t *c, pnk_arena_t *a, const char *owner, pn_rows_t **rows, char *err,
         size_t errlen)
{
    const char *params[] = {owner};
    char e[256];
    int rc = pnk_db_exec(c, "SELECT name, checksum FROM pn_schema_migrations WHERE owner = $1", 1,
                         params, a, rows, e, sizeof e);
    if (rc != PN_OK)
        (void)snprintf(err, errlen, "migrations of %s: cannot read pn_schema_migrations: %s", owner,
                       e);
    return rc;
}

static const char *
recorded_sum(const pn_rows_t *rows, const char *name)
{
    for (int i = 0; i < pnk_rows_count(rows); i++)
        if (strcmp(pnk_rows_value(rows, i, 0), name) == 0)
            return pnk_rows_value(rows, i, 1);
    return NULL;
}

/* Line of a 1-based character position, for pointing at the failing statement. */
static int
line_of(const char *sql, const char *pos)
{
    long n = pos[0] ? strtol(pos, NULL, 10) : 0;
    int line = 1;

    for (long i = 0; i < n - 1 && sql[i]; i++)
        if (sql[i] == '\n')
            line++;
    return n > 0 ? line : 0;
}

static int
apply(pnk_db_conn_t *c, const pnk_migration_source_t *src, const mfile_t *f, char *err,
      size_t errlen)
{
    const char *params[] = {src->owner, f->name, src->version ? src->version : "", f->sum};
    char e[256];
    PGresult *res;
    int rc;

    if ((rc = pnk_db_begin(c, e, sizeof e)) != PN_OK) {
        (void)snprintf(err, errlen, "migration %s/%s: cannot begin: %s", src->owner, f->name, e);
        return rc;
    }
    /* PQexec (simple protocol) because a migration holds several statements; the file
     * comes from the installation, never from a request. */
    res = PQexec(c->pg, f->sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK &&
        PQresultStatus(res) != PGRES_EMPTY_QUERY) {
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        const char *pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
        int line = line_of(f->sql, pos ? pos : "");
        char where[32] = "";
        if (line > 0)
            (void)snprintf(where, sizeof where, " (line %d)", line);
        if (msg == NULL)
            msg = PQerrorMessage(c->pg);
        (void)snprintf(err, errlen, "migration %s/%s failed%s: %.*s [%s]", src->owner, f->name,
                       where, (int)strcspn(msg, "\n"), msg, state ? state : "-");
        if (PQstatus(c->pg) != CONNECTION_OK)
            c->broken = true;
        rc = state && state[0] ? PN_E_INTERNAL : PN_E_UNAVAILABLE;
        PQclear(res);
        pnk_db_rollback(c, NULL, 0);
        return rc;
    }
    PQclear(res);
    rc = pnk_db_exec(c,
                     "INSERT INTO pn_schema_migrations (owner, name, version, checksum)"
                     " VALUES ($1, $2, $3, $4)",
                     4, params, NULL, NULL, e, sizeof e);
    if (rc == PN_OK)
        rc = pnk_db_commit(c, e, sizeof e);
    if (rc != PN_OK) {
        (void)snprintf(err, errlen, "migration %s/%s: cannot record it: %s", src->owner, f->name,
                       e);
        pnk_db_rollback(c, NULL, 0);
        return rc;
    }
    PNK_INFO("db", "migration applied owner=%s file=%s version=%s", src->owner, f->name, params[2]);
    return PN_OK;
}

static int
set_timeout(pnk_db_conn_t *c, int ms)
{
    char v[16];
    const char *params[] = {v};

    (void)snprintf(v, sizeof v, "%d", ms);
    return pnk_db_exec(c, "SELECT set_config('statement_timeout', $1, false)", 1, params, NULL,
                       NULL, NULL, 0);
}

/* Everything after taking the lock: verify every applied file, then apply the rest. */
static int
run_locked(pnk_db_conn_t *c, pnk_arena_t *a, mdir_t *dirs, size_t n, int *applied, char *err,
           size_t errlen)
{
    pn_rows_t **done = pnk_arena_calloc(
        a, n + 1, sizeof(*done)); /* NOLINT(bugprone-sizeof-expression): array of pointers */
    char e[256];
    int rc;

    if (done == NULL) {
        (void)snprintf(err, errlen, "migrations: out of memory");
        return PN_E_INTERNAL;
    }
    if ((rc = pnk_db_exec(c, create_sql, 0, NULL, NULL, NULL, e, sizeof e)) != PN_OK) {
        (void)snprintf(err, errlen, "migrations: cannot create pn_schema_migrations: %s", e);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        const char *owner = dirs[i].src->owner;
        if ((rc = recorded(c, a, owner, &done[i], err, errlen)) != PN_OK)
            return rc;
        for (size_t k = 0; k < dirs[i].n; k++) {
            mfile_t *f = &dirs[i].files[k];
            if ((rc = read_file(a, owner, f, err, errlen)) != PN_OK)
                return rc;
            const char *sum = recorded_sum(done[i], f->name);
            if (sum && strcmp(sum, f->sum) != 0) {
                (void)snprintf(
                    err, errlen,
                    "migration %s/%s was changed after it was applied (checksum %.12s.. now "
                    "%.12s..); add a new migration instead",
                    owner, f->name, sum, f->sum);
                return PN_E_INTERNAL;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < dirs[i].n; k++) {
            if (recorded_sum(done[i], dirs[i].files[k].name))
                continue;
            if ((rc = apply(c, dirs[i].src, &dirs[i].files[k], err, errlen)) != PN_OK)
                return rc;
            (*applied)++;
        }
    }
    return PN_OK;
}

static int
list_all(pnk_arena_t *a, const pnk_migration_source_t *src, size_t n, mdir_t **out, char *err,
         size_t errlen)
{
    mdir_t *dirs = pnk_arena_calloc(a, n + 1, sizeof(*dirs));

    if (dirs == NULL) {
        (void)snprintf(err, errlen, "migrations: out of memory");
        return PN_E_INTERNAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (src[i].owner == NULL || src[i].dir == NULL) {
            (void)snprintf(err, errlen, "migrations: source %zu has no owner or directory", i);
            return PN_E_INTERNAL;
        }
        int rc = list_dir(a, &src[i], &dirs[i], err, errlen);
        if (rc != PN_OK)
            return rc;
    }
    *out = dirs;
    return PN_OK;
}

int
pnk_db_migrate(pnk_db_pool_t *p, const pnk_migration_source_t *src, size_t n, int *applied,
               char *err, size_t errlen)
{
    char scratch[512], e[256];
    pnk_arena_t *a;
    pnk_db_conn_t *c;
    mdir_t *dirs = NULL;
    int count = 0, rc;

    if (err == NULL || errlen == 0) {
        err = scratch;
        errlen = sizeof scratch;
    }
    err[0] = '\0';
    if (applied)
        *applied = 0;
    if ((a = pnk_arena_new(PN_KIB(16))) == NULL) {
        (void)snprintf(err, errlen, "migrations: out of memory");
        return PN_E_INTERNAL;
    }
    if ((rc = list_all(a, src, n, &dirs, err, errlen)) != PN_OK) {
        pnk_arena_free(a);
        return rc;
    }
    if ((rc = pnk_db_acquire(p, &c, e, sizeof e)) != PN_OK) {
        (void)snprintf(err, errlen, "migrations: %s", e);
        pnk_arena_free(a);
        return rc;
    }
    /* A long migration, or waiting for another server's, must not hit the request timeout. */
    rc = set_timeout(c, 0);
    if (rc == PN_OK)
        rc = pnk_db_exec(c, LOCK_SQL, 0, NULL, NULL, NULL, e, sizeof e);
    if (rc != PN_OK) {
        (void)snprintf(err, errlen, "migrations: cannot take the migration lock: %s", e);
    } else {
        rc = run_locked(c, a, dirs, n, &count, err, errlen);
        /* A session that cannot unlock is closed, which releases the lock too. */
        if (pnk_db_exec(c, UNLOCK_SQL, 0, NULL, NULL, NULL, NULL, 0) != PN_OK)
            c->broken = true;
    }
    if (!c->broken && set_timeout(c, p->statement_timeout_ms) != PN_OK)
        c->broken = true;
    pnk_db_release(p, c);
    pnk_arena_free(a);
    if (applied)
        *applied = count;
    if (rc != PN_OK)
        PNK_ERROR("db", "%s", err);
    else if (count)
        PNK_INFO("db", "migrations done applied=%d", count);
    return rc;
}

int
pnk_db_migrations_pending(pnk_db_pool_t *p, const pnk_migration_source_t *src, size_t n,
                          bool *pending)
{
    char err[512];
    pnk_arena_t *a;
    pnk_db_conn_t *c;
    pn_rows_t *rows = NULL;
    mdir_t *dirs = NULL;
    int rc;

    *pending = true;
    if ((a = pnk_arena_new(PN_KIB(8))) == NULL)
        return PN_E_INTERNAL;
    if ((rc = list_all(a, src, n, &dirs, err, sizeof err)) != PN_OK) {
        PNK_WARN("db", "%s", err);
        pnk_arena_free(a);
        return rc;
    }
    if ((rc = pnk_db_acquire(p, &c, err, sizeof err)) != PN_OK) {
        pnk_arena_free(a);
        return rc;
    }
    rc = pnk_db_exec(c, "SELECT to_regclass('pn_schema_migrations') IS NOT NULL", 0, NULL, a, &rows,
                     err, sizeof err);
    size_t files = 0;
    for (size_t i = 0; i < n; i++)
        files += dirs[i].n;
    if (rc == PN_OK && strcmp(pnk_rows_value(rows, 0, 0), "t") != 0) {
        *pending = files > 0;
    } else if (rc == PN_OK) {
        bool missing = false;
        for (size_t i = 0; rc == PN_OK && !missing && i < n; i++) {
            rc = recorded(c, a, src[i].owner, &rows, err, sizeof err);
            for (size_t k = 0; rc == PN_OK && !missing && k < dirs[i].n; k++)
                missing = recorded_sum(rows, dirs[i].files[k].name) == NULL;
        }
        if (rc == PN_OK)
            *pending = missing;
    }
    pnk_db_release(p, c);
    pnk_arena_free(a);
    return rc;
}
