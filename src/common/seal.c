/*
 * seal.c: secrets at rest with crypto_secretbox (XSalsa20-Poly1305).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "seal.h"
#include "util.h"

struct mkt_seal_key {
	unsigned char k[crypto_secretbox_KEYBYTES];
};

static int read_key(mkt_seal_key *key, const char *path)
{
	struct stat st;
	ssize_t n;
	int fd, ret = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return mkt_error_set_os(errno, "cannot open the secrets key %s", path);
	if (fstat(fd, &st) < 0) {
		ret = mkt_error_set_os(errno, "cannot stat the secrets key %s", path);
	} else if (st.st_mode & 077) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG,
				    "the secrets key %s is readable by others (mode %04o): "
				    "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
	} else if (st.st_size != (off_t)sizeof(key->k) ||
		   (n = read(fd, key->k, sizeof(key->k))) != (ssize_t)sizeof(key->k)) {
		ret = mkt_error_set(MKT_EINVAL, MKT_ERR_CONFIG,
				    "the secrets key %s is not %zu bytes long", path, sizeof(key->k));
	}
	close(fd);
	return ret;
}

static int create_key(mkt_seal_key *key, const char *path)
{
	int fd, ret = 0;

	crypto_secretbox_keygen(key->k);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return errno == EEXIST ? MKT_EEXISTS :
		       mkt_error_set_os(errno, "cannot create the secrets key %s", path);
	if (write(fd, key->k, sizeof(key->k)) != (ssize_t)sizeof(key->k) || fsync(fd) < 0)
		ret = mkt_error_set_os(errno ? errno : EIO, "cannot write the secrets key %s", path);
	close(fd);
	if (ret < 0)
		unlink(path);
	return ret;
}

int mkt_seal_key_open(mkt_seal_key **out, const char *path)
{
	mkt_seal_key *key;
	int ret;

	if (sodium_init() < 0)
		return mkt_error_set(MKT_ERROR, MKT_ERR_CONFIG, "libsodium cannot be initialised");
	key = sodium_malloc(sizeof(*key));
	if (!key)
		return mkt_error_set(MKT_ERROR, MKT_ERR_CONFIG, "cannot allocate the secrets key");
	if (access(path, F_OK) == 0 || (ret = create_key(key, path)) == MKT_EEXISTS)
		ret = read_key(key, path);
	if (ret < 0) {
		sodium_free(key);
		return ret;
	}
	*out = key;
	return 0;
}

void mkt_seal_key_free(mkt_seal_key *k)
{
	if (k)
		sodium_free(k);     /* zeroes it */
}

char *mkt_seal_encrypt(const mkt_seal_key *k, const char *plain, size_t len)
{
	size_t n = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
	unsigned char *box = mkt_malloc(n);
	char *text;

	randombytes_buf(box, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, len,
			      box, k->k);
	text = mkt_util_base64_encode(box, n);
	free(box);
	return text;
}

int mkt_seal_decrypt(const mkt_seal_key *k, const char *sealed, char **out)
{
	unsigned char *box = NULL;
	size_t n = 0, len;
	char *plain;

	if (mkt_util_base64_decode(&box, &n, sealed ? sealed : "") < 0 ||
	    n < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
		free(box);
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE, "not a sealed secret");
	}
	len = n - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	plain = mkt_malloc(len + 1);
	if (crypto_secretbox_open_easy((unsigned char *)plain, box + crypto_secretbox_NONCEBYTES,
				       n - crypto_secretbox_NONCEBYTES, box, k->k) != 0) {
		free(box);
		free(plain);
		return mkt_error_set(MKT_EINVAL, MKT_ERR_CORE,
				     "a sealed secret does not open with this DATA_DIR's key "
				     "(altered, or sealed with another key)");
	}
	plain[len] = '\0';
	free(box);
	*out = plain;
	return 0;
}

void mkt_seal_wipe_free(char *s)
{
	if (!s)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}
