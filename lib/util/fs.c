/* File system helpers: mkdir -p, rm -rf, atomic writes, directory swap. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util.h"

int synth__mkdir_p(const char *path)
{
	char *p = strdup(path);
	if (!p)
		return synth_error_oom();
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			int e = errno;
			free(p);
			return synth_error_setf(SYNTH_EIO, "cannot create directory %s: %s",
						path, strerror(e));
		}
		*s = '/';
	}
	int rc = 0;
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		rc = synth_error_setf(SYNTH_EIO, "cannot create directory %s: %s", path,
				      strerror(errno));
	free(p);
	return rc;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	int r = (flag == FTW_DP) ? rmdir(path) : unlink(path);
	return r < 0 && errno != ENOENT ? -1 : 0;
}

int synth__rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return 0;
	if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS) < 0)
		return synth_error_setf(SYNTH_EIO, "cannot remove %s: %s", path,
					strerror(errno));
	return 0;
}

int synth__write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return synth_error_setf(SYNTH_EIO, "cannot write %s: %s", path,
					strerror(errno));
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return synth_error_setf(SYNTH_EIO, "cannot write %s: %s", path,
						strerror(e));
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0)
		return synth_error_setf(SYNTH_EIO, "cannot write %s: %s", path,
					strerror(errno));
	return 0;
}

int synth__write_file_atomic(const char *path, const void *data, size_t len)
{
	char *tmp = synth_asprintf("%s.tmp.%ld", path, (long)getpid());
	if (!tmp)
		return synth_error_oom();
	int rc = synth__write_file(tmp, data, len);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = synth_error_setf(SYNTH_EIO, "cannot rename %s to %s: %s", tmp, path,
				      strerror(errno));
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int synth_file_read(const char *path, char **out, size_t *len)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return synth_error_setf(errno == ENOENT ? SYNTH_ENOTFOUND : SYNTH_EIO,
					"cannot read %s: %s", path, strerror(errno));
	synth_buf b = SYNTH_BUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		synth_buf_put(&b, chunk, n);
	int err = ferror(f);
	fclose(f);
	if (err) {
		synth_buf_free(&b);
		return synth_error_setf(SYNTH_EIO, "cannot read %s", path);
	}
	size_t l = b.len;
	*out = synth_buf_detach(&b);
	if (!*out)
		return synth_error_oom();
	if (len)
		*len = l;
	return 0;
}

/* Whether DIR holds nothing but "." and "..". */
static bool dir_empty(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

/* Whether DIR/manifest.json looks like a cloud assembly manifest (synth's
 * or another CDK tool's): a JSON object naming "version" and "artifacts",
 * which the CDK writes first. A look at its first 4 KB, not a parse: this
 * runs on every synth, and a user's manifest.json that starts with both
 * names is not a risk worth a parse (nor a heap buffer: a large malloc
 * here pays for consolidating the many small blocks the specification
 * check freed). */
static bool has_cdk_manifest(const char *dir)
{
	char path[PATH_MAX], head[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/manifest.json", dir) >= sizeof path)
		return false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, head, sizeof head);
	close(fd);
	size_t i = 0;
	while (n > 0 && i < (size_t)n && strchr(" \t\r\n", head[i]) && head[i])
		i++;
	return n > 0 && i < (size_t)n && head[i] == '{' && memmem(head, (size_t)n, "\"version\"", 9) &&
	       memmem(head, (size_t)n, "\"artifacts\"", 11);
}

int synth__assembly_replaceable(const char *dir)
{
	struct stat st;
	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? 0
				       : synth_error_setf(SYNTH_EIO, "cannot read %s: %s", dir,
							  strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return synth_error_setf(SYNTH_EIO,
					"%s exists and is not a directory; not replacing it", dir);
	if (has_cdk_manifest(dir) || dir_empty(dir))
		return 0;
	return synth_error_setf(SYNTH_EINVALID,
				"%s is not a cloud assembly (it has no manifest.json with a "
				"\"version\" and \"artifacts\"); the output directory is replaced "
				"as a whole, so synth does not touch a directory it did not write: "
				"choose another output directory, or empty or remove this one "
				"yourself", dir);
}

int synth__replace_dir(const char *src, const char *dst)
{
	int rc = synth__assembly_replaceable(dst);
	if (rc < 0)
		return rc;
	struct stat st;
	if (lstat(dst, &st) < 0) {
		if (rename(src, dst) < 0)
			return synth_error_setf(SYNTH_EIO, "cannot rename %s to %s: %s",
						src, dst, strerror(errno));
		return 0;
	}
	/* Swap atomically: readers see the old or the new assembly. */
	if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_EXCHANGE) == 0)
		return synth__rm_rf(src); /* src now holds the old assembly */
	/* Fallback (file systems without RENAME_EXCHANGE): two renames. A run
	 * killed between them leaves DST.old.<pid>, which the CLI's next run
	 * puts back (cli/synthesize.c). */
	char *old = synth_asprintf("%s.old.%ld", dst, (long)getpid());
	if (!old)
		return synth_error_oom();
	if (rename(dst, old) < 0)
		rc = synth_error_setf(SYNTH_EIO, "cannot rename %s: %s", dst,
				      strerror(errno));
	else if (rename(src, dst) < 0) {
		rc = synth_error_setf(SYNTH_EIO, "cannot rename %s to %s: %s", src, dst,
				      strerror(errno));
		rename(old, dst); /* put the previous assembly back */
	} else
		rc = synth__rm_rf(old);
	free(old);
	return rc;
}
