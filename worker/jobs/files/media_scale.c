/* Packed 8-bit pixels without libvips: the box fit of thumbnails, a separable Lanczos3
 * downsizer that takes its input a row at a time (only a few rows are held), and the eight EXIF
 * orientations as vips_autorot applies them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"

void
fm_fit_box(int w, int h, int box, int *ow, int *oh, double *hshrink, double *vshrink)
{
    /* vips_thumbnail's arithmetic (size "down"): one shrink for both axes, from the axis that
     * needs more, never below 1; then vips_resize's 1 / (1 / shrink) and vips_reduce's
     * rounding, so the same input gives the same dimensions as the libvips path. */
    double hs = (double)w / box, vs = (double)h / box;
    double s = hs < vs ? vs : hs;
    if (s < 1.0)
        s = 1.0;
    double hsc = 1.0 / (s < w ? s : w), vsc = 1.0 / (s < h ? s : h);
    if (hsc < 1.0 / w)
        hsc = 1.0 / w;
    if (vsc < 1.0 / h)
        vsc = 1.0 / h;
    *hshrink = hsc < 1.0 ? 1.0 / hsc : 1.0;
    *vshrink = vsc < 1.0 ? 1.0 / vsc : 1.0;
    *ow = (int)(w / *hshrink + 0.5);
    *oh = (int)(h / *vshrink + 0.5);
    if (*ow < 1)
        *ow = 1;
    if (*oh < 1)
        *oh = 1;
}

void
fm_fit_derived(int w, int h, int box, int *ow, int *oh)
{
    /* media_image.c's derive(): the long side exactly the box, the short one rounded. */
    int side = w > h ? w : h;
    if (side <= box) {
        *ow = w, *oh = h;
        return;
    }
    double s = (double)box / side;
    *ow = w > h ? box : (int)(w * s + 0.5);
    *oh = w > h ? (int)(h * s + 0.5) : box;
    if (*ow < 1)
        *ow = 1;
    if (*oh < 1)
        *oh = 1;
}

/* ---- Lanczos3 ---- */

typedef struct taps {
    int n;     /* output positions */
    int k;     /* weights stored per position (the widest) */
    int *lo;   /* first input index per position */
    int *cnt;  /* contiguous inputs used per position */
    float *wt; /* n * k weights, normalised per position */
} taps_t;

static double
lanczos3(double x)
{
    if (x == 0.0)
        return 1.0;
    if (x <= -3.0 || x >= 3.0)
        return 0.0;
    double px = M_PI * x;
    return 3.0 * sin(px) * sin(px / 3.0) / (px * px);
}

static void
taps_free(taps_t *t)
{
    free(t->lo), free(t->cnt), free(t->wt);
    memset(t, 0, sizeof *t);
}

/* Weights of one axis from in samples to out by a shrink f (in / out unless both axes share one
 * shrink, as in vips_thumbnail): centre of output o at input (o + 0.5) * f - 0.5 - e / 2, where
 * e = out * f - in is what the rounding of out added (vips_reduce centres it the same way),
 * support 3 input pixels times f, edges clamped (a tap past the edge adds its weight to the
 * edge sample). */
static int
taps_make(taps_t *t, int in, int out, double f)
{
    memset(t, 0, sizeof *t);
    double r = 3.0 * f, e = out * f - in;
    int k = (int)ceil(2.0 * r) + 2;
    if (k > in)
        k = in;
    t->n = out, t->k = k;
    t->lo = malloc(sizeof *t->lo * (size_t)out);
    t->cnt = malloc(sizeof *t->cnt * (size_t)out);
    t->wt = calloc((size_t)out * (size_t)k, sizeof *t->wt);
    if (!t->lo || !t->cnt || !t->wt)
        return -1; /* freed with the resizer */
    for (int o = 0; o < out; o++) {
        double c = (o + 0.5) * f - 0.5 - e / 2;
        int i0 = (int)ceil(c - r), i1 = (int)floor(c + r);
        int lo = i0 < 0 ? 0 : i0 > in - 1 ? in - 1 : i0;
        int hi = i1 < 0 ? 0 : i1 > in - 1 ? in - 1 : i1;
        if (hi - lo + 1 > k) /* cannot happen (k covers the support); keep the bound anyway */
            hi = lo + k - 1;
        float *w = t->wt + (size_t)o * (size_t)k;
        double sum = 0;
        for (int i = i0; i <= i1; i++) {
            double v = lanczos3((i - c) / f);
            int j = i < lo ? lo : i > hi ? hi : i;
            w[j - lo] += (float)v;
            sum += v;
        }
        if (sum != 0)
            for (int j = 0; j <= hi - lo; j++)
                w[j] = (float)(w[j] / sum);
        t->lo[o] = lo, t->cnt[o] = hi - lo + 1;
    }
    return 0;
}

struct fm_resizer {
    int in_w, in_h, out_w, out_h, ch;
    taps_t h, v;
    bool hcopy, vcopy; /* an axis that keeps its size */
    float *ring;       /* v.k rows of out_w * ch, horizontally resampled */
    float *in;         /* the input row as floats */
    int rows_in;       /* input rows received */
    int next;          /* next output row */
    uint8_t *out;
};

void
fm_resizer_free(fm_resizer_t *r)
{
    if (!r)
        return;
    taps_free(&r->h), taps_free(&r->v);
    free(r->ring), free(r->in), free(r->out);
    free(r);
}

fm_resizer_t *
fm_resizer_new(int in_w, int in_h, int out_w, int out_h, double hshrink, double vshrink, int ch)
{
    if (in_w < 1 || in_h < 1 || out_w < 1 || out_h < 1 || out_w > in_w || out_h > in_h || ch < 1 ||
        ch > 4)
        return NULL;
    if (!(hshrink > 0))
        hshrink = (double)in_w / out_w;
    if (!(vshrink > 0))
        vshrink = (double)in_h / out_h;
    /* An axis is resampled when it shrinks (as vips_resize does); one that does not keeps its
     * size. A shrink far from in / out is a caller's mistake. */
    if ((hshrink <= 1.0 && out_w != in_w) || (vshrink <= 1.0 && out_h != in_h) ||
        fabs(out_w * hshrink - in_w) > hshrink + 1 || fabs(out_h * vshrink - in_h) > vshrink + 1)
        return NULL;
    fm_resizer_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->in_w = in_w, r->in_h = in_h, r->out_w = out_w, r->out_h = out_h, r->ch = ch;
    r->hcopy = hshrink <= 1.0, r->vcopy = vshrink <= 1.0;
    int ring_rows = 1;
    if ((!r->hcopy && taps_make(&r->h, in_w, out_w, hshrink)) ||
        (!r->vcopy && taps_make(&r->v, in_h, out_h, vshrink))) {
        fm_resizer_free(r);
        return NULL;
    }
    if (!r->vcopy)
        ring_rows = r->v.k;
    r->ring = calloc((size_t)ring_rows * (size_t)out_w * (size_t)ch, sizeof *r->ring);
    r->in = malloc(sizeof *r->in * (size_t)in_w * (size_t)ch);
    r->out = malloc((size_t)out_w * (size_t)out_h * (size_t)ch);
    if (!r->ring || !r->in || !r->out) {
        fm_resizer_free(r);
        return NULL;
    }
    return r;
}

static uint8_t
to8(float v)
{
    return v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)lrintf(v);
}

/* Output row y from the rows in the ring. */
static void
emit(fm_resizer_t *r, int y)
{
    size_t rw = (size_t)r->out_w * (size_t)r->ch;
    uint8_t *o = r->out + rw * (size_t)y;
    if (r->vcopy) {
        const float *s = r->ring;
        for (size_t i = 0; i < rw; i++)
            o[i] = to8(s[i]);
        return;
    }
    int lo = r->v.lo[y], n = r->v.cnt[y], k = r->v.k;
    const float *w = r->v.wt + (size_t)y * (size_t)k;
    float *acc = r->in; /* free between rows, and at least rw long (out_w <= in_w) */
    for (size_t i = 0; i < rw; i++)
        acc[i] = 0;
    for (int j = 0; j < n; j++) {
        const float *s = r->ring + (size_t)((lo + j) % k) * rw, wj = w[j];
        for (size_t i = 0; i < rw; i++)
            acc[i] += wj * s[i];
    }
    for (size_t i = 0; i < rw; i++)
        o[i] = to8(acc[i]);
}

int
fm_resizer_row(fm_resizer_t *r, const uint8_t *row)
{
    if (r->rows_in >= r->in_h)
        return -1;
    int slot = r->vcopy ? 0 : r->rows_in % r->v.k, ch = r->ch;
    float *d = r->ring + (size_t)slot * (size_t)r->out_w * (size_t)ch;
    if (r->hcopy) {
        for (size_t i = 0; i < (size_t)r->in_w * (size_t)ch; i++)
            d[i] = row[i];
    } else {
        float *f = r->in;
        for (size_t i = 0; i < (size_t)r->in_w * (size_t)ch; i++)
            f[i] = (float)row[i];
        int k = r->h.k;
        for (int x = 0; x < r->out_w; x++) {
            const float *w = r->h.wt + (size_t)x * (size_t)k;
            const float *p = f + (size_t)r->h.lo[x] * (size_t)ch;
            int n = r->h.cnt[x];
            float *q = d + (size_t)x * (size_t)ch;
            if (ch == 3) { /* the common case, one pass over the taps */
                float a0 = 0, a1 = 0, a2 = 0;
                for (int j = 0; j < n; j++, p += 3)
                    a0 += w[j] * p[0], a1 += w[j] * p[1], a2 += w[j] * p[2];
                q[0] = a0, q[1] = a1, q[2] = a2;
                continue;
            }
            for (int c = 0; c < ch; c++) {
                float acc = 0;
                for (int j = 0; j < n; j++)
                    acc += w[j] * p[(size_t)j * (size_t)ch + (size_t)c];
                q[c] = acc;
            }
        }
    }
    int have = r->rows_in++;
    /* Every output row whose last input row has arrived; the ring holds v.k rows, at least
     * the span of any output row, so its first row is still there. */
    while (r->next < r->out_h &&
           (r->vcopy ? r->next <= have : r->v.lo[r->next] + r->v.cnt[r->next] - 1 <= have))
        emit(r, r->next++);
    return 0;
}

uint8_t *
fm_resizer_finish(fm_resizer_t *r)
{
    if (r->next != r->out_h)
        return NULL;
    uint8_t *o = r->out;
    r->out = NULL;
    return o;
}

uint8_t *
fm_resize(const uint8_t *in, int w, int h, size_t stride, int ch, int ow, int oh)
{
    fm_resizer_t *r = fm_resizer_new(w, h, ow, oh, 0, 0, ch);
    if (!r)
        return NULL;
    for (int y = 0; y < h; y++)
        fm_resizer_row(r, in + stride * (size_t)y);
    uint8_t *o = fm_resizer_finish(r);
    fm_resizer_free(r);
    return o;
}

/* ---- orientation ---- */

uint8_t *
fm_orient(const uint8_t *in, int w, int h, int ch, int orientation, int *ow, int *oh)
{
    /* vips_autorot: rotate clockwise by 0/90/180/270, then flip left-right. */
    static const struct {
        int angle; /* clockwise, in quarter turns */
        bool flip;
    } how[9] = {{0, false}, {0, false}, {0, true}, {2, false}, {2, true},
                {1, true},  {1, false}, {3, true}, {3, false}};
    int o = orientation >= 1 && orientation <= 8 ? orientation : 1;
    int a = how[o].angle;
    bool flip = how[o].flip;
    int W = a & 1 ? h : w, H = a & 1 ? w : h;
    uint8_t *out = malloc((size_t)w * (size_t)h * (size_t)ch);
    if (!out)
        return NULL;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int rx = flip ? W - 1 - x : x; /* where the rotated image holds this pixel */
            int sx, sy;
            switch (a) {
            case 1: /* 90: out(x, y) = in(y, h - 1 - x) */
                sx = y, sy = h - 1 - rx;
                break;
            case 2:
                sx = w - 1 - rx, sy = h - 1 - y;
                break;
            case 3: /* 270: out(x, y) = in(w - 1 - y, x) */
                sx = w - 1 - y, sy = rx;
                break;
            default:
                sx = rx, sy = y;
                break;
            }
            memcpy(out + ((size_t)y * (size_t)W + (size_t)x) * (size_t)ch,
                   in + ((size_t)sy * (size_t)w + (size_t)sx) * (size_t)ch, (size_t)ch);
        }
    *ow = W, *oh = H;
    return out;
}

uint8_t *
fm_grey_to_rgb(const uint8_t *g, int w, int h)
{
    size_t n = (size_t)w * (size_t)h;
    uint8_t *o = malloc(n * 3);
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++)
        o[3 * i] = o[3 * i + 1] = o[3 * i + 2] = g[i];
    return o;
}
