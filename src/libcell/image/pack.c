/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A tree into a tarball (the debian template's tree cache): libarchive's
 * disk reader walks it without following symlinks or crossing mounts and
 * keeps numeric owners, modes, times, xattrs and hardlinks; the writer
 * makes pax (for xattrs and long names) compressed with zstd.  Entry names
 * are relative to the tree, so image_apply_tar_file puts it back.
 */
#include "image-internal.h"
#include "../base/cleanup.h"
#include "../base/log.h"
#include "../base/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <string.h>

struct pack {
	struct archive *disk, *out;
	struct archive_entry_linkresolver *links;
	int fd;
	struct image_hash hash;
	size_t root_len;
	char buf[1 << 16];
};

static la_ssize_t write_cb(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct pack *p = ctx;
	int r = cell_write_all(p->fd, buf, len);

	if (r < 0) {
		archive_set_error(a, -r, "write: %s", strerror(-r));
		return -1;
	}
	image_hash_update(&p->hash, buf, len);
	return (la_ssize_t)len;
}

static int pack_open(struct pack *p, const char *dir, struct cell_error *err)
{
	p->disk = archive_read_disk_new();
	p->out = archive_write_new();
	p->links = archive_entry_linkresolver_new();
	if (!p->disk || !p->out || !p->links || image_hash_init(&p->hash, NULL) < 0)
		return cell_err(err, ENOMEM, "libarchive");
	(void)archive_write_set_format_pax_restricted(p->out);
	/* no zero padding after the compressed stream: zstd would read it as a frame */
	(void)archive_write_set_bytes_in_last_block(p->out, 1);
	if (archive_write_add_filter_zstd(p->out) != ARCHIVE_OK)
		return cell_errx(err, ENOTSUP, "zstd: %s", archive_error_string(p->out));
	(void)archive_write_set_filter_option(p->out, "zstd", "compression-level", "3");
	archive_entry_linkresolver_set_strategy(p->links, archive_format(p->out));
	if (archive_write_open2(p->out, p, NULL, write_cb, NULL, NULL) != ARCHIVE_OK)
		return cell_errx(err, EIO, "open tarball: %s", archive_error_string(p->out));
	(void)archive_read_disk_set_behavior(
	    p->disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS | ARCHIVE_READDISK_NO_ACL |
			 ARCHIVE_READDISK_NO_FFLAGS | ARCHIVE_READDISK_NO_SPARSE);
	(void)archive_read_disk_set_symlink_physical(p->disk);
	if (archive_read_disk_open(p->disk, dir) != ARCHIVE_OK)
		return cell_errx(err, EIO, "%s: %s", dir, archive_error_string(p->disk));
	p->root_len = strlen(dir);
	return 0;
}

/* "<dir>/etc/passwd" -> "etc/passwd"; the root itself -> ".". */
static void rename_entry(struct pack *p, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e) + p->root_len;

	name += strspn(name, "/");
	_cleanup_free_ char *rel = xstrdup(*name ? name : ".");
	archive_entry_copy_pathname(e, rel);
}

static int copy_data(struct pack *p, struct cell_error *err)
{
	la_ssize_t n;

	while ((n = archive_read_data(p->disk, p->buf, sizeof(p->buf))) > 0)
		if (archive_write_data(p->out, p->buf, (size_t)n) != n)
			return cell_errx(err, EIO, "write: %s", archive_error_string(p->out));
	return n < 0 ? cell_errx(err, EIO, "read: %s", archive_error_string(p->disk)) : 0;
}

static int pack_entry(struct pack *p, struct archive_entry *e, struct cell_error *err)
{
	struct archive_entry *spare = NULL;
	int r;

	rename_entry(p, e);
	archive_entry_linkify(p->links, &e, &spare); /* tar: e itself, maybe now a hardlink */
	r = archive_write_header(p->out, e);
	if (r == ARCHIVE_FAILED) { /* a socket, say: tar cannot hold it */
		cell_debug("image: pack %s: %s", archive_entry_pathname(e),
			   archive_error_string(p->out));
		return 0;
	}
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return cell_errx(err, EIO, "%s: %s", archive_entry_pathname(e),
				 archive_error_string(p->out));
	return archive_entry_size(e) > 0 ? copy_data(p, err) : 0;
}

static int pack_walk(struct pack *p, struct cell_error *err)
{
	struct archive_entry *e = archive_entry_new();
	int q, r = 0;

	while (r == 0 && (q = archive_read_next_header2(p->disk, e)) != ARCHIVE_EOF) {
		if (q != ARCHIVE_OK && q != ARCHIVE_WARN) {
			r = cell_errx(err, EIO, "walk: %s", archive_error_string(p->disk));
			break;
		}
		(void)archive_read_disk_descend(p->disk);
		r = pack_entry(p, e, err);
	}
	archive_entry_free(e);
	if (r == 0 && archive_write_close(p->out) != ARCHIVE_OK)
		r = cell_errx(err, EIO, "finish tarball: %s", archive_error_string(p->out));
	return r;
}

int image_pack_tree(const char *dir, int out_fd, char digest[IMAGE_DIGEST_MAX],
		    struct cell_error *err)
{
	struct pack *p = xzalloc(sizeof(*p));
	int r;

	p->fd = out_fd;
	r = pack_open(p, dir, err);
	if (r == 0)
		r = pack_walk(p, err);
	if (r == 0)
		image_hash_final(&p->hash, digest);
	image_hash_done(&p->hash);
	if (p->links)
		archive_entry_linkresolver_free(p->links);
	if (p->disk)
		(void)archive_read_free(p->disk);
	if (p->out)
		(void)archive_write_free(p->out);
	free(p);
	return r < 0 ? cell_err_prefix(err, "pack %s", dir) : 0;
}
