/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Scope-bound cleanup (GCC/Clang __attribute__((cleanup))).  Cleanup
 * variables are always initialised; TAKE_PTR/TAKE_FD hand ownership on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

static inline void cell_freep(void *p)
{
	free(*(void **)p);
}

static inline void cell_closep(const int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		(void)close(*fd);
		errno = saved;
	}
}

static inline void cell_fclosep(FILE **f)
{
	if (*f)
		(void)fclose(*f);
}

static inline void cell_closedirp(DIR **d)
{
	if (*d)
		(void)closedir(*d);
}

/*
 * The cleanup function of a pointer type from its free function, as systemd's
 * DEFINE_TRIVIAL_CLEANUP_FUNC: DEFINE_FREEP(struct cell_spec *, cell_spec_free)
 * next to the type's free function defines cell_spec_freep(struct cell_spec **),
 * which frees what the variable points to, if anything.
 */
#define DEFINE_FREEP(type, func)                                                                   \
	static inline void func##p(type *p)                                                        \
	{                                                                                          \
		if (*p)                                                                            \
			(void)func(*p);                                                            \
	}

void cell_strv_free(char **v);
DEFINE_FREEP(char **, cell_strv_free)

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(cell_freep)
#define _cleanup_close_ _cleanup_(cell_closep)
#define _cleanup_fclose_ _cleanup_(cell_fclosep)
#define _cleanup_closedir_ _cleanup_(cell_closedirp)
#define _cleanup_strv_free_ _cleanup_(cell_strv_freep)

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _tp_ = (p);                                                          \
		(p) = NULL;                                                                        \
		_tp_;                                                                              \
	})

#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _tf_ = (fd);                                                                   \
		(fd) = -1;                                                                         \
		_tf_;                                                                              \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
