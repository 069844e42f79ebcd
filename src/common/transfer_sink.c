/*
 * transfer_sink.c: where a transfer's content goes.
 *
 * A new regular file is written as "<target>.part.XXXXXX" beside the
 * target and renamed over it by mkt_transfer__sink_commit() only, after an
 * fsync; mkt_transfer__sink_free() of an uncommitted sink removes it.
 * Blocks of zeros are not written but skipped (pwrite at an offset), so
 * sparse images stay sparse.  Standard output, devices and pipes are
 * written in place, zeros included.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "util.h"
#include "transfer_priv.h"

#define HOLE_BLOCK 4096         /* zero blocks of this size become holes */

static int sink_error(const mkt_transfer_sink *s, int errno_value)
{
	/* Always MKT_ERROR: MKT_ENOTFOUND/MKT_EPERM would blame the source. */
	return mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot write %s: %s", s->name, strerror(errno_value));
}

/* "<target>.part.XXXXXX" beside the target, so the rename stays within
 * one filesystem; mode 0666 minus the umask, as cp would create it. */
static int open_temp(mkt_transfer_sink *s)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[6];
	char suffix[sizeof(rnd) + 1];
	int tries, saved = EEXIST, ret;
	size_t i;

	for (tries = 0; tries < 100; tries++) {
		if ((ret = mkt_util_random(rnd, sizeof(rnd))) < 0)
			return ret;
		for (i = 0; i < sizeof(rnd); i++)
			suffix[i] = chars[rnd[i] % (sizeof(chars) - 1)];
		suffix[sizeof(rnd)] = '\0';
		free(s->tmp);
		s->tmp = mkt_asprintf("%s.part.%s", s->target, suffix);
		if ((s->fd = open(s->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)) >= 0) {
			s->own_fd = 1;
			s->holes = 1;
			return 0;
		}
		if ((saved = errno) != EEXIST)
			break;
	}
	MKT_FREE(s->tmp);
	return sink_error(s, saved);
}

void mkt_transfer__sink_free(mkt_transfer_sink *s)
{
	if (!s)
		return;
	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	if (s->tmp)
		unlink(s->tmp);
	free(s->tmp);
	free(s->buf);
	mkt_transfer__digests_free(s->digests);
	free(s);
}

int mkt_transfer__sink_new(mkt_transfer_sink **out, const mkt_transfer_opts *opts, int digest)
{
	mkt_transfer_sink *s = mkt_calloc(1, sizeof(*s));
	const char *target = opts->target;
	struct stat st;
	int ret = 0;

	s->target = target;
	s->name = target;
	s->fd = -1;
	if (digest && (ret = mkt_transfer__digests_new(&s->digests, digest > 1)) < 0)
		goto cleanup;
	if (opts->write) {
		/* No buffer: the callback gets the caller's blocks as they
		 * are, and keeps what it needs itself. */
		s->write = opts->write;
		s->write_ud = opts->write_ud;
		s->name = target ? target : "the writer";
		*out = MKT_STEAL(s);
		goto cleanup;
	}
	s->buf = mkt_malloc(MKT_TRANSFER_BLOCK);
	if (!strcmp(target, "-")) {
		s->name = "standard output";
		s->fd = STDOUT_FILENO;
	} else if (stat(target, &st) == 0 && (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		/* A device or a pipe cannot be replaced by a rename: write
		 * into it, zeros included (a device keeps its old data). */
		if ((s->fd = open(target, O_WRONLY | O_CLOEXEC)) < 0) {
			ret = sink_error(s, errno);
			goto cleanup;
		}
		s->own_fd = 1;
	} else if ((ret = open_temp(s)) < 0) {
		goto cleanup;
	}
	*out = MKT_STEAL(s);

 cleanup:
	mkt_transfer__sink_free(s);
	return ret;
}

/* Write-behind for the temporary file: start the disk writing each chunk
 * as soon as it is complete, and wait for the one before.  The disk then
 * works while the copy goes on, the final fsync finds little left, and a
 * multi-GiB image never fills the page cache with dirty pages.  Advisory:
 * errors show up at the fsync. */
#define WRITE_BEHIND (8u << 20)

static void write_behind(mkt_transfer_sink *s)
{
	if (!s->tmp || s->off - s->flushing < WRITE_BEHIND)
		return;
	sync_file_range(s->fd, (off_t)s->flushing, (off_t)(s->off - s->flushing),
			SYNC_FILE_RANGE_WRITE);
	if (s->flushing > s->flushed) {
		sync_file_range(s->fd, (off_t)s->flushed, (off_t)(s->flushing - s->flushed),
				SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
				SYNC_FILE_RANGE_WAIT_AFTER);
		/* Done with those pages: leave the cache to others. */
		posix_fadvise(s->fd, (off_t)s->flushed, (off_t)(s->flushing - s->flushed),
			      POSIX_FADV_DONTNEED);
	}
	s->flushed = s->flushing;
	s->flushing = s->off;
}

static int put(mkt_transfer_sink *s, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = s->holes ? pwrite(s->fd, p, n, (off_t)s->off) : write(s->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return sink_error(s, w < 0 ? errno : EIO);
		p += w;
		n -= (size_t)w;
		s->off += (uint64_t)w;
	}
	write_behind(s);
	return 0;
}

static int is_zero(const unsigned char *p, size_t n)
{
	return p[0] == 0 && !memcmp(p, p + 1, n - 1);
}

/* Write @n bytes at s->off, leaving zero blocks as holes when allowed. */
static int flush(mkt_transfer_sink *s, const unsigned char *p, size_t n)
{
	size_t i = 0;
	int ret;

	if (!s->holes)
		return put(s, p, n);
	while (i < n) {
		size_t len = n - i < HOLE_BLOCK ? n - i : HOLE_BLOCK;
		size_t j = i + len;

		if (is_zero(p + i, len)) {
			s->off += len;
			i = j;
			continue;
		}
		/* Extend the run of data blocks, to write it at once. */
		while (j < n) {
			size_t l = n - j < HOLE_BLOCK ? n - j : HOLE_BLOCK;

			if (is_zero(p + j, l))
				break;
			j += l;
		}
		if ((ret = put(s, p + i, j - i)) < 0)
			return ret;
		i = j;
	}
	return 0;
}

int mkt_transfer__sink_write(mkt_transfer_sink *s, const unsigned char *p, size_t n)
{
	int ret;

	if (s->head_len < MKT_TRANSFER_HEAD_LEN) {
		size_t c = MKT_TRANSFER_HEAD_LEN - s->head_len < n ? MKT_TRANSFER_HEAD_LEN - s->head_len : n;

		memcpy(s->head + s->head_len, p, c);
		s->head_len += c;
	}
	if (s->digests && (ret = mkt_transfer__digests_update(s->digests, p, n)) < 0)
		return ret;
	if (s->write) {
		ret = s->write(s->write_ud, p, n);
		if (ret == 0)
			s->off += n;
		return ret < 0 ? ret : 0;
	}
	while (n > 0) {
		size_t c;

		if (s->len == 0 && n >= MKT_TRANSFER_BLOCK) {
			/* Whole blocks skip the copy into s->buf. */
			if ((ret = flush(s, p, MKT_TRANSFER_BLOCK)) < 0)
				return ret;
			p += MKT_TRANSFER_BLOCK;
			n -= MKT_TRANSFER_BLOCK;
			continue;
		}
		c = MKT_TRANSFER_BLOCK - s->len < n ? MKT_TRANSFER_BLOCK - s->len : n;
		memcpy(s->buf + s->len, p, c);
		s->len += c;
		p += c;
		n -= c;
		if (s->len == MKT_TRANSFER_BLOCK) {
			s->len = 0;
			if ((ret = flush(s, s->buf, MKT_TRANSFER_BLOCK)) < 0)
				return ret;
		}
	}
	return 0;
}

/* Make the rename durable; the content already is, so failing here is not
 * worth failing the transfer. */
static void sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? mkt_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : mkt_strdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int mkt_transfer__sink_commit(mkt_transfer_sink *s)
{
	int ret;

	if (s->write)
		return 0;       /* the caller commits what the writer got */

	if (s->len > 0) {
		size_t n = s->len;

		s->len = 0;
		if ((ret = flush(s, s->buf, n)) < 0)
			return ret;
	}
	if (!s->tmp) {
		/* Standard output is the caller's; a pipe or a character
		 * device cannot be synced (EINVAL). */
		if (s->own_fd && fsync(s->fd) < 0 && errno != EINVAL)
			return sink_error(s, errno);
		return 0;
	}
	/* Skipped zero blocks at the end leave the file short. */
	if (ftruncate(s->fd, (off_t)s->off) < 0 || fsync(s->fd) < 0)
		return sink_error(s, errno);
	s->own_fd = 0;
	if (close(s->fd) < 0)
		return sink_error(s, errno);
	if (rename(s->tmp, s->target) < 0)
		return sink_error(s, errno);
	MKT_FREE(s->tmp);
	sync_parent(s->target);
	return 0;
}
