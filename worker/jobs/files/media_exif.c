/* EXIF through libexif: the handful of fields people search by, as numbers where they are
 * numbers (GPS in signed decimal degrees). Maker notes and free-form blobs are never copied. */
#include <libexif/exif-data.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"

#define EXIF_MAX_BLOB (1u << 20)

static ExifEntry *
entry(ExifData *d, ExifIfd ifd, ExifTag tag)
{
    return d->ifd[ifd] ? exif_content_get_entry(d->ifd[ifd], tag) : NULL;
}

static void
set_text(json_t *o, const char *key, ExifEntry *e)
{
    if (!e || e->format != EXIF_FORMAT_ASCII || !e->data || e->size == 0)
        return;
    char buf[256];
    size_t n = strnlen((const char *)e->data, e->size);
    fm_text_clean((const char *)e->data, n, buf, sizeof buf);
    /* Trailing blanks are padding in EXIF strings. */
    size_t m = strlen(buf);
    while (m > 0 && buf[m - 1] == ' ')
        buf[--m] = 0;
    if (m > 0)
        json_object_set_new(o, key, json_string(buf));
}

/* Component i of a rational, unsigned or signed; NAN when absent or x/0. */
static double
rational(ExifEntry *e, ExifByteOrder bo, unsigned i)
{
    if (!e || !e->data || i >= e->components)
        return NAN;
    if (e->format == EXIF_FORMAT_RATIONAL && e->size >= (i + 1) * 8) {
        ExifRational r = exif_get_rational(e->data + (size_t)i * 8, bo);
        return r.denominator ? (double)r.numerator / r.denominator : NAN;
    }
    if (e->format == EXIF_FORMAT_SRATIONAL && e->size >= (i + 1) * 8) {
        ExifSRational r = exif_get_srational(e->data + (size_t)i * 8, bo);
        return r.denominator ? (double)r.numerator / r.denominator : NAN;
    }
    return NAN;
}

static long
integer(ExifEntry *e, ExifByteOrder bo)
{
    if (!e || !e->data || e->components < 1)
        return -1;
    switch (e->format) {
    case EXIF_FORMAT_SHORT:
        return e->size >= 2 ? exif_get_short(e->data, bo) : -1;
    case EXIF_FORMAT_LONG:
        return e->size >= 4 ? (long)exif_get_long(e->data, bo) : -1;
    case EXIF_FORMAT_BYTE:
        return e->data[0];
    default:
        return -1;
    }
}

static void
set_num(json_t *o, const char *key, double v)
{
    if (isfinite(v))
        json_object_set_new(o, key, json_real(v));
}

static double
degrees(ExifEntry *e, ExifEntry *ref, ExifByteOrder bo, char neg)
{
    double d = rational(e, bo, 0), m = rational(e, bo, 1), s = rational(e, bo, 2);
    if (!isfinite(d))
        return NAN;
    double v = d + (isfinite(m) ? m / 60 : 0) + (isfinite(s) ? s / 3600 : 0);
    if (ref && ref->data && ref->size > 0 && ref->data[0] == (unsigned char)neg)
        v = -v;
    return v;
}

json_t *
fm_exif_parse(const void *blob, size_t len)
{
    if (!blob || len < 8 || len > EXIF_MAX_BLOB)
        return NULL;
    /* libexif wants the "Exif\0\0" header; PNG eXIf and some writers omit it. */
    unsigned char *tmp = NULL;
    const unsigned char *p = blob;
    if (memcmp(p, "Exif\0\0", 6) != 0) {
        tmp = malloc(len + 6);
        if (!tmp)
            return NULL;
        memcpy(tmp, "Exif\0\0", 6);
        memcpy(tmp + 6, blob, len);
        p = tmp, len += 6;
    }
    ExifData *d = exif_data_new();
    if (!d) {
        free(tmp);
        return NULL;
    }
    exif_data_unset_option(d, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_set_option(d, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
    exif_data_load_data(d, p, (unsigned int)len);
    free(tmp);
    ExifByteOrder bo = exif_data_get_byte_order(d);
    json_t *o = json_object();
    set_text(o, "make", entry(d, EXIF_IFD_0, EXIF_TAG_MAKE));
    set_text(o, "model", entry(d, EXIF_IFD_0, EXIF_TAG_MODEL));
    set_text(o, "software", entry(d, EXIF_IFD_0, EXIF_TAG_SOFTWARE));
    set_text(o, "lens_make", entry(d, EXIF_IFD_EXIF, (ExifTag)0xa433));
    set_text(o, "lens_model", entry(d, EXIF_IFD_EXIF, (ExifTag)0xa434));
    set_text(o, "date_taken", entry(d, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL));
    if (!json_object_get(o, "date_taken"))
        set_text(o, "date_taken", entry(d, EXIF_IFD_0, EXIF_TAG_DATE_TIME));
    set_num(o, "exposure_time", rational(entry(d, EXIF_IFD_EXIF, EXIF_TAG_EXPOSURE_TIME), bo, 0));
    set_num(o, "f_number", rational(entry(d, EXIF_IFD_EXIF, EXIF_TAG_FNUMBER), bo, 0));
    set_num(o, "focal_length", rational(entry(d, EXIF_IFD_EXIF, EXIF_TAG_FOCAL_LENGTH), bo, 0));
    long iso = integer(entry(d, EXIF_IFD_EXIF, EXIF_TAG_ISO_SPEED_RATINGS), bo);
    if (iso >= 0)
        json_object_set_new(o, "iso", json_integer(iso));
    long orient = integer(entry(d, EXIF_IFD_0, EXIF_TAG_ORIENTATION), bo);
    if (orient >= 1 && orient <= 8)
        json_object_set_new(o, "orientation", json_integer(orient));
    double lat = degrees(entry(d, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_LATITUDE),
                         entry(d, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_LATITUDE_REF), bo, 'S');
    double lon = degrees(entry(d, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_LONGITUDE),
                         entry(d, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_LONGITUDE_REF), bo, 'W');
    if (isfinite(lat) && isfinite(lon) && fabs(lat) <= 90 && fabs(lon) <= 180) {
        json_t *g = json_object();
        json_object_set_new(g, "latitude", json_real(lat));
        json_object_set_new(g, "longitude", json_real(lon));
        double alt = rational(entry(d, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_ALTITUDE), bo, 0);
        ExifEntry *aref = entry(d, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_ALTITUDE_REF);
        if (isfinite(alt) && aref && aref->data && aref->size > 0 && aref->data[0] == 1)
            alt = -alt;
        set_num(g, "altitude", alt);
        json_object_set_new(o, "gps", g);
    }
    exif_data_unref(d);
    if (json_object_size(o) == 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}
