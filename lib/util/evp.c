/* The SHA-256 method for OpenSSL's EVP and HMAC calls (the AWS client's
 * signatures and upload digests). In a file of its own: a backend program
 * hashes through SHA256() (util.c) and, linked statically, never pulls
 * EVP and OpenSSL's providers in through this object. */
#include <pthread.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include "util.h"

/* SHA-256 fetched once: an implicit fetch on every digest costs more than
 * hashing a short string. */
static pthread_once_t sha_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha_md;

static void sha_fetch(void)
{
	sha_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	ERR_clear_error();
}

const EVP_MD *synth__sha256_md(void)
{
	pthread_once(&sha_once, sha_fetch);
	return sha_md ? sha_md : EVP_sha256();
}
