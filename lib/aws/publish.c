/* Asset publishing to S3: see publish.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include "publish.h"

typedef struct job {
	char *display;
	char *path;       /* absolute or relative to cwd */
	char *bucket;
	char *key;
	uint64_t size;
	bool skipped, uploaded;
	int rc;
	char *error;
} job;

typedef struct pub {
	const synth_aws *a;
	const synth_publish_options *o;
	job *jobs;
	size_t njobs, jobs_cap, next, done;
	uint64_t bytes_total, bytes_done;
	pthread_mutex_t lock;
	sem_t slots;          /* requests in flight, at most o->parallel */
	FILE *log;
} pub;

/* Every request of a publish goes through here: the workers of several
 * multipart uploads share one budget of requests in flight. */
static int request(pub *p, synth_aws *a, const synth_aws_call *call, synth_http_response *r)
{
	while (sem_wait(&p->slots) < 0)
		;
	int rc = synth_aws_request(a, call, r);
	sem_post(&p->slots);
	return rc;
}

char *synth_aws_placeholders(const char *s, const char *account, const char *region)
{
	synth_buf b = SYNTH_BUF_INIT;
	while (*s) {
		if (!strncmp(s, "${AWS::AccountId}", 17)) {
			synth_buf_puts(&b, account ? account : "");
			s += 17;
		} else if (!strncmp(s, "${AWS::Region}", 14)) {
			synth_buf_puts(&b, region);
			s += 14;
		} else if (!strncmp(s, "${AWS::Partition}", 17)) {
			synth_buf_puts(&b, !strncmp(region, "cn-", 3) ? "aws-cn"
					    : !strncmp(region, "us-gov-", 7) ? "aws-us-gov" : "aws");
			s += 17;
		} else
			synth_buf_putc(&b, *s++);
	}
	return synth_buf_detach(&b);
}

/* SHA-256 of LEN bytes of PATH at OFF, as hex (the signed payload hash,
 * which S3 verifies) and base64 (x-amz-checksum-sha256, which S3 stores
 * and verifies too). One pass, large reads. */
static int digests(const char *path, uint64_t off, uint64_t len, char sha[65], char b64[45])
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return synth_error_setf(SYNTH_EIO, "cannot read %s: %s", path, strerror(errno));
	setvbuf(f, NULL, _IONBF, 0);
	enum { CHUNK = 256 * 1024 };
	unsigned char *buf = malloc(CHUNK);
	EVP_MD_CTX *s = EVP_MD_CTX_new();
	int ok = buf && s && fseeko(f, (off_t)off, SEEK_SET) == 0 &&
		 EVP_DigestInit_ex(s, synth__sha256_md(), NULL);
	while (ok && len > 0) {
		size_t want = len < CHUNK ? (size_t)len : CHUNK;
		size_t got = fread(buf, 1, want, f);
		if (got == 0) {
			ok = 0;
			break;
		}
		ok &= EVP_DigestUpdate(s, buf, got);
		len -= got;
	}
	unsigned char d[32];
	unsigned n = 0;
	ok = ok && EVP_DigestFinal_ex(s, d, &n);
	EVP_MD_CTX_free(s);
	free(buf);
	fclose(f);
	if (!ok)
		return synth_error_setf(SYNTH_EIO, "cannot hash %s", path);
	synth__hex(d, 32, sha);
	EVP_EncodeBlock((unsigned char *)b64, d, 32);
	return 0;
}

static int head_object(pub *p, synth_aws *a, const char *bucket, const char *key, bool *exists)
{
	char *path = synth_aws_s3_path(bucket, key);
	char *what = synth_asprintf("HeadObject s3://%s/%s", bucket, key);
	synth_aws_call call = {.service = "s3", .method = "HEAD", .path = path, .what = what};
	synth_http_response r = {0};
	int rc = path && what ? request(p, a, &call, &r) : synth_error_oom();
	*exists = rc == 0;
	if (rc == SYNTH_ENOTFOUND || (rc < 0 && r.status == 404)) {
		rc = 0;
		synth_error_clear();
	}
	synth_http_response_free(&r);
	free(path);
	free(what);
	return rc;
}

static void progress(pub *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(pub *p, const char *fmt, ...)
{
	pthread_mutex_lock(&p->lock);
	va_list ap;
	va_start(ap, fmt);
	if (p->o->tty) {
		char line[512];
		vsnprintf(line, sizeof line, fmt, ap);
		fprintf(p->log, "\r\033[K%s  [%zu/%zu assets, %.1f/%.1f MB]", line, p->done,
			p->njobs, p->bytes_done / 1e6, p->bytes_total / 1e6);
	} else {
		vfprintf(p->log, fmt, ap);
		fputc('\n', p->log);
	}
	fflush(p->log);
	va_end(ap);
	pthread_mutex_unlock(&p->lock);
}

static void add_bytes(pub *p, uint64_t n)
{
	pthread_mutex_lock(&p->lock);
	p->bytes_done += n;
	pthread_mutex_unlock(&p->lock);
}

static int put_single(synth_aws *a, pub *p, job *j)
{
	char sha[65], b64[45];
	int rc = digests(j->path, 0, j->size, sha, b64);
	if (rc < 0)
		return rc;
	char *path = synth_aws_s3_path(j->bucket, j->key);
	char *what = synth_asprintf("PutObject s3://%s/%s", j->bucket, j->key);
	synth_aws_call call = {.service = "s3", .method = "PUT", .path = path,
			       .body_file = j->path, .file_length = j->size,
			       .payload_hash = sha, .what = what};
	synth_http_headers_add(&call.headers, "x-amz-checksum-sha256", b64);
	synth_http_headers_add(&call.headers, "Content-Type",
			       strstr(j->key, ".json") ? "application/json" : "application/zip");
	synth_http_response r = {0};
	rc = path && what ? request(p, a, &call, &r) : synth_error_oom();
	synth_http_response_free(&r);
	synth_http_headers_free(&call.headers);
	free(path);
	free(what);
	if (rc == 0)
		add_bytes(p, j->size);
	return rc;
}

/* The parts of one multipart upload, sent by several threads (each with
 * its own client and connection); each part is retried on its own by the
 * HTTP layer. */
typedef struct parts {
	pub *p;
	job *j;
	const char *path, *upload_id;
	uint64_t part;
	size_t nparts, next;
	char **etags;
	int rc;
	char *error;
	pthread_mutex_t lock;
} parts;

static int upload_part(synth_aws *a, parts *ps, size_t i)
{
	job *j = ps->j;
	uint64_t off = i * ps->part, len = j->size - off < ps->part ? j->size - off : ps->part;
	char sha[65], b64[45], num[24];
	int rc = digests(j->path, off, len, sha, b64);
	if (rc < 0)
		return rc;
	snprintf(num, sizeof num, "%zu", i + 1);
	synth_sigv4_pair q[] = {{"partNumber", num}, {"uploadId", ps->upload_id}};
	char *pw = synth_asprintf("UploadPart %s of s3://%s/%s", num, j->bucket, j->key);
	synth_aws_call up = {.service = "s3", .method = "PUT", .path = ps->path, .query = q,
			     .nquery = 2, .body_file = j->path, .file_offset = off,
			     .file_length = len, .payload_hash = sha, .what = pw};
	synth_http_response r = {0};
	rc = pw ? request(ps->p, a, &up, &r) : synth_error_oom();
	synth_http_headers_free(&up.headers);
	if (rc == 0) {
		const char *etag = synth_http_headers_get(&r.headers, "ETag");
		if (!etag || !(ps->etags[i] = strdup(etag)))
			rc = synth_error_setf(SYNTH_ERROR, "%s: no ETag in the answer", pw);
		else
			add_bytes(ps->p, len);
	}
	synth_http_response_free(&r);
	free(pw);
	return rc;
}

static void *part_worker(void *arg)
{
	parts *ps = arg;
	synth_aws *a = NULL;
	int rc = synth_aws_clone(&a, ps->p->a);
	for (;;) {
		pthread_mutex_lock(&ps->lock);
		size_t i = ps->rc < 0 ? ps->nparts : ps->next++;
		pthread_mutex_unlock(&ps->lock);
		if (i >= ps->nparts)
			break;
		synth_error_clear();
		if (rc == 0)
			rc = upload_part(a, ps, i);
		if (rc < 0) {
			pthread_mutex_lock(&ps->lock);
			if (ps->rc == 0) {
				ps->rc = rc;
				ps->error = strdup(synth_error_last()->message);
			}
			pthread_mutex_unlock(&ps->lock);
			break;
		}
	}
	synth_aws_free(a);
	return NULL;
}

static int upload_parts(pub *p, job *j, const char *path, const char *upload_id,
			uint64_t part, size_t nparts, char **etags)
{
	parts ps = {.p = p, .j = j, .path = path, .upload_id = upload_id, .part = part,
		    .nparts = nparts, .etags = etags};
	pthread_mutex_init(&ps.lock, NULL);
	size_t n = (size_t)p->o->parallel < nparts ? (size_t)p->o->parallel : nparts;
	pthread_t t[16];
	size_t started = 0;
	for (size_t i = 0; i < n && i < 16; i++)
		if (pthread_create(&t[started], NULL, part_worker, &ps) == 0)
			started++;
	if (started == 0)
		part_worker(&ps);
	for (size_t i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&ps.lock);
	int rc = 0;
	if (ps.rc < 0)
		rc = synth_error_setf(ps.rc, "%s", ps.error ? ps.error : "a part failed");
	free(ps.error);
	return rc;
}

static int multipart(synth_aws *a, pub *p, job *j)
{
	uint64_t part = p->o->part_size;
	size_t nparts = (size_t)((j->size + part - 1) / part);
	char *path = synth_aws_s3_path(j->bucket, j->key);
	char *what = synth_asprintf("CreateMultipartUpload s3://%s/%s", j->bucket, j->key);
	synth_sigv4_pair q_uploads[] = {{"uploads", ""}};
	synth_aws_call create = {.service = "s3", .method = "POST", .path = path,
				 .query = q_uploads, .nquery = 1, .body = "", .body_len = 0,
				 .what = what};
	synth_http_headers_add(&create.headers, "Content-Type", "application/zip");
	synth_http_response r = {0};
	int rc = path && what ? request(p, a, &create, &r) : synth_error_oom();
	synth_http_headers_free(&create.headers);
	char *upload_id = NULL;
	if (rc == 0) {
		json_t *doc = synth_xml_to_json(r.body.ptr ? r.body.ptr : "", r.body.len);
		const char *id = json_string_value(json_object_get(doc, "UploadId"));
		if (id)
			upload_id = strdup(id);
		else
			rc = synth_error_setf(SYNTH_ERROR, "%s: no UploadId in the answer", what);
		json_decref(doc);
	}
	synth_http_response_free(&r);
	char **etags = calloc(nparts ? nparts : 1, sizeof *etags);
	if (rc == 0 && !etags)
		rc = synth_error_oom();
	if (rc == 0)
		rc = upload_parts(p, j, path, upload_id, part, nparts, etags);
	if (rc == 0) {
		synth_buf x = SYNTH_BUF_INIT;
		synth_buf_puts(&x, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
		for (size_t i = 0; i < nparts; i++)
			synth_buf_printf(&x, "<Part><PartNumber>%zu</PartNumber><ETag>%s</ETag></Part>",
					  i + 1, etags[i]);
		synth_buf_puts(&x, "</CompleteMultipartUpload>");
		synth_sigv4_pair q[] = {{"uploadId", upload_id}};
		char *cw = synth_asprintf("CompleteMultipartUpload s3://%s/%s", j->bucket, j->key);
		synth_aws_call done = {.service = "s3", .method = "POST", .path = path, .query = q,
				       .nquery = 1, .body = x.ptr, .body_len = x.len, .what = cw};
		synth_http_headers_add(&done.headers, "Content-Type", "application/xml");
		rc = x.oom ? synth_error_oom() : request(p, a, &done, &r);
		/* S3 may answer 200 with an error document. */
		if (rc == 0 && r.body.ptr && strstr(r.body.ptr, "<Error>")) {
			char *code = NULL, *msg = NULL, *rid = NULL;
			synth_aws_error_parse(r.body.ptr, r.body.len, &code, &msg, &rid);
			rc = synth_error_setf(SYNTH_ERROR, "%s: %s: %s", cw, code ? code : "error",
					      msg ? msg : "");
			free(code), free(msg), free(rid);
		}
		synth_http_response_free(&r);
		synth_http_headers_free(&done.headers);
		synth_buf_free(&x);
		free(cw);
	}
	if (rc < 0 && upload_id) {
		/* Best effort: do not leave the parts billed in the bucket. */
		char *keep = strdup(synth_error_last()->message);
		int code = synth_error_last()->code;
		synth_sigv4_pair q[] = {{"uploadId", upload_id}};
		synth_aws_call abort_call = {.service = "s3", .method = "DELETE", .path = path,
					     .query = q, .nquery = 1, .what = "AbortMultipartUpload"};
		request(p, a, &abort_call, &r);
		synth_http_response_free(&r);
		synth_error_setf(code, "%s", keep ? keep : "multipart upload failed");
		free(keep);
	}
	for (size_t i = 0; etags && i < nparts; i++)
		free(etags[i]);
	free(etags);
	free(upload_id);
	free(path);
	free(what);
	return rc;
}

static void *worker(void *arg)
{
	pub *p = arg;
	synth_aws *a = NULL;
	int crc = synth_aws_clone(&a, p->a);
	for (;;) {
		pthread_mutex_lock(&p->lock);
		size_t i = p->next++;
		pthread_mutex_unlock(&p->lock);
		if (i >= p->njobs)
			break;
		job *j = &p->jobs[i];
		synth_error_clear();
		bool exists = false;
		int rc = crc < 0 ? crc : head_object(p, a, j->bucket, j->key, &exists);
		if (rc == 0 && exists) {
			j->skipped = true;
			add_bytes(p, j->size);
		} else if (rc == 0) {
			rc = j->size >= p->o->multipart_threshold ? multipart(a, p, j)
								  : put_single(a, p, j);
			j->uploaded = rc == 0;
		}
		if (rc < 0) {
			j->rc = rc;
			j->error = strdup(synth_error_last()->message);
		}
		pthread_mutex_lock(&p->lock);
		p->done++;
		pthread_mutex_unlock(&p->lock);
		if (rc == 0)
			progress(p, "%s %s (%.1f KB) s3://%s/%s", j->skipped ? "skipped" : "uploaded",
				 j->display, j->size / 1024.0, j->bucket, j->key);
		else
			progress(p, "failed %s: %s", j->display, j->error ? j->error : "");
	}
	synth_aws_free(a);
	return NULL;
}

/* Whether an upload to BUCKET/KEY is queued already. */
static bool queued(const pub *p, const char *bucket, const char *key)
{
	for (size_t i = 0; i < p->njobs; i++)
		if (!strcmp(p->jobs[i].key, key) && !strcmp(p->jobs[i].bucket, bucket))
			return true;
	return false;
}

/* Adds the file assets of one asset manifest. */
static int collect(pub *p, synth_aws *a, const char *dir, const char *file, char **account,
		   const synth_publish_options *o)
{
	char *mpath = synth_asprintf("%s/%s", dir, file);
	json_error_t err;
	json_t *am = mpath ? json_load_file(mpath, 0, &err) : NULL;
	int rc = 0;
	if (!am)
		rc = synth_error_setf(SYNTH_EIO, "cannot read %s: %s", mpath ? mpath : file, err.text);
	const char *hash;
	json_t *fa;
	json_object_foreach(json_object_get(am, "files"), hash, fa) {
		if (rc < 0)
			break;
		const char *src = json_string_value(json_object_get(json_object_get(fa, "source"), "path"));
		const char *pack = json_string_value(json_object_get(json_object_get(fa, "source"), "packaging"));
		const char *disp = json_string_value(json_object_get(fa, "displayName"));
		if (!src || (pack && strcmp(pack, "file"))) {
			rc = synth_error_setf(SYNTH_EINVALID,
					      "%s: asset %s: only files with packaging \"file\" can be "
					      "published (libsynth zips directories at synth time)",
					      file, hash);
			break;
		}
		const char *dname;
		json_t *dst;
		json_object_foreach(json_object_get(fa, "destinations"), dname, dst) {
			const char *bt = json_string_value(json_object_get(dst, "bucketName"));
			const char *kt = json_string_value(json_object_get(dst, "objectKey"));
			if (!bt || !kt) {
				rc = synth_error_setf(SYNTH_EINVALID, "%s: asset %s: destination %s "
						      "has no bucketName/objectKey", file, hash, dname);
				break;
			}
			if ((strstr(bt, "${AWS::AccountId}") || strstr(kt, "${AWS::AccountId}")) &&
			    !*account) {
				rc = o->account_id ? ((*account = strdup(o->account_id)) ? 0 : synth_error_oom())
						   : synth_aws_account_id(a, account);
				if (rc < 0)
					break;
			}
			if ((rc = synth_array_grow((void **)&p->jobs, &p->njobs, &p->jobs_cap,
						   sizeof *p->jobs)) < 0)
				break;
			job j = {0};
			j.display = strdup(disp ? disp : hash);
			j.path = synth_asprintf("%s/%s", dir, src);
			j.bucket = synth_aws_placeholders(bt, *account, synth_aws_region(a));
			j.key = synth_aws_placeholders(kt, *account, synth_aws_region(a));
			struct stat st;
			if (j.bucket && j.key && queued(p, j.bucket, j.key)) {
				/* The same object from another manifest (stacks that share
				 * an asset): one upload, counted once. Keys are content
				 * hashes, so it is the same file. */
				free(j.display);
				free(j.path);
				free(j.bucket);
				free(j.key);
				continue;
			}
			if (!j.display || !j.path || !j.bucket || !j.key)
				rc = synth_error_oom();
			else if (stat(j.path, &st) < 0)
				rc = synth_error_setf(SYNTH_ENOTFOUND, "%s: asset file %s is missing",
						      file, j.path);
			j.size = rc == 0 ? (uint64_t)st.st_size : 0;
			p->jobs[p->njobs++] = j;
			p->bytes_total += j.size;
			if (rc < 0)
				break;
		}
	}
	json_decref(am);
	free(mpath);
	return rc;
}

int synth_publish_assets(synth_aws *a, const char *dir, const synth_publish_options *opts,
			 synth_publish_result *res)
{
	memset(res, 0, sizeof *res);
	synth_publish_options o = opts ? *opts : (synth_publish_options){0};
	if (o.parallel <= 0)
		o.parallel = 10; /* as the AWS CLI's max_concurrent_requests */
	if (o.parallel > 16)
		o.parallel = 16;
	if (!o.multipart_threshold)
		o.multipart_threshold = 16u << 20;
	if (!o.part_size)
		o.part_size = 8u << 20;
	if (o.part_size < (5u << 20))
		o.part_size = 5u << 20; /* S3 refuses smaller parts (but the last) */
	pub p = {.a = a, .o = &o, .log = o.log ? o.log : stderr};
	pthread_mutex_init(&p.lock, NULL);
	sem_init(&p.slots, 0, (unsigned)o.parallel);
	char *mpath = synth_asprintf("%s/manifest.json", dir);
	json_error_t err;
	json_t *man = mpath ? json_load_file(mpath, 0, &err) : NULL;
	int rc = man ? 0 : synth_error_setf(SYNTH_ENOTFOUND, "no cloud assembly in %s (%s)", dir,
					   mpath ? err.text : "out of memory");
	char *account = NULL;
	const char *id;
	json_t *art;
	json_object_foreach(json_object_get(man, "artifacts"), id, art) {
		const char *type = json_string_value(json_object_get(art, "type"));
		const char *file = json_string_value(json_object_get(json_object_get(art, "properties"), "file"));
		if (rc == 0 && type && !strcmp(type, "cdk:asset-manifest") && file)
			rc = collect(&p, a, dir, file, &account, &o);
	}
	json_decref(man);
	free(mpath);
	if (rc == 0 && p.njobs) {
		size_t n = (size_t)o.parallel < p.njobs ? (size_t)o.parallel : p.njobs;
		pthread_t *t = calloc(n, sizeof *t);
		size_t started = 0;
		for (size_t i = 0; t && i < n; i++)
			if (pthread_create(&t[started], NULL, worker, &p) == 0)
				started++;
		if (started == 0)
			worker(&p);
		for (size_t i = 0; i < started; i++)
			pthread_join(t[i], NULL);
		free(t);
		if (o.tty)
			fputc('\n', p.log);
	}
	res->assets = rc == 0 ? p.njobs : 0; /* rc: reading the manifests */
	for (size_t i = 0; i < p.njobs; i++) {
		job *j = &p.jobs[i];
		res->skipped += j->skipped;
		res->uploaded += j->uploaded;
		res->failed += j->rc < 0;
		if (j->uploaded)
			res->bytes_uploaded += j->size;
		if (rc == 0 && j->rc < 0)
			rc = synth_error_setf(j->rc, "%s", j->error ? j->error : "upload failed");
		free(j->display);
		free(j->path);
		free(j->bucket);
		free(j->key);
		free(j->error);
	}
	free(p.jobs);
	free(account);
	pthread_mutex_destroy(&p.lock);
	sem_destroy(&p.slots);
	return rc;
}

int synth_s3_ensure_bucket(synth_aws *a, const char *bucket, bool *created)
{
	*created = false;
	char *path = synth_aws_s3_path(bucket, NULL);
	char *what = synth_asprintf("HeadBucket s3://%s", bucket);
	synth_aws_call head = {.service = "s3", .method = "HEAD", .path = path, .what = what};
	synth_http_response r = {0};
	int rc = path && what ? synth_aws_request(a, &head, &r) : synth_error_oom();
	long status = r.status;
	synth_http_response_free(&r);
	if (rc == 0 || status != 404) {
		free(path);
		free(what);
		return rc;
	}
	synth_error_clear();
	const char *region = synth_aws_region(a);
	char *body = strcmp(region, "us-east-1")
			     ? synth_asprintf("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
					       "<LocationConstraint>%s</LocationConstraint></CreateBucketConfiguration>", region)
			     : strdup("");
	char *cw = synth_asprintf("CreateBucket s3://%s", bucket);
	synth_aws_call create = {.service = "s3", .method = "PUT", .path = path, .body = body,
				 .body_len = body ? strlen(body) : 0, .what = cw};
	rc = body && cw ? synth_aws_request(a, &create, &r) : synth_error_oom();
	*created = rc == 0;
	synth_http_response_free(&r);
	free(body);
	free(cw);
	free(path);
	free(what);
	return rc;
}
