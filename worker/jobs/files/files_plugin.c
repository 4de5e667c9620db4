/* The files job plugin: the descriptor. Every class runs isolated (a child process with CPU,
 * memory and wall-clock limits) because its input is an untrusted upload. */
#include "files.h"

#define MEDIA_CLASS(n, fn, t, mem)                                                                 \
    {                                                                                              \
        .name = (n), .queue = "file_processing", .retry = 3, .timeout_s = (t), .isolated = true,   \
        .memory_limit_mb = (mem), .args = "s", .execute = (fn)                                     \
    }

/* The child limits its address space to what it maps at start plus the class's limit, and our
 * backends are loaded after that (backend_load.c): the limit is the job's own budget (768,
 * 768, 1024, 512 MiB) plus the address space of the backends it may load, measured with
 * Debian 12's libraries: libvips + heif module 123 MiB, FFmpeg 180 MiB, both 204 MiB. */
#define IMAGE_LIBS_MB 128
#define AV_LIBS_MB 192
#define BOTH_LIBS_MB 224

static const pn_job_class_t classes[] = {
    MEDIA_CLASS("ThumbnailGenerationJob", fj_thumbnail, 120, 768 + IMAGE_LIBS_MB),
    MEDIA_CLASS("MetadataExtractionJob", fj_metadata, 120, 768 + AV_LIBS_MB),
    MEDIA_CLASS("VideoProcessingJob", fj_video, 300, 1024 + BOTH_LIBS_MB),
    MEDIA_CLASS("AudioProcessingJob", fj_audio, 120, 512 + AV_LIBS_MB),
};

PN_JOB_PLUGIN(.name = "files", .version = "0.1.0", .classes = classes,
              .nclasses = sizeof classes / sizeof classes[0], .init = fj_init, .fini = fj_fini,
              .summary = "thumbnails, metadata, video and audio of uploaded files");
