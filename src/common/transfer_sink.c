/*
 * transfer_sink.c: where a transfer's content goes, and the sweep of the
 * temporary files killed transfers left.
 *
 * A new regular file is written as "<target>.part.XXXXXX" beside the
 * target (or in its MKT_TRANSFER_TMP_DIR) and renamed over it by
 * mkt_transfer__sink_commit() only, after an fsync;
 * mkt_transfer__sink_free() of an uncommitted sink removes it.  The
 * temporary file is flock'ed from its creation until it has its final
 * name: that is how mkt_transfer_sweep() tells a live transfer's file from
 * a dead one's.  Blocks of zeros are not written but skipped (pwrite at an
 * offset), so sparse images stay sparse.  Standard output, devices and
 * pipes are written in place, zeros included.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
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

#define PART ".part."
#define SUFFIX_LEN 6
static const char suffix_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* The prefix of a temporary file's path: "<target>", or with @private
 * "<target's dir>/.marketd-tmp/<target's name>", the directory created
 * (s->tmp_dir). */
static int temp_prefix(mkt_transfer_sink *s, char **out, int private)
{
	const char *target = s->target, *slash = strrchr(target, '/');

	if (!private) {
		*out = mkt_strdup(target);
		return 0;
	}
	if (!s->tmp_dir)
		s->tmp_dir = slash ? mkt_asprintf("%.*s/" MKT_TRANSFER_TMP_DIR, (int)(slash - target), target)
				   : mkt_strdup(MKT_TRANSFER_TMP_DIR);
	/* 0700: whoever else may read the target's directory (a web server)
	 * cannot enter this one. */
	if (mkdir(s->tmp_dir, 0700) < 0 && errno != EEXIST)
		return mkt_error_set(MKT_ERROR, MKT_ERR_OS, "cannot write %s: cannot create %s: %s",
				     target, MKT_TRANSFER_TMP_DIR, strerror(errno));
	*out = mkt_asprintf("%s/%s", s->tmp_dir, slash ? slash + 1 : target);
	return 0;
}

/* "<prefix>.part.XXXXXX" on the target's filesystem, so the rename stays
 * a rename; mode 0666 minus the umask, as cp would create it. */
static int open_temp(mkt_transfer_sink *s, int private)
{
	unsigned char rnd[SUFFIX_LEN];
	char suffix[SUFFIX_LEN + 1], *prefix = NULL;
	int tries, saved = EEXIST, ret;
	size_t i;

	if ((ret = temp_prefix(s, &prefix, private)) < 0)
		return ret;
	for (tries = 0; tries < 100; tries++) {
		if ((ret = mkt_util_random(rnd, sizeof(rnd))) < 0)
			goto cleanup;
		for (i = 0; i < sizeof(rnd); i++)
			suffix[i] = suffix_chars[rnd[i] % (sizeof(suffix_chars) - 1)];
		suffix[SUFFIX_LEN] = '\0';
		free(s->tmp);
		s->tmp = mkt_asprintf("%s" PART "%s", prefix, suffix);
		if ((s->fd = open(s->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)) >= 0) {
			s->own_fd = 1;
			s->holes = 1;
			/* Held until the rename: "alive" to mkt_transfer_sweep().
			 * A new file nobody else has open: it cannot block. */
			flock(s->fd, LOCK_EX | LOCK_NB);
			goto cleanup;
		}
		saved = errno;
		/* Another transfer that ended removed the directory, empty,
		 * between our mkdir and open: make it again. */
		if (saved == ENOENT && s->tmp_dir && mkdir(s->tmp_dir, 0700) == 0)
			continue;
		if (saved != EEXIST)
			break;
	}
	MKT_FREE(s->tmp);
	ret = sink_error(s, saved);

 cleanup:
	free(prefix);
	return ret;
}

void mkt_transfer__sink_free(mkt_transfer_sink *s)
{
	if (!s)
		return;
	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	if (s->tmp)
		unlink(s->tmp);
	/* Only when empty: no directory left where there was none, but
	 * another transfer's file stays. */
	if (s->tmp_dir)
		rmdir(s->tmp_dir);
	free(s->tmp_dir);
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
	s->max_size = opts->max_size;
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
	} else if ((ret = open_temp(s, opts->private_tmp)) < 0) {
		goto cleanup;
	} else {
		s->reserve = opts->reserve;
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

/* Once per block written: stop before the file system is full, not when
 * it is (other users of it need the space too). */
static int check_reserve(mkt_transfer_sink *s)
{
	struct statvfs st;
	uint64_t avail;

	if (!s->reserve || fstatvfs(s->fd, &st) < 0)
		return 0;
	avail = (uint64_t)st.f_bavail * (st.f_frsize ? st.f_frsize : st.f_bsize);
	if (avail >= s->reserve)
		return 0;
	return mkt_error_set(MKT_ERROR, MKT_ERR_OS,
			     "cannot write %s: %llu MiB left on its file system, less than the %llu MiB reserved",
			     s->name, (unsigned long long)(avail >> 20),
			     (unsigned long long)(s->reserve >> 20));
}

/* Write @n bytes at s->off, leaving zero blocks as holes when allowed. */
static int flush(mkt_transfer_sink *s, const unsigned char *p, size_t n)
{
	size_t i = 0;
	int ret;

	if ((ret = check_reserve(s)) < 0)
		return ret;
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

	/* Counted before anything is written: the cap holds for a stream of
	 * zeros too, which costs no disk but is no smaller an image. */
	if (s->max_size && s->off + s->len + n > s->max_size)
		return mkt_error_set(MKT_EINVAL, MKT_ERR_OS,
				     "cannot write %s: more than MAX_IMAGE_SIZE (%llu MiB) of content",
				     s->name, (unsigned long long)(s->max_size >> 20));
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
	/* Renamed before the close, which drops the lock: a sweep must never
	 * see the temporary name unlocked while it is still to be renamed.
	 * The fsync has reported any error writing the data. */
	if (rename(s->tmp, s->target) < 0)
		return sink_error(s, errno);
	MKT_FREE(s->tmp);
	s->own_fd = 0;
	close(s->fd);
	sync_parent(s->target);
	return 0;
}

/* ----------------------------------------------------------------- sweep */

/* "….part.XXXXXX", as open_temp() names them. */
static int is_temp_name(const char *name)
{
	size_t len = strlen(name), plen = strlen(PART);

	return len > plen + SUFFIX_LEN &&
	       !memcmp(name + len - SUFFIX_LEN - plen, PART, plen) &&
	       strspn(name + len - SUFFIX_LEN, suffix_chars) == SUFFIX_LEN;
}

/* Remove @name of @dirfd if it is a dead transfer's: untouched for
 * @min_age seconds and not locked. */
static void sweep_one(int dirfd, const char *dir, const char *name, long min_age,
		      mkt_transfer_swept_cb cb, void *ud)
{
	struct stat st, now_st;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || time(NULL) - st.st_mtime < min_age ||
	    flock(fd, LOCK_EX | LOCK_NB) < 0)
		goto cleanup;
	/* Still the file under that name (not renamed and replaced since it
	 * was opened)? */
	if (fstatat(dirfd, name, &now_st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    now_st.st_dev != st.st_dev || now_st.st_ino != st.st_ino ||
	    unlinkat(dirfd, name, 0) < 0)
		goto cleanup;
	if (cb) {
		char *path = mkt_asprintf("%s/%s", dir, name);

		cb(ud, path, (uint64_t)st.st_size, (uint64_t)st.st_blocks * 512);
		free(path);
	}

 cleanup:
	close(fd);
}

static int sweep_dir(const char *dir, long min_age, mkt_transfer_swept_cb cb, void *ud)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
		       mkt_error_set_os(errno, "cannot read %s", dir);
	while ((e = readdir(d))) {
		if (is_temp_name(e->d_name))
			sweep_one(dirfd(d), dir, e->d_name, min_age, cb, ud);
	}
	closedir(d);
	return 0;
}

int mkt_transfer_sweep(const char *dir, long min_age, mkt_transfer_swept_cb cb, void *ud)
{
	char *tmp = mkt_asprintf("%s/" MKT_TRANSFER_TMP_DIR, dir);
	int ret;

	/* The older layout, beside the targets, too: left by versions that
	 * had no MKT_TRANSFER_TMP_DIR, or by transfers without private_tmp. */
	if ((ret = sweep_dir(tmp, min_age, cb, ud)) == 0)
		ret = sweep_dir(dir, min_age, cb, ud);
	rmdir(tmp);     /* when empty; a transfer that needs it makes it again */
	free(tmp);
	return ret;
}
