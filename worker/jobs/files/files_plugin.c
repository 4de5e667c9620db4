/* The files job plugin: the descriptor. Every class runs isolated (a child process with CPU,
 * memory and wall-clock limits) because its input is an untrusted upload. */
#include "files.h"

#define MEDIA_CLASS(n, fn, t, mem)                                                                 \
    {                                                                                              \
        .name = n, .queue = "file_processing", .retry = 3, .timeout_s = t, .isolated = true,       \
        .memory_limit_mb = mem, .args = "s", .execute = fn                                         \
    }

static const pn_job_class_t classes[] = {
    MEDIA_CLASS("ThumbnailGenerationJob", fj_thumbnail, 120, 768),
    MEDIA_CLASS("MetadataExtractionJob", fj_metadata, 120, 768),
    MEDIA_CLASS("VideoProcessingJob", fj_video, 300, 1024),
    MEDIA_CLASS("AudioProcessingJob", fj_audio, 120, 512),
};

PN_JOB_PLUGIN(.name = "files", .version = "0.1.0", .classes = classes,
              .nclasses = sizeof classes / sizeof classes[0], .init = fj_init, .fini = fj_fini,
              .summary = "thumbnails, metadata, video and audio of uploaded files");
