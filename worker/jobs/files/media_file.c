/* Opening a job's input: a regular file, reached without following a link, so a planted
 * symlink or a device never becomes the thing a job reads. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media.h"

int
fm_open_regular(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}
