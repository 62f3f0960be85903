/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vm-init: the /init of the initramfs that `msealbench vm` boots (vm/msealbench-vm).
 *
 * It mounts proc, sysfs, devtmpfs and a tmpfs on /tmp, follows the plan the host wrote into
 * /msb/plan, sends files back framed and checksummed on the console, and powers off. The
 * console is the only way out of the test kernels (no network, no block devices), and kernel
 * messages may interleave with ours, so every file crosses it as:
 *
 *     MSB:BEGIN name
 *     MSB:D <base64, at most 76 characters>      (repeated)
 *     MSB:END name <size> <sha256 hex>
 *
 * and the host refuses a file whose size or checksum does not match.
 *
 * Plan lines, fields separated by one TAB:
 *     run   NAME  console|capture|both  ARGV0 ...    run a program; capture: its stdout is sent
 *                                                     back as NAME.stdout; both: stdout and
 *                                                     stderr as NAME.stdout and NAME.stderr,
 *                                                     stdin from /dev/null
 *     send  NAME  PATH                                send a file (read to EOF: works for /proc)
 * Markers: "MSB:INIT", "MSB:RUN name", "MSB:EXIT name status|signal N", "MSB:MISSING name why",
 * "MSB:DONE". It is static (the initramfs holds no libc) and needs nothing but the kernel.
 *
 * `vm-init send NAME PATH` (not as PID 1) sends one file that way and exits: the LAVA test
 * definition (lava/) brings its files back through the job log with it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PLAN_PATH "/msb/plan"
#define MAX_ARGS 64
#define B64_LINE 57	/* raw bytes per data line: 76 base64 characters */

/* ---- SHA-256 (FIPS 180-4), small and slow is fine: files are at most a few MB ---- */

struct sha256 {
	uint32_t h[8];
	uint8_t block[64];
	uint64_t length;	/* bytes hashed so far */
	size_t used;		/* bytes in block */
};

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha256_init(struct sha256 *s)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memcpy(s->h, iv, sizeof(iv));
	s->length = 0;
	s->used = 0;
}

static void sha256_block(struct sha256 *s, const uint8_t *p)
{
	uint32_t w[64], v[8];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, s->h, sizeof(v));
	for (int i = 0; i < 64; i++) {
		uint32_t e = v[4], a = v[0];
		uint32_t t1 = v[7] + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & v[5]) ^ (~e & v[6])) +
			      sha256_k[i] + w[i];
		uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));

		memmove(v + 1, v, 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		s->h[i] += v[i];
}

static void sha256_update(struct sha256 *s, const uint8_t *p, size_t n)
{
	s->length += n;
	while (n) {
		size_t take = 64 - s->used < n ? 64 - s->used : n;

		memcpy(s->block + s->used, p, take);
		s->used += take;
		p += take;
		n -= take;
		if (s->used == 64) {
			sha256_block(s, s->block);
			s->used = 0;
		}
	}
}

static void sha256_hex(struct sha256 *s, char out[65])
{
	uint64_t bits = s->length * 8;
	uint8_t pad = 0x80, len[8];

	sha256_update(s, &pad, 1);
	pad = 0;
	while (s->used != 56)
		sha256_update(s, &pad, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_update(s, len, 8);
	for (int i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", s->h[i]);
}

/* ---- console output ---- */

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;	/* nowhere else to report it: the host sees a short file */
		p += w;
		n -= (size_t)w;
	}
}

/* One whole line per write(), so a line is never split by our own buffering. */
__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	write_all(STDOUT_FILENO, line, (size_t)n);
}

static void base64_line(const uint8_t *p, size_t n, char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);

		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? abc[v & 63] : '=';
	}
	out[o] = '\0';
}

/* Read exactly up to n bytes (short only at EOF). */
static ssize_t read_full(int fd, uint8_t *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static void send_file(const char *name, const char *path)
{
	uint8_t raw[B64_LINE];
	char text[B64_LINE / 3 * 4 + 1], hex[65];
	struct sha256 sum;
	uint64_t size = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		say("MSB:MISSING %s %s: %s", name, path, strerror(errno));
		return;
	}
	sha256_init(&sum);
	say("MSB:BEGIN %s", name);
	while ((n = read_full(fd, raw, sizeof(raw))) > 0) {
		sha256_update(&sum, raw, (size_t)n);
		size += (uint64_t)n;
		base64_line(raw, (size_t)n, text);
		say("MSB:D %s", text);
	}
	if (n < 0)
		say("MSB:MISSING %s read %s: %s", name, path, strerror(errno));
	close(fd);
	sha256_hex(&sum, hex);
	say("MSB:END %s %llu %s", name, (unsigned long long)size, hex);
}

/* ---- the plan ---- */

static void run_step(char **field, int nfield)
{
	const char *name = field[1];
	bool both = strcmp(field[2], "both") == 0;
	bool capture = both || strcmp(field[2], "capture") == 0;
	char out_path[256], err_path[256];
	int status;
	pid_t pid;

	if (nfield < 4) {
		say("MSB:EXIT %s bad-plan-line", name);
		return;
	}
	snprintf(out_path, sizeof(out_path), "/tmp/%s.stdout", name);
	snprintf(err_path, sizeof(err_path), "/tmp/%s.stderr", name);
	say("MSB:RUN %s", name);
	pid = fork();
	if (pid < 0) {
		say("MSB:EXIT %s fork-failed %s", name, strerror(errno));
		return;
	}
	if (pid == 0) {
		if (capture) {
			int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0) {
				say("vm-init: %s: %s", out_path, strerror(errno));
				_exit(127);
			}
			close(fd);
		}
		if (both) {
			int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			int in = open("/dev/null", O_RDONLY);

			if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || in < 0 || dup2(in, STDIN_FILENO) < 0) {
				say("vm-init: %s: %s", err_path, strerror(errno));
				_exit(127);
			}
			close(fd);
			close(in);
		}
		execv(field[3], field + 3);
		say("vm-init: exec %s: %s", field[3], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			say("MSB:EXIT %s waitpid-failed %s", name, strerror(errno));
			return;
		}
	}
	if (WIFSIGNALED(status))
		say("MSB:EXIT %s signal %d", name, WTERMSIG(status));
	else
		say("MSB:EXIT %s status %d", name, WEXITSTATUS(status));
	if (capture) {
		char stdout_name[256];

		snprintf(stdout_name, sizeof(stdout_name), "%s.stdout", name);
		send_file(stdout_name, out_path);
		if (both) {
			snprintf(stdout_name, sizeof(stdout_name), "%s.stderr", name);
			send_file(stdout_name, err_path);
		}
	}
}

static int split_tabs(char *line, char **field, int max)
{
	int n = 0;
	char *save = NULL;

	for (char *t = strtok_r(line, "\t", &save); t && n < max - 1; t = strtok_r(NULL, "\t", &save))
		field[n++] = t;
	field[n] = NULL;
	return n;
}

static void follow_plan(void)
{
	FILE *plan = fopen(PLAN_PATH, "re");
	char line[4096];

	if (!plan) {
		say("MSB:MISSING plan %s: %s", PLAN_PATH, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), plan)) {
		char *field[MAX_ARGS + 1];
		int n;

		line[strcspn(line, "\n")] = '\0';
		n = split_tabs(line, field, MAX_ARGS + 1);
		if (n >= 3 && strcmp(field[0], "run") == 0)
			run_step(field, n);
		else if (n == 3 && strcmp(field[0], "send") == 0)
			send_file(field[1], field[2]);
		else if (n > 0)
			say("MSB:MISSING plan-line unknown step '%s'", field[0]);
	}
	fclose(plan);
}

/* ---- the machine ---- */

static void mount_or_say(const char *source, const char *target, const char *type)
{
	mkdir(target, 0755);
	if (mount(source, target, type, 0, NULL) < 0 && errno != EBUSY)
		say("vm-init: mount %s on %s: %s", type, target, strerror(errno));
}

/* Keep kernel messages below KERN_ERR off the console: they would split our lines. */
static void quiet_kernel(void)
{
	int fd = open("/proc/sys/kernel/printk", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		write_all(fd, "3\n", 2);
		close(fd);
	}
}

int main(int argc, char **argv)
{
	if (getpid() != 1) {
		if (argc == 4 && strcmp(argv[1], "send") == 0) {
			send_file(argv[2], argv[3]);
			return 0;
		}
		fprintf(stderr, "usage: vm-init send NAME PATH (as a program; as /init it follows %s)\n",
			PLAN_PATH);
		return 2;
	}
	/* The kernel opened /dev/console for us if the initramfs has it; make sure anyway. */
	if (fcntl(STDOUT_FILENO, F_GETFD) < 0) {
		int fd = open("/dev/console", O_RDWR);

		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
	}
	mount_or_say("proc", "/proc", "proc");
	mount_or_say("sysfs", "/sys", "sysfs");
	mount_or_say("devtmpfs", "/dev", "devtmpfs");
	mount_or_say("tmpfs", "/tmp", "tmpfs");
	quiet_kernel();
	setenv("PATH", "/msb:/bin", 1);
	setenv("HOME", "/tmp", 1);
	setenv("TMPDIR", "/tmp", 1);
	if (chdir("/tmp") < 0)
		say("vm-init: chdir /tmp: %s", strerror(errno));
	say("MSB:INIT");
	follow_plan();
	say("MSB:DONE");
	sync();
	/* A reboot rather than a power-off: x86 without ACPI has no power-off driver and would
	 * halt; under qemu -no-reboot a reboot ends qemu on every machine. */
	reboot(RB_AUTOBOOT);
	reboot(RB_POWER_OFF);
	return 0;
}
