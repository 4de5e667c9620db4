/* What a file is, from its first bytes (never its name): shared by the job plugin and its image
 * and audio/video backends. */
#include <string.h>

#include "media.h"

static bool
at(const uint8_t *p, size_t n, size_t off, const char *magic, size_t m)
{
    return n >= off + m && memcmp(p + off, magic, m) == 0;
}

const char *
fm_sniff(const uint8_t *p, size_t n)
{
    if (at(p, n, 0, "\xff\xd8\xff", 3))
        return "image/jpeg";
    if (at(p, n, 0, "\x89PNG\r\n\x1a\n", 8))
        return "image/png";
    if (at(p, n, 0, "GIF87a", 6) || at(p, n, 0, "GIF89a", 6))
        return "image/gif";
    if (at(p, n, 0, "RIFF", 4) && at(p, n, 8, "WEBP", 4))
        return "image/webp";
    if (at(p, n, 0, "RIFF", 4) && at(p, n, 8, "WAVE", 4))
        return "audio/wav";
    if (at(p, n, 0, "RIFF", 4) && at(p, n, 8, "AVI ", 4))
        return "video/x-msvideo";
    if (at(p, n, 0, "II*\0", 4) || at(p, n, 0, "MM\0*", 4))
        return "image/tiff";
    if (at(p, n, 0, "BM", 2) && n >= 26)
        return "image/bmp";
    if (at(p, n, 0, "%PDF-", 5))
        return "application/pdf";
    if (at(p, n, 0, "%!PS", 4))
        return "application/postscript";
    if (at(p, n, 4, "ftyp", 4)) {
        if (at(p, n, 8, "heic", 4) || at(p, n, 8, "heix", 4) || at(p, n, 8, "mif1", 4) ||
            at(p, n, 8, "msf1", 4) || at(p, n, 8, "hevc", 4))
            return "image/heic";
        if (at(p, n, 8, "avif", 4) || at(p, n, 8, "avis", 4))
            return "image/avif";
        if (at(p, n, 8, "M4A ", 4))
            return "audio/mp4";
        if (at(p, n, 8, "qt  ", 4))
            return "video/quicktime";
        return "video/mp4";
    }
    if (at(p, n, 0, "\x1a\x45\xdf\xa3", 4))
        return memmem(p, n, "webm", 4) ? "video/webm" : "video/x-matroska";
    if (at(p, n, 0, "FLV", 3))
        return "video/x-flv";
    if (at(p, n, 0, "\x30\x26\xb2\x75\x8e\x66\xcf\x11", 8))
        return "video/x-ms-asf";
    if (at(p, n, 0, "fLaC", 4))
        return "audio/flac";
    if (at(p, n, 0, "OggS", 4))
        return "audio/ogg";
    if (at(p, n, 0, "ID3", 3) || (n >= 2 && p[0] == 0xff && (p[1] & 0xe6) == 0xe2))
        return "audio/mpeg";
    if (n >= 2 && p[0] == 0xff && (p[1] & 0xf6) == 0xf0)
        return "audio/aac";
    if (at(p, n, 0, "PK\x03\x04", 4))
        return "application/zip";
    if (at(p, n, 0, "#EXTM3U", 7))
        return "application/vnd.apple.mpegurl";
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (at(p, n, i, "<svg", 4) || (at(p, n, i, "<?xml", 5) && memmem(p, n, "<svg", 4)))
        return "image/svg+xml";
    if (at(p, n, i, "<?xml", 5))
        return "application/xml";
    if (fm_is_text(p, n))
        return "text/plain";
    return "application/octet-stream";
}

bool
fm_mime_is_image(const char *m)
{
    return !strncmp(m, "image/", 6) && strcmp(m, "image/svg+xml") != 0;
}

bool
fm_mime_is_av(const char *m)
{
    return !strncmp(m, "video/", 6) || !strncmp(m, "audio/", 6);
}
