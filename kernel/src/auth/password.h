/*
 * Password hashing (argon2id, OWASP's cost: 19 MiB, t=2, p=1, as an encoded PHC string),
 * verification, the password policy and random password generation. Thread-safe.
 */
#ifndef PNK_PASSWORD_H
#define PNK_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/* Buffer size that holds any hash pnk_password_hash writes (PHC string + NUL). */
#define PNK_PASSWORD_HASH_MAX 128
/* Policy bounds, in bytes (not characters: a UTF-8 letter may take several). */
#define PNK_PASSWORD_MIN 12
#define PNK_PASSWORD_MAX 256
/* Length of a generated password. */
#define PNK_PASSWORD_GEN_LEN 20

/*
 * Hash pwd (len bytes, may contain any byte) with a fresh 16-byte salt into out as
 * "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>". The policy is not checked here.
 * PN_OK, or PN_E_INTERNAL (no randomness, out too small, out of memory) with err.
 */
int pnk_password_hash(const char *pwd, size_t len, char *out, size_t outlen, char *err,
                      size_t errlen);

/*
 * Whether pwd matches the stored PHC string. Only argon2id hashes are accepted; a malformed
 * hash is a mismatch (and logged). The comparison inside libargon2 is constant-time.
 */
bool pnk_password_verify(const char *hash, const char *pwd, size_t len);

/*
 * Verify pwd against a fixed hash made at the same cost, and return false. Used when the user
 * does not exist so that the time taken does not tell whether they do.
 */
bool pnk_password_verify_dummy(const char *pwd, size_t len);

/* Whether a stored hash was made with other parameters than the current ones. */
bool pnk_password_needs_rehash(const char *hash);

/*
 * The policy for a new password: PNK_PASSWORD_MIN..PNK_PASSWORD_MAX bytes, no NUL byte, and
 * not one character repeated. Deliberately simple; a breached-password list may come later.
 * PN_OK, or PN_E_INVALID with a message fit for the client in err.
 */
int pnk_password_check_policy(const char *pwd, size_t len, char *err, size_t errlen);

/*
 * Write a random PNK_PASSWORD_GEN_LEN-character password (alphabet without look-alikes such as
 * 0/O and 1/l/I) and a NUL into out (n >= PNK_PASSWORD_GEN_LEN + 1). It satisfies the policy.
 * PN_OK, PN_E_INVALID when n is too small, PN_E_INTERNAL when randomness fails.
 */
int pnk_password_generate(char out[], size_t n);

#endif
