/* test_binfile.c: kd's binary files value by value (binfile.h): the bytes
 * by hand (little-endian; CRC-32's published check value), a round trip,
 * and the errors a damaged file gives. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "binfile.h"
#include "kdtest.h"

/* bytes_of: what w wrote to f, into buf (cap bytes); their count */
static size_t
bytes_of(FILE *f, unsigned char *buf, size_t cap)
{
	fflush(f);
	rewind(f);
	return fread(buf, 1, cap, f);
}

/* the bytes by hand: values little-endian, and the CRC-32 of "123456789"
 * is 0xcbf43926 (the check value of the CRC-32 that zlib, gzip and PNG
 * use) */
static void
test_bytes_by_hand(void)
{
	FILE *f = tmpfile();
	kdbin_writer w;
	unsigned char b[64];
	const float x = 1.0f; /* 0x3f800000 */
	size_t n;

	KT_CHECK(f != NULL);
	if (!f)
		return;
	kdbin_writer_init(&w, f);
	kdbin_write(&w, "123456789", 9);
	kdbin_write_crc(&w);
	kdbin_write_u32(&w, 0x01020304u);
	kdbin_write_u64(&w, 0x1122334455667788ull);
	kdbin_write_u32s(&w, &x, 1);
	n = bytes_of(f, b, sizeof b);
	KT_CHECK(!w.err);
	KT_CHECK(n == 9 + 4 + 4 + 8 + 4);
	KT_CHECK(!memcmp(b + 9, "\x26\x39\xf4\xcb", 4));
	KT_CHECK(!memcmp(b + 13, "\x04\x03\x02\x01", 4));
	KT_CHECK(!memcmp(b + 17, "\x88\x77\x66\x55\x44\x33\x22\x11", 8));
	KT_CHECK(!memcmp(b + 25, "\x00\x00\x80\x3f", 4));
	fclose(f);
}

/* write_sample: a small file: a tag, two values, three floats, the CRC */
static void
write_sample(FILE *f)
{
	kdbin_writer w;
	const float v[3] = { 0.5f, -2.25f, 1e-30f };

	kdbin_writer_init(&w, f);
	kdbin_write(&w, "KDTEST", 6);
	kdbin_write_u32(&w, 7);
	kdbin_write_u64(&w, 1ull << 40);
	kdbin_write_u32s(&w, v, 3);
	kdbin_write_crc(&w);
	fflush(f);
	rewind(f);
}

/* read_sample: read it back with r, checking the values when check is
 * set; 0 when the CRC matched too, -1 at the reader's first error */
static int
read_sample(kdbin_reader *r, int check)
{
	char tag[6];
	uint32_t a[3];
	float v[3];

	if (kdbin_read(r, tag, 6) || kdbin_read_u32s(r, a, 3) || kdbin_read_u32s(r, v, 3))
		return -1;
	if (check) {
		KT_CHECK(!memcmp(tag, "KDTEST", 6));
		KT_CHECK(a[0] == 7 && a[1] == 0 && a[2] == 256); /* the u64 as two u32s */
		KT_CHECK(v[0] == 0.5f && v[1] == -2.25f && v[2] == 1e-30f);
	}
	return kdbin_read_crc(r);
}

static void
test_round_trip(void)
{
	FILE *f = tmpfile();
	kd_err e = { { 0 }, 0 };
	kdbin_reader r;

	KT_CHECK(f != NULL);
	if (!f)
		return;
	write_sample(f);
	kdbin_reader_init(&r, f, "s.bin", "test file", &e);
	KT_CHECK(read_sample(&r, 1) == 0);
	fclose(f);
}

/* a flipped byte is a checksum mismatch; a cut file is truncated, by name */
static void
test_damage(void)
{
	unsigned char b[64];
	kd_err e = { { 0 }, 0 };
	kdbin_reader r;
	FILE *f = tmpfile(), *g = tmpfile();
	size_t n;

	KT_CHECK(f && g);
	if (!f || !g)
		goto out;
	write_sample(f);
	n = fread(b, 1, sizeof b, f);
	b[8] ^= 0x10;
	fwrite(b, 1, n, g);
	rewind(g);
	kdbin_reader_init(&r, g, "flip.bin", "test file", &e);
	KT_CHECK(read_sample(&r, 0) == -1);
	KT_CHECK(strstr(e.msg, "'flip.bin'") && strstr(e.msg, "checksum mismatch"));
	for (size_t cut = 0; cut < n; cut += 5) {
		rewind(g);
		KT_CHECK(ftruncate(fileno(g), 0) == 0);
		b[8] ^= cut == 0 ? 0x10 : 0; /* undo the flip once */
		fwrite(b, 1, cut, g);
		fflush(g);
		rewind(g);
		memset(&e, 0, sizeof e);
		kdbin_reader_init(&r, g, "cut.bin", "test file", &e);
		KT_CHECK(read_sample(&r, 0) == -1);
		KT_CHECK(strstr(e.msg, "'cut.bin': truncated test file") != NULL);
	}
	/* no file at all reads as empty: truncated */
	kdbin_reader_init(&r, NULL, "none.bin", "test file", &e);
	KT_CHECK(read_sample(&r, 0) == -1);
	KT_CHECK(strstr(e.msg, "truncated") != NULL);
out:
	if (f)
		fclose(f);
	if (g)
		fclose(g);
}

/* a write that fails stops the writer and keeps its errno */
static void
test_write_error(void)
{
	FILE *f = fopen("/dev/full", "w");
	kdbin_writer w;
	char big[1 << 16] = { 0 };

	if (!f) {
		printf("# /dev/full cannot be opened: skipped\n");
		return;
	}
	setvbuf(f, NULL, _IONBF, 0);
	kdbin_writer_init(&w, f);
	kdbin_write(&w, big, sizeof big);
	kdbin_write_u32(&w, 1);
	KT_CHECK(w.err);
	KT_CHECK(w.saved_errno == ENOSPC);
	fclose(f);
}

static void
test_open_file(void)
{
	struct stat st;
	kd_err e = { { 0 }, 0 };
	FILE *f;

	KT_CHECK(kdbin_open_file("/", &st, &e) == NULL);
	KT_CHECK(strstr(e.msg, "'/'") != NULL);
	KT_CHECK(kdbin_open_file("/nonexistent/x.kdm", &st, &e) == NULL);
	KT_CHECK(strstr(e.msg, "'/nonexistent/x.kdm'") != NULL);
	f = kdbin_open_file("/dev/null", &st, &e);
	KT_CHECK(f != NULL);
	if (f)
		fclose(f);
}

int
main(void)
{
	KT_RUN(test_bytes_by_hand);
	KT_RUN(test_round_trip);
	KT_RUN(test_damage);
	KT_RUN(test_write_error);
	KT_RUN(test_open_file);
	return kt_done();
}
