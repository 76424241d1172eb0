/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cell_image_import: which format, the destination contract, the user. */
#include "image-internal.h"
#include "../base/util.h"

#include <errno.h>
#include <sys/stat.h>

static int import_into(const char *source, bool layout, int rootfd, struct cell_image_config *c,
		       struct cell_error *err)
{
	int r = layout ? image_oci_import(source, rootfd, c, err)
		       : image_docker_import(source, rootfd, c, err);

	if (r == 0 && (r = cell_image_user_resolve(rootfd, c, err)) < 0)
		(void)cell_err_prefix(err, "config.User");
	return r;
}

int cell_image_import(const char *source, const char *dest_rootfs, struct cell_image_config *cfg,
		      struct cell_error *err)
{
	struct cell_image_config c = {0};
	struct image_dest d;
	struct stat st;
	int r;

	if (stat(source, &st) < 0)
		return cell_err(err, errno, "image %s", source);
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return cell_errx(err, EINVAL,
				 "image %s: neither an OCI layout directory nor a tarball", source);
	r = image_dest_open(dest_rootfs, &d, err);
	if (r < 0)
		return r;
	r = import_into(source, S_ISDIR(st.st_mode), d.fd, &c, err);
	image_dest_close(&d, r == 0);
	if (r < 0) {
		cell_image_config_free(&c);
		return cell_err_prefix(err, "import %s", source);
	}
	if (cfg)
		*cfg = c;
	else
		cell_image_config_free(&c);
	return 0;
}
