/*
 * libFuzzer target for the job payload decoder and the argument checks (RELIABILITY C25):
 * arbitrary bytes as a payload, the first byte choosing an argument signature. Whatever
 * decodes must also survive building its retry and dead-set payloads; whatever does not must
 * be wrappable for the dead set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const specs[] = {NULL, "", "s", "si", "?*i", "n?*", "sinboa", "s?inboa*"};
    if (size < 1)
        return 0;
    const char *spec = specs[data[0] % 8];
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    pnw_payload_t p;
    char why[512];
    if (pnw_payload_decode(buf, len, 1u << 20, 64, &p, why, sizeof why) == 0) {
        if (pnw_args_check(spec, p.args, why, sizeof why) != 0 && !why[0])
            abort(); /* a refusal always has a reason */
        char *f = pnw_payload_failed(&p, "PnJobError", why, 1.5, p.retry_count + 1);
        char *o = pnw_payload_orphaned(&p, p.orphaned + 1);
        if (!f || !o)
            abort(); /* a decoded job can always be written back */
        pnw_payload_t again;
        if (pnw_payload_decode(f, strlen(f), 8u << 20, 64, &again, why, sizeof why) != 0)
            abort(); /* and what we write decodes again */
        pnw_payload_clear(&again);
        free(f);
        free(o);
        pnw_payload_clear(&p);
    } else {
        if (!why[0])
            abort();
        char *w = pnw_payload_wrap_bad(buf, len, "default", why, 1.5);
        if (!w)
            abort();
        free(w);
    }
    return 0;
}
