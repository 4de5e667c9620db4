/* The set-up of the whole processing core in one process (tests and fuzzers link it all; the
 * job plugin instead loads its image and audio/video backends when a job needs them). */
#include "media.h"

int
fm_init(char *err, size_t errlen)
{
    if (fm_image_init(err, errlen))
        return -1;
    fm_av_init();
    return 0;
}

void
fm_shutdown(void)
{
    fm_image_shutdown();
}
