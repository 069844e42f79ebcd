/*
 * seal.h: secrets at rest (libsodium's crypto_secretbox).
 *
 * What a broker hands over once (a binding's credentials) must survive a
 * restart, so it is stored, but never in clear: the database file, its
 * backups and the change log hold only sealed text.  The key is a file of
 * its own in DATA_DIR (mode 0600), made at first use; losing it loses the
 * sealed secrets, never exposes them.
 */
#ifndef MKT_SEAL_H
#define MKT_SEAL_H

#include <stddef.h>

typedef struct mkt_seal_key mkt_seal_key;

/* Read the key at @path, or create it (O_EXCL, mode 0600) when it does
 * not exist.  A key file of the wrong size, or readable by others, is
 * refused (MKT_EINVAL naming the file). */
int mkt_seal_key_open(mkt_seal_key **out, const char *path);
void mkt_seal_key_free(mkt_seal_key *k);   /* wipes it; accepts NULL */

/* Seal @len bytes of @plain: base64 of nonce || MAC || ciphertext (caller
 * frees). */
char *mkt_seal_encrypt(const mkt_seal_key *k, const char *plain, size_t len);

/* Open what mkt_seal_encrypt made: *out NUL-terminated (caller frees with
 * mkt_seal_wipe_free).  MKT_EINVAL when it is not sealed text or was
 * sealed with another key, or altered. */
int mkt_seal_decrypt(const mkt_seal_key *k, const char *sealed, char **out);

/* Zero a secret string, then free it.  Accepts NULL. */
void mkt_seal_wipe_free(char *s);

#endif
