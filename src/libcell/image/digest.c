/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Content digests through OpenSSL's libcrypto (EVP).  The algorithms are
 * those image-spec descriptor.md registers: sha256 and sha512, encoded as
 * lowercase hex.
 */
#include "image-internal.h"
#include "../base/cleanup.h"
#include "../base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct {
	const char *name;
	size_t hex_len;
} algs[] = {
    {"sha256", 64},
    {"sha512", 128},
};

static const EVP_MD *md_of(const char *alg)
{
	return streq(alg, "sha512") ? EVP_sha512() : EVP_sha256();
}

bool image_digest_valid(const char *digest)
{
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++) {
		size_t n = strlen(algs[i].name);
		if (strncmp(digest, algs[i].name, n) != 0 || digest[n] != ':')
			continue;
		const char *hex = digest + n + 1;
		return strlen(hex) == algs[i].hex_len &&
		       strspn(hex, "0123456789abcdef") == algs[i].hex_len;
	}
	return false;
}

int image_hash_init(struct image_hash *h, const char *digest)
{
	const char *alg = digest && cell_startswith(digest, "sha512:") ? "sha512" : "sha256";

	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx)
		return -ENOMEM;
	(void)snprintf(h->alg, sizeof(h->alg), "%s", alg);
	if (EVP_DigestInit_ex(h->ctx, md_of(alg), NULL) != 1) {
		image_hash_done(h);
		return -EIO;
	}
	return 0;
}

void image_hash_update(struct image_hash *h, const void *buf, size_t n)
{
	if (h->ctx && n > 0)
		(void)EVP_DigestUpdate(h->ctx, buf, n);
}

void image_hash_final(struct image_hash *h, char out[IMAGE_DIGEST_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	size_t n;

	out[0] = '\0';
	if (!h->ctx || EVP_DigestFinal_ex(h->ctx, md, &len) != 1)
		len = 0;
	n = (size_t)snprintf(out, IMAGE_DIGEST_MAX, "%s:", h->alg);
	for (unsigned int i = 0; i < len && n + 3 <= IMAGE_DIGEST_MAX; i++)
		n += (size_t)snprintf(out + n, IMAGE_DIGEST_MAX - n, "%02x", md[i]);
	image_hash_done(h);
}

void image_hash_done(struct image_hash *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int image_digest_file(const char *path, char out[IMAGE_DIGEST_MAX], struct cell_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct image_hash h = {0};
	char buf[1 << 16];
	ssize_t n;

	if (fd < 0)
		return cell_err(err, errno, "open %s", path);
	if (image_hash_init(&h, NULL) < 0)
		return cell_err(err, ENOMEM, "sha256 of %s", path);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		image_hash_update(&h, buf, (size_t)n);
	if (n < 0) {
		int e = errno;
		image_hash_done(&h);
		return cell_err(err, e, "read %s", path);
	}
	image_hash_final(&h, out);
	return 0;
}
