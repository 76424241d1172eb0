/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libcell/sys/selfexec.h"

#define PROBE "--selfexec-probe"

static int temp_file_with(const char *text)
{
	char path[] = "/tmp/cell-test-selfexec.XXXXXX";
	int fd = mkostemp(path, O_CLOEXEC);

	assert_true(fd >= 0);
	(void)unlink(path);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	return fd;
}

static void a_regular_file_is_not_sealed(void **state)
{
	int fd = temp_file_with("x");
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	assert_false(cell_selfexec_fd_sealed(fd));
	assert_false(cell_selfexec_fd_sealed(self));
	assert_false(cell_selfexec_fd_sealed(-1));
	close(fd);
	close(self);
}

static void an_unsealed_memfd_is_not_sealed(void **state)
{
	int fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
	assert_false(cell_selfexec_fd_sealed(fd));
	close(fd);
}

static void the_copy_is_identical_sealed_and_cloexec(void **state)
{
	const char *text = "\177ELF not really, but bytes to copy\n";
	struct cell_error err = {0};
	char buf[128] = {0};
	int src = temp_file_with(text), copy = -1;

	assert_int_equal(cell_selfexec_sealed_copy(src, &copy, &err), 0);
	assert_true(cell_selfexec_fd_sealed(copy));
	assert_int_equal(pread(copy, buf, sizeof(buf) - 1, 0), (ssize_t)strlen(text));
	assert_string_equal(buf, text);
	assert_true(fcntl(copy, F_GETFD) & FD_CLOEXEC);
	/* F_SEAL_WRITE, F_SEAL_SHRINK, F_SEAL_GROW and F_SEAL_SEAL hold */
	assert_int_equal(pwrite(copy, "X", 1, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(copy, 0), -1);
	assert_int_equal(ftruncate(copy, 1 << 20), -1);
	assert_int_equal(fcntl(copy, F_ADD_SEALS, 0), -1);
	assert_int_equal(errno, EPERM);
	close(src);
	close(copy);
}

/* An ELF file is copied up to the end of its last segment: section headers and
 * debug sections are not needed to run it (the re-exec test runs such a copy). */
static void an_elf_copy_keeps_what_exec_reads(void **state)
{
	struct cell_error err = {0};
	unsigned char a[64], b[64];
	struct stat in, out;
	int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), copy = -1;

	assert_int_equal(cell_selfexec_sealed_copy(src, &copy, &err), 0);
	assert_int_equal(fstat(src, &in), 0);
	assert_int_equal(fstat(copy, &out), 0);
	assert_true(out.st_size > 0 && out.st_size <= in.st_size);
	assert_int_equal(pread(src, a, sizeof(a), 0), sizeof(a));
	assert_int_equal(pread(copy, b, sizeof(b), 0), sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
	close(src);
	close(copy);
}

static void a_directory_is_refused(void **state)
{
	struct cell_error err = {0};
	int dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), copy = -1;

	assert_true(cell_selfexec_sealed_copy(dir, &copy, &err) < 0);
	assert_int_equal(copy, -1);
	assert_non_null(strstr(err.msg, "not a regular file"));
	close(dir);
}

/* Re-run this binary in probe mode: it seals itself once and then stays put
 * (the alarm survives execve and ends an endless re-exec loop). */
static void reexec_happens_once_and_ends_sealed(void **state)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = {"test-selfexec", PROBE, NULL};
		alarm(10);
		execv("/proc/self/exe", argv);
		_exit(126);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int probe(int argc, char **argv)
{
	struct cell_error err = {0};
	char target[256] = {0};

	if (cell_selfexec_sealed(argc, argv, &err) < 0)
		return 2;
	/* only a sealed image gets here: a memfd copy, or (root) a read-only overlay */
	if (readlink("/proc/self/exe", target, sizeof(target) - 1) < 0)
		return 3;
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	bool overlay = self >= 0 && cell_selfexec_fd_readonly_overlay(self);
	if (self >= 0)
		close(self);
	if (geteuid() == 0 && !overlay)
		return 5;
	return overlay || strncmp(target, "/memfd:cellrun-sealed", 21) == 0 ? 0 : 4;
}

/* Root only (mounting): the file reads the same through the overlay, cannot be opened
 * for writing there or through /proc/self/fd, and is recognised as protected. */
static void the_overlay_view_is_readonly(void **state)
{
	char dir[] = "/tmp/cell-test-ovl.XXXXXX", file[64], link[64], buf[16] = {0};
	int fd = -1;

	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/bin", dir);
	int w = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
	assert_true(w >= 0);
	assert_int_equal(write(w, "payload", 7), 7);
	close(w);

	assert_int_equal(cell_selfexec_overlay(file, &fd), 0);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(pread(fd, buf, sizeof(buf) - 1, 0), 7);
	assert_string_equal(buf, "payload");
	assert_true(cell_selfexec_fd_readonly_overlay(fd));
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	assert_int_equal(open(link, O_WRONLY | O_CLOEXEC), -1);
	assert_int_equal(errno, EROFS);
	close(fd);
	/* the host file is not on an overlay */
	w = open(file, O_RDONLY | O_CLOEXEC);
	assert_false(cell_selfexec_fd_readonly_overlay(w));
	close(w);
	unlink(file);
	rmdir(dir);
}

static void the_overlay_wants_an_absolute_plain_path(void **state)
{
	int fd = -1;

	assert_int_equal(cell_selfexec_overlay("relative/bin", &fd), -EINVAL);
	assert_int_equal(cell_selfexec_overlay("/a:b/bin", &fd), -EINVAL);
	assert_int_equal(cell_selfexec_overlay("/dir/", &fd), -EINVAL);
	assert_int_equal(fd, -1);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_regular_file_is_not_sealed),
	    cmocka_unit_test(an_unsealed_memfd_is_not_sealed),
	    cmocka_unit_test(the_copy_is_identical_sealed_and_cloexec),
	    cmocka_unit_test(an_elf_copy_keeps_what_exec_reads),
	    cmocka_unit_test(a_directory_is_refused),
	    cmocka_unit_test(reexec_happens_once_and_ends_sealed),
	    cmocka_unit_test(the_overlay_view_is_readonly),
	    cmocka_unit_test(the_overlay_wants_an_absolute_plain_path),
	};
	if (argc == 2 && strcmp(argv[1], PROBE) == 0)
		return probe(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
