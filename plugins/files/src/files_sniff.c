/*
 * Magic numbers and a markup scan (files_sniff.h). Markup is looked for the way browsers do,
 * after whitespace and a BOM, case-insensitively, so anything a browser might render as HTML,
 * SVG or XML is labelled as such and then served as an attachment.
 */
#include "files_sniff.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "files_names.h"

static bool
at(const unsigned char *b, size_t len, size_t off, const char *magic, size_t n)
{
    return len >= off + n && memcmp(b + off, magic, n) == 0;
}

static const char *
ftyp(const unsigned char *b, size_t len)
{
    if (!at(b, len, 4, "ftyp", 4) || len < 12)
        return NULL;
    if (at(b, len, 8, "qt  ", 4))
        return "video/quicktime";
    if (at(b, len, 8, "M4A ", 4) || at(b, len, 8, "M4B ", 4))
        return "audio/mp4";
    if (at(b, len, 8, "avif", 4) || at(b, len, 8, "avis", 4))
        return "image/avif";
    if (at(b, len, 8, "heic", 4) || at(b, len, 8, "heix", 4) || at(b, len, 8, "mif1", 4))
        return "image/heic";
    if (at(b, len, 8, "3gp", 3))
        return "video/3gpp";
    return "video/mp4";
}

/* Markup a browser could treat as active: the first non-space bytes open a tag it knows. */
static const char *
markup(const unsigned char *b, size_t len)
{
    static const struct {
        const char *tag;
        const char *type;
    } tags[] = {
        {"<!doctype html", "text/html; charset=utf-8"},
        {"<html", "text/html; charset=utf-8"},
        {"<head", "text/html; charset=utf-8"},
        {"<body", "text/html; charset=utf-8"},
        {"<script", "text/html; charset=utf-8"},
        {"<iframe", "text/html; charset=utf-8"},
        {"<title", "text/html; charset=utf-8"},
        {"<style", "text/html; charset=utf-8"},
        {"<div", "text/html; charset=utf-8"},
        {"<table", "text/html; charset=utf-8"},
        {"<a ", "text/html; charset=utf-8"},
        {"<p>", "text/html; charset=utf-8"},
        {"<br", "text/html; charset=utf-8"},
        {"<img", "text/html; charset=utf-8"},
        {"<font", "text/html; charset=utf-8"},
        {"<h1", "text/html; charset=utf-8"},
        {"<!--", "text/html; charset=utf-8"},
        {"<svg", "image/svg+xml"},
        {"<?xml", "application/xml"},
    };
    size_t i = 0;

    if (at(b, len, 0, "\xef\xbb\xbf", 3))
        i = 3;
    while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r' || b[i] == '\f'))
        i++;
    for (size_t t = 0; t < sizeof tags / sizeof tags[0]; t++) {
        size_t n = strlen(tags[t].tag);
        if (len - i >= n && strncasecmp((const char *)b + i, tags[t].tag, n) == 0) {
            /* a tag name must end there (except the fixed ones with their own terminator) */
            unsigned char e = i + n < len ? b[i + n] : ' ';
            char last = tags[t].tag[n - 1];
            if (last == ' ' || last == '>' || last == '-' || e == ' ' || e == '>' || e == '\t' ||
                e == '\n' || e == '\r' || e == '/' || t == 0) {
                if (strcmp(tags[t].type, "application/xml") == 0) {
                    /* an XML prologue followed by an svg root is SVG */
                    for (size_t k = i; k + 4 <= len; k++)
                        if (strncasecmp((const char *)b + k, "<svg", 4) == 0)
                            return "image/svg+xml";
                }
                return tags[t].type;
            }
        }
    }
    return NULL;
}

static bool
text_ok(const unsigned char *b, size_t len, int complete)
{
    /* A UTF-8 sequence cut by the sniff window is fine unless the file ends there. */
    size_t n = len;
    if (!complete)
        for (size_t k = 1; k <= 3 && k <= len; k++) {
            unsigned char c = b[len - k];
            if ((c & 0xc0) == 0xc0) { /* a lead byte: drop it and its continuation */
                n = len - k;
                break;
            }
            if ((c & 0xc0) != 0x80)
                break;
        }
    for (size_t i = 0; i < n; i++)
        if ((b[i] < 0x20 && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' && b[i] != '\f') ||
            b[i] == 0x7f)
            return false;
    return files_utf8_ok((const char *)b, n);
}

const char *
files_sniff(const unsigned char *b, size_t len, int complete)
{
    const char *t;

    if (len > FILES_SNIFF_LEN) {
        len = FILES_SNIFF_LEN;
        complete = 0;
    }
    if (at(b, len, 0, "\x89PNG\r\n\x1a\n", 8))
        return "image/png";
    if (at(b, len, 0, "\xff\xd8\xff", 3))
        return "image/jpeg";
    if (at(b, len, 0, "GIF87a", 6) || at(b, len, 0, "GIF89a", 6))
        return "image/gif";
    if (at(b, len, 0, "RIFF", 4) && at(b, len, 8, "WEBP", 4))
        return "image/webp";
    if (at(b, len, 0, "RIFF", 4) && at(b, len, 8, "WAVE", 4))
        return "audio/wav";
    if (at(b, len, 0, "RIFF", 4) && at(b, len, 8, "AVI ", 4))
        return "video/x-msvideo";
    if (at(b, len, 0, "BM", 2) && len >= 14)
        return "image/bmp";
    if (at(b, len, 0, "II*\0", 4) || at(b, len, 0, "MM\0*", 4))
        return "image/tiff";
    if (at(b, len, 0, "\0\0\1\0", 4) && len >= 6)
        return "image/x-icon";
    if (at(b, len, 0, "%PDF-", 5))
        return "application/pdf";
    if (at(b, len, 0, "PK\3\4", 4) || at(b, len, 0, "PK\5\6", 4))
        return "application/zip";
    if (at(b, len, 0, "\x1f\x8b", 2))
        return "application/gzip";
    if (at(b, len, 0, "7z\xbc\xaf\x27\x1c", 6))
        return "application/x-7z-compressed";
    if (at(b, len, 0, "Rar!\x1a\x07", 6))
        return "application/vnd.rar";
    if (at(b, len, 0, "BZh", 3))
        return "application/x-bzip2";
    if (at(b, len, 0,
           "\xfd"
           "7zXZ\0",
           6))
        return "application/x-xz";
    if (at(b, len, 0, "\x28\xb5\x2f\xfd", 4))
        return "application/zstd";
    if (at(b, len, 257, "ustar", 5))
        return "application/x-tar";
    if (at(b, len, 0, "\x1a\x45\xdf\xa3", 4))
        return "video/webm";
    if (at(b, len, 0, "OggS", 4))
        return "audio/ogg";
    if (at(b, len, 0, "fLaC", 4))
        return "audio/flac";
    if (at(b, len, 0, "ID3", 3) || (len >= 2 && b[0] == 0xff && (b[1] & 0xe6) == 0xe2))
        return "audio/mpeg";
    if ((t = ftyp(b, len)) != NULL)
        return t;
    if (at(b, len, 0, "\0asm", 4))
        return "application/wasm";
    if (at(b, len, 0, "SQLite format 3\0", 16))
        return "application/vnd.sqlite3";
    if (at(b, len, 0,
           "\x7f"
           "ELF",
           4))
        return "application/x-executable";
    if (at(b, len, 0, "MZ", 2))
        return "application/vnd.microsoft.portable-executable";
    if ((t = markup(b, len)) != NULL)
        return t;
    if (len > 0 && text_ok(b, len, complete))
        return "text/plain; charset=utf-8";
    return "application/octet-stream";
}
