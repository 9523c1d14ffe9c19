/*
 * Sensitive requests in the HTTP layer (synth_http_request.sensitive, used
 * by the SSM client for values): the response body is wiped whenever its
 * buffer grows and when it is freed, and libcurl's own buffers are wiped
 * when libcurl frees them. Proven two ways against an in-process server
 * that answers a large body made of a marker:
 *  - the layer's counters: a wipe per growth, one at the free; none for an
 *    ordinary request;
 *  - (not in the sanitizer build: ASan owns malloc there) free() and
 *    realloc() are wrapped to look into every block that is released: no
 *    block holding the marker is ever released during or after a sensitive
 *    request, down to the client's libcurl handle; an ordinary request
 *    does release such blocks (the check can fail).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include "check.h"
#include "helpers.h"
#include "http.h"

#define MARK "S3CRET-marker-7f3a9c"
#define BODY_REPEAT 12000 /* about 240 KB: the buffer grows many times */

/* --- release watching ----------------------------------------------------- */

#if !defined(__SANITIZE_ADDRESS__)
#define WATCH 1
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
static volatile int watching;
static long dirty; /* blocks released while holding the marker */

static int holds_mark(void *p)
{
	return p && memmem(p, malloc_usable_size(p), MARK, sizeof MARK - 1) != NULL;
}

void free(void *p)
{
	if (watching && holds_mark(p))
		__atomic_fetch_add(&dirty, 1, __ATOMIC_RELAXED);
	__libc_free(p);
}

void *realloc(void *old, size_t n)
{
	int had = watching && holds_mark(old);
	void *p = __libc_realloc(old, n);
	if (had && p && p != old) /* moved: the old block was released as it was */
		__atomic_fetch_add(&dirty, 1, __ATOMIC_RELAXED);
	return p;
}
#endif

/* --- the server: one request per connection, no heap ------------------------ */

static int lfd;
static char base[64];
static char reply_body[BODY_REPEAT * (sizeof MARK - 1)];

static void *serve(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			return NULL;
		static char req[1 << 16];
		size_t got = 0;
		long want = -1;
		for (;;) {
			ssize_t r = read(fd, req + got, sizeof req - 1 - got);
			if (r <= 0)
				break;
			got += (size_t)r;
			req[got] = '\0';
			char *end = strstr(req, "\r\n\r\n");
			if (!end)
				continue;
			char *cl = strcasestr(req, "content-length:");
			long len = cl && cl < end ? atol(cl + 15) : 0;
			want = (long)(end + 4 - req) + len;
			if ((long)got >= want)
				break;
		}
		if (!strncmp(req, "QUIT", 4)) {
			close(fd);
			return NULL;
		}
		char head[256];
		int hn = snprintf(head, sizeof head,
				  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
				  "Content-Length: %zu\r\nConnection: close\r\n\r\n",
				  sizeof reply_body);
		ssize_t w = write(fd, head, (size_t)hn);
		/* In pieces, so the client's buffer grows in many steps. */
		for (size_t off = 0; w >= 0 && off < sizeof reply_body; off += 4096) {
			size_t n = sizeof reply_body - off < 4096 ? sizeof reply_body - off : 4096;
			w = write(fd, reply_body + off, n);
		}
		close(fd);
	}
}

static int start_server(pthread_t *t)
{
	for (size_t i = 0; i < BODY_REPEAT; i++)
		memcpy(reply_body + i * (sizeof MARK - 1), MARK, sizeof MARK - 1);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 8) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &al) < 0)
		return -1;
	snprintf(base, sizeof base, "http://127.0.0.1:%d/", ntohs(a.sin_port));
	return pthread_create(t, NULL, serve, NULL);
}

/* The request body holds the marker too (PutParameter's value). */
static const char request_body[] = "{\"Name\": \"/synth/x\", \"Value\": \"" MARK "\"}";

/* One POST with a fresh client, freed at the end (libcurl's handle too).
 * Returns whether the whole body came back. */
static bool one_request(bool sensitive, unsigned long *grows, unsigned long *frees)
{
	unsigned long g0, f0, g1, f1;
	synth_http__wipe_stats(&g0, &f0, NULL);
	synth_http *c = NULL;
	if (synth_http_new(&c, &(synth_http_options){.max_attempts = 1, .timeout_ms = 5000}) < 0)
		return false;
	synth_http_request req = {.method = "POST", .url = base, .body = request_body,
				  .body_len = sizeof request_body - 1, .what = "test",
				  .sensitive = sensitive};
	synth_http_response r;
	int rc = synth_http_send(c, &req, &r);
	bool ok = rc == 0 && r.status == 200 && r.body.len == sizeof reply_body &&
		  !memcmp(r.body.ptr, reply_body, sizeof reply_body);
	synth_http__wipe_stats(&g1, NULL, NULL);
	synth_http_response_free(&r);
	synth_http__wipe_stats(NULL, &f1, NULL);
	synth_http_free(c);
	*grows = g1 - g0;
	*frees = f1 - f0;
	return ok;
}

int main(void)
{
	pthread_t t;
	CHECK(start_server(&t) == 0, "the server listens (%s)", base);
	unsigned long grows, frees, curl0, curl1;

	/* Warm up libcurl's global state outside the watched window. */
	one_request(false, &grows, &frees);

#ifdef WATCH
	__atomic_store_n(&dirty, 0, __ATOMIC_RELAXED);
	watching = 1;
#endif
	synth_http__wipe_stats(NULL, NULL, &curl0);
	bool ok = one_request(true, &grows, &frees);
	synth_http__wipe_stats(NULL, NULL, &curl1);
#ifdef WATCH
	watching = 0;
	long dirty_sensitive = dirty;
#endif
	CHECK(ok, "sensitive: the whole body (%zu bytes) arrives intact", sizeof reply_body);
	CHECK(grows >= 2, "sensitive: the body's buffer was wiped at each of its %lu growths", grows);
	CHECK(frees == 1, "sensitive: and once more when the response was freed (%lu)", frees);
	CHECK(curl1 > curl0, "libcurl's frees go through the wiping allocator (%lu blocks)",
	      curl1 - curl0);
#ifdef WATCH
	CHECK(dirty_sensitive == 0,
	      "sensitive: no block holding the secret was released, libcurl's included (%ld)",
	      dirty_sensitive);
#endif

	/* An ordinary request: no wipe by the layer, and the watch sees the
	 * marker released (so the checks above can fail). */
#ifdef WATCH
	__atomic_store_n(&dirty, 0, __ATOMIC_RELAXED);
	watching = 1;
#endif
	ok = one_request(false, &grows, &frees);
#ifdef WATCH
	watching = 0;
#endif
	CHECK(ok && grows == 0 && frees == 0,
	      "an ordinary request: the body arrives, no wipe by the layer (%lu, %lu)", grows, frees);
#ifdef WATCH
	CHECK(dirty > 0, "an ordinary request: blocks with the marker are released (%ld): the "
			 "watch works", dirty);
#endif

	/* Stop the server. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				.sin_port = htons((unsigned short)atoi(strrchr(base, ':') + 1))};
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
		(void)!write(fd, "QUIT\r\n\r\n", 8);
	if (fd >= 0)
		close(fd);
	pthread_join(t, NULL);
	close(lfd);
	return check_failed ? 1 : 0;
}
