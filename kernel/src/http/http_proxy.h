/*
 * Who the client is behind a reverse proxy. The TCP peer is the client unless it is one of
 * the configured trusted proxies; then X-Forwarded-For is read from the right, skipping
 * trusted hops, and the first address that is not trusted is the client. Entries to the left
 * of it were written by the client itself and are never believed.
 */
#ifndef PNK_HTTP_PROXY_H
#define PNK_HTTP_PROXY_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pnk_proxy_list pnk_proxy_list_t;

/* Parse "10.0.0.0/8, 127.0.0.1, ::1/128" (addresses or CIDR blocks, separated by commas or
 * spaces). "" gives an empty list (no proxy trusted). NULL with the reason in err for a
 * malformed entry or prefix length. */
pnk_proxy_list_t *pnk_proxy_parse(const char *spec, char *err, size_t errlen);
void pnk_proxy_free(pnk_proxy_list_t *l);
/* Number of entries (0 for NULL). */
size_t pnk_proxy_count(const pnk_proxy_list_t *l);

/* Is the textual address ip (no port) inside one of the list's blocks? */
bool pnk_proxy_trusted(const pnk_proxy_list_t *l, const char *ip);

/* The bare address of a peer as the HTTP layer writes it ("1.2.3.4:56", "[::1]:56") into out;
 * false when it is not an address (a Unix socket, empty). */
bool pnk_proxy_peer_ip(const char *peer, char *out, size_t outlen);

/*
 * The client address for a request from peer (bare address) carrying X-Forwarded-For xff
 * (NULL when absent), written to out (at least 46 bytes). With an untrusted peer, or no or
 * unusable header, that is the peer. A malformed entry stops the walk at the hop before it.
 */
void pnk_proxy_client_ip(const pnk_proxy_list_t *l, const char *peer, const char *xff, char *out,
                         size_t outlen);

#endif
