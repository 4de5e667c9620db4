/* Audio and video through the FFmpeg libraries, never through a URL: our own AVIOContext over
 * the job's file (or a buffer), a demuxer allow-list, nested opens refused (HLS, concat, GAB2
 * tricks), bounded probing and streams, and a wall-clock deadline on every blocking step. */
#include <errno.h>
#include <fcntl.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "media.h"

#define IOBUF 65536
#define MAX_POSTER_PACKETS 3000
/* What the issue lists: mp4/mov/m4v/m4a, mkv/webm, avi, flv, wmv/wma, mp3, wav, flac, ogg, aac. */
static const char formats[] = "mov,mp4,m4a,3gp,matroska,webm,avi,flv,asf,mp3,wav,flac,ogg,aac";

typedef struct src {
    int fd;
    const uint8_t *buf;
    size_t len, pos;
    int64_t size;
    double deadline;
} src_t;

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
fm_av_init(void)
{
    av_log_set_level(AV_LOG_QUIET);
}

static int
interrupted(void *opaque)
{
    return now() > ((src_t *)opaque)->deadline;
}

static int
rd(void *opaque, uint8_t *buf, int n)
{
    src_t *s = opaque;
    if (interrupted(s))
        return AVERROR_EXIT;
    if (s->fd < 0) {
        size_t left = s->len - s->pos, k = (size_t)n < left ? (size_t)n : left;
        if (k == 0)
            return AVERROR_EOF;
        memcpy(buf, s->buf + s->pos, k);
        s->pos += k;
        return (int)k;
    }
    ssize_t r;
    do
        r = read(s->fd, buf, (size_t)n);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return AVERROR(errno);
    return r == 0 ? AVERROR_EOF : (int)r;
}

static int64_t
sk(void *opaque, int64_t off, int whence)
{
    src_t *s = opaque;
    if (whence & AVSEEK_SIZE)
        return s->size;
    whence &= ~AVSEEK_FORCE;
    int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_END ? s->size : -1;
    if (whence == SEEK_CUR)
        base = s->fd < 0 ? (int64_t)s->pos : lseek(s->fd, 0, SEEK_CUR);
    if (base < 0 || off > INT64_MAX - base || base + off < 0 || base + off > s->size)
        return AVERROR(EINVAL);
    int64_t to = base + off;
    if (s->fd < 0)
        s->pos = (size_t)to;
    else if (lseek(s->fd, to, SEEK_SET) < 0)
        return AVERROR(errno);
    return to;
}

/* Demuxers that open other resources (HLS segments, concat entries, GAB2 subtitles, external
 * references in MOV/MXF) do it through io_open: refused, whatever the URL. */
static int
deny_open(struct AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
          AVDictionary **options)
{
    (void)s, (void)pb, (void)url, (void)flags, (void)options;
    return AVERROR(EPERM);
}

static void
av_err(char *err, size_t errlen, const char *what, int rc, const src_t *s)
{
    if (rc == AVERROR_EXIT || interrupted((void *)(uintptr_t)s)) {
        (void)snprintf(err, errlen, "%s: took longer than the deadline", what);
        return;
    }
    char b[AV_ERROR_MAX_STRING_SIZE] = "";
    av_strerror(rc, b, sizeof b);
    (void)snprintf(err, errlen, "%s: %s", what, b);
}

static void
close_input(AVFormatContext **fc, AVIOContext **pb)
{
    avformat_close_input(fc);
    if (*pb) {
        av_freep(&(*pb)->buffer);
        avio_context_free(pb);
    }
}

static int
open_input(src_t *s, const fm_limits_t *l, AVFormatContext **out, AVIOContext **pbo, char *err,
           size_t errlen)
{
    *out = NULL, *pbo = NULL;
    s->deadline = now() + l->av_deadline_s;
    uint8_t *iobuf = av_malloc(IOBUF);
    AVIOContext *pb = iobuf ? avio_alloc_context(iobuf, IOBUF, 0, s, rd, NULL, sk) : NULL;
    AVFormatContext *fc = pb ? avformat_alloc_context() : NULL;
    if (!fc) {
        if (pb)
            av_freep(&pb->buffer), avio_context_free(&pb);
        else
            av_free(iobuf);
        (void)snprintf(err, errlen, "out of memory");
        return -1;
    }
    fc->pb = pb;
    fc->flags |= AVFMT_FLAG_CUSTOM_IO;
    fc->format_whitelist = av_strdup(formats);
    fc->probesize = l->probesize;
    fc->max_analyze_duration = l->analyze_us;
    fc->max_streams = l->max_streams;
    fc->interrupt_callback = (AVIOInterruptCB){interrupted, s};
    fc->io_open = deny_open;
    int rc = avformat_open_input(&fc, NULL, NULL, NULL);
    if (rc < 0) {
        /* avformat_open_input freed fc but not our I/O context. */
        av_freep(&pb->buffer), avio_context_free(&pb);
        if (rc == AVERROR_INVALIDDATA || rc == AVERROR(EINVAL))
            (void)snprintf(err, errlen, "not audio or video in an allowed format");
        else
            av_err(err, errlen, "cannot open the media", rc, s);
        return -1;
    }
    *out = fc, *pbo = pb;
    if (fc->nb_streams > (unsigned)l->max_streams) {
        (void)snprintf(err, errlen, "too many streams: %u, the limit is %d", fc->nb_streams,
                       l->max_streams);
        close_input(out, pbo);
        return -1;
    }
    rc = avformat_find_stream_info(fc, NULL);
    if (rc < 0 || interrupted(s)) {
        av_err(err, errlen, "cannot read the streams", rc, s);
        close_input(out, pbo);
        return -1;
    }
    if (fc->nb_streams == 0 || fc->nb_streams > (unsigned)l->max_streams) {
        (void)snprintf(err, errlen, "%u streams, expected 1 to %d", fc->nb_streams, l->max_streams);
        close_input(out, pbo);
        return -1;
    }
    return 0;
}

static void
tag(json_t *tags, const AVDictionary *d, const char *key, const char *as)
{
    if (json_object_get(tags, as))
        return;
    const AVDictionaryEntry *e = av_dict_get(d, key, NULL, 0);
    if (e && e->value && *e->value) {
        char b[512];
        fm_text_clean(e->value, strlen(e->value), b, sizeof b);
        if (*b)
            json_object_set_new(tags, as, json_string(b));
    }
}

static void
tags_from(json_t *tags, const AVDictionary *d)
{
    tag(tags, d, "title", "title");
    tag(tags, d, "artist", "artist");
    tag(tags, d, "album_artist", "album_artist");
    tag(tags, d, "album", "album");
    tag(tags, d, "track", "track");
    tag(tags, d, "date", "year");
    tag(tags, d, "year", "year");
    tag(tags, d, "genre", "genre");
}

static double
q2d_ok(AVRational r)
{
    return r.den > 0 && r.num > 0 ? av_q2d(r) : 0;
}

static void
describe(AVFormatContext *fc, json_t *out)
{
    char b[128];
    fm_text_clean(fc->iformat->name, strlen(fc->iformat->name), b, sizeof b);
    json_object_set_new(out, "container", json_string(b));
    if (fc->duration != AV_NOPTS_VALUE && fc->duration > 0)
        json_object_set_new(out, "duration", json_real((double)fc->duration / AV_TIME_BASE));
    if (fc->bit_rate > 0)
        json_object_set_new(out, "bit_rate", json_integer(fc->bit_rate));
    json_object_set_new(out, "streams", json_integer(fc->nb_streams));
    json_t *tags = json_object();
    tags_from(tags, fc->metadata);
    bool v = false, a = false;
    for (unsigned i = 0; i < fc->nb_streams; i++) {
        AVStream *st = fc->streams[i];
        AVCodecParameters *p = st->codecpar;
        if (p->codec_type == AVMEDIA_TYPE_VIDEO && !v &&
            !(st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
            v = true;
            json_t *o = json_object();
            json_object_set_new(o, "codec", json_string(avcodec_get_name(p->codec_id)));
            json_object_set_new(o, "width", json_integer(p->width));
            json_object_set_new(o, "height", json_integer(p->height));
            double fps = q2d_ok(st->avg_frame_rate);
            if (fps <= 0)
                fps = q2d_ok(st->r_frame_rate);
            if (fps > 0)
                json_object_set_new(o, "frame_rate", json_real(fps));
            if (p->bit_rate > 0)
                json_object_set_new(o, "bit_rate", json_integer(p->bit_rate));
            json_object_set_new(out, "video", o);
        } else if (p->codec_type == AVMEDIA_TYPE_AUDIO && !a) {
            a = true;
            json_t *o = json_object();
            json_object_set_new(o, "codec", json_string(avcodec_get_name(p->codec_id)));
            json_object_set_new(o, "sample_rate", json_integer(p->sample_rate));
            json_object_set_new(o, "channels", json_integer(p->ch_layout.nb_channels));
            if (p->bit_rate > 0)
                json_object_set_new(o, "bit_rate", json_integer(p->bit_rate));
            json_object_set_new(out, "audio", o);
            tags_from(tags, st->metadata); /* Ogg keeps its comments on the stream */
        }
    }
    if (json_object_size(tags))
        json_object_set_new(out, "tags", tags);
    else
        json_decref(tags);
}

/* Decode the frame at `at` seconds (or the last one before EOF) of stream vi. */
static int
poster(AVFormatContext *fc, int vi, src_t *s, const fm_limits_t *l, fm_av_poster_t *po, char *err,
       size_t errlen)
{
    AVStream *st = fc->streams[vi];
    AVCodecParameters *p = st->codecpar;
    if (p->width <= 0 || p->height <= 0 || p->width > l->max_side || p->height > l->max_side ||
        (uint64_t)p->width * (uint64_t)p->height > l->max_pixels) {
        (void)snprintf(err, errlen, "video frame size %dx%d out of limits", p->width, p->height);
        return -1;
    }
    const AVCodec *dec = avcodec_find_decoder(p->codec_id);
    if (!dec) {
        (void)snprintf(err, errlen, "no decoder for %s", avcodec_get_name(p->codec_id));
        return -1;
    }
    AVCodecContext *cc = avcodec_alloc_context3(dec);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc(), *keep = av_frame_alloc();
    struct SwsContext *sws = NULL;
    uint8_t *rgb[4] = {0};
    int lines[4], rc = -1, have = 0;
    if (!cc || !pkt || !fr || !keep || avcodec_parameters_to_context(cc, p) < 0) {
        (void)snprintf(err, errlen, "out of memory");
        goto done;
    }
    cc->thread_count = 1;
    if (avcodec_open2(cc, dec, NULL) < 0) {
        (void)snprintf(err, errlen, "cannot open the %s decoder", dec->name);
        goto done;
    }
    double dur = fc->duration > 0 ? (double)fc->duration / AV_TIME_BASE : 0;
    double at = dur > 0 ? dur * 0.1 : 1.0;
    po->at_s = at;
    int64_t ts = av_rescale_q((int64_t)(at * AV_TIME_BASE), AV_TIME_BASE_Q, st->time_base);
    if (st->start_time != AV_NOPTS_VALUE)
        ts += st->start_time;
    if (av_seek_frame(fc, vi, ts, AVSEEK_FLAG_BACKWARD) >= 0)
        avcodec_flush_buffers(cc);
    bool eof = false;
    for (int n = 0; n < MAX_POSTER_PACKETS && !interrupted(s); n++) {
        int r = eof ? 0 : av_read_frame(fc, pkt);
        if (r < 0) {
            eof = true;
            avcodec_send_packet(cc, NULL);
        } else if (!eof) {
            if (pkt->stream_index == vi)
                avcodec_send_packet(cc, pkt);
            av_packet_unref(pkt);
        }
        bool reached = false;
        while ((r = avcodec_receive_frame(cc, fr)) == 0) {
            if (fr->width != p->width || fr->height != p->height) {
                av_frame_unref(fr);
                continue; /* a size change mid-stream: not trusted for the buffer below */
            }
            av_frame_unref(keep);
            av_frame_move_ref(keep, fr);
            have = 1;
            int64_t pts = keep->best_effort_timestamp;
            if (pts == AV_NOPTS_VALUE || pts >= ts) {
                reached = true;
                break;
            }
        }
        if (reached || (eof && r == AVERROR_EOF))
            break;
        if (r != AVERROR(EAGAIN) && r != AVERROR_EOF && r < 0 && !have)
            break;
    }
    if (interrupted(s)) {
        (void)snprintf(err, errlen, "poster frame: took longer than the deadline");
        goto done;
    }
    if (!have) {
        (void)snprintf(err, errlen, "no video frame could be decoded");
        goto done;
    }
    sws = sws_getContext(keep->width, keep->height, keep->format, keep->width, keep->height,
                         AV_PIX_FMT_RGB24, SWS_BILINEAR, NULL, NULL, NULL);
    if (!sws || av_image_alloc(rgb, lines, keep->width, keep->height, AV_PIX_FMT_RGB24, 32) < 0) {
        (void)snprintf(err, errlen, "cannot convert the frame");
        goto done;
    }
    sws_scale(sws, (const uint8_t *const *)keep->data, keep->linesize, 0, keep->height, rgb, lines);
    if (fm_thumbs_rgb(rgb[0], keep->width, keep->height, (size_t)lines[0], l, po->thumbs, err,
                      errlen) == 0) {
        po->have = true;
        rc = 0;
    }
done:
    av_freep(&rgb[0]);
    sws_freeContext(sws);
    av_frame_free(&fr);
    av_frame_free(&keep);
    av_packet_free(&pkt);
    avcodec_free_context(&cc);
    return rc;
}

static int
probe(src_t *s, const fm_limits_t *l, json_t *out, fm_av_poster_t *po, char *err, size_t errlen)
{
    AVFormatContext *fc;
    AVIOContext *pb;
    if (open_input(s, l, &fc, &pb, err, errlen))
        return -1;
    describe(fc, out);
    if (po) {
        memset(po, 0, sizeof *po);
        int vi = av_find_best_stream(fc, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
        if (vi >= 0 && !(fc->streams[vi]->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
            char why[FM_ERRLEN];
            if (poster(fc, vi, s, l, po, why, sizeof why) != 0)
                json_object_set_new(out, "poster_error", json_string(why));
        }
    }
    close_input(&fc, &pb);
    return 0;
}

int
fm_av_probe_file(const char *path, const fm_limits_t *l, json_t *out, fm_av_poster_t *poster_out,
                 char *err, size_t errlen)
{
    struct stat st;
    int fd = fm_open_regular(path, &st);
    if (fd < 0) {
        (void)snprintf(err, errlen, "cannot read the file");
        return -1;
    }
    if (st.st_size == 0 || (uint64_t)st.st_size > l->max_av_bytes) {
        close(fd);
        if (st.st_size == 0)
            (void)snprintf(err, errlen, "empty file");
        else
            (void)snprintf(err, errlen, "media file too large: %lld bytes, the limit is %llu",
                           (long long)st.st_size, (unsigned long long)l->max_av_bytes);
        return -1;
    }
    src_t s = {.fd = fd, .size = st.st_size};
    int rc = probe(&s, l, out, poster_out, err, errlen);
    close(fd);
    return rc;
}

int
fm_av_probe_buffer(const void *buf, size_t len, const fm_limits_t *l, json_t *out, char *err,
                   size_t errlen)
{
    if (len == 0) {
        (void)snprintf(err, errlen, "empty file");
        return -1;
    }
    src_t s = {.fd = -1, .buf = buf, .len = len, .size = (int64_t)len};
    return probe(&s, l, out, NULL, err, errlen);
}
