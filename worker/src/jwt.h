/*
 * Service tokens: HS256 JWTs the worker signs itself with the secret shared with the server
 * (WORKER_SERVICE_TOKEN). Header {"alg":"HS256","typ":"JWT","kid":"service"}; claims iss,
 * aud, typ "service", sub (the worker's name), iat, nbf, exp, jti.
 */
#ifndef PNW_JWT_H
#define PNW_JWT_H

#include <stddef.h>

/* A malloc'd token valid from now to now + ttl, or NULL. */
char *pnw_jwt_service(const char *secret, const char *iss, const char *aud, const char *sub,
                      long now, int ttl);
#endif
