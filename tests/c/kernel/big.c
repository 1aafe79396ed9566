// SPDX-License-Identifier: GPL-2.0
/*
 * The generated kernel tables of schemas/memfd.kstate and
 * tests/fixtures/kernel/big.kstate against the RFC model in kstate_emu.c:
 * large saves, failing restores, a restore inside a restore.
 *
 *   big save-memfd OUT N            N folios; the stream goes to OUT
 *   big save-big OUT N NW NA NT     big with arrays of N, NW, NA, NT elements
 *   big restore-memfd IN            memfd_kstate_restore(), then what arrived
 *   big rfc-restore-memfd IN        the RFC's kstate_restore() alone
 *   big restore-big IN              big_kstate_restore() of instance 1
 *
 * The hook of big's removed field: old == HOOK_NEST restores instance 2
 * into a second object (with big_kstate_restore()) before returning;
 * old == HOOK_FAIL returns -EIO.
 */
#define KSTATE_DEFINE_MEMFD
#define KSTATE_DEFINE_BIG
#include "memfd.h"
#include "big.h"

typedef struct _IO_FILE FILE;
FILE *fopen(const char *path, const char *mode);
size_t fread(void *p, size_t size, size_t n, FILE *f);
size_t fwrite(const void *p, size_t size, size_t n, FILE *f);
int fclose(FILE *f);
int printf(const char *fmt, ...);
int strcmp(const char *a, const char *b);
unsigned long long strtoull(const char *s, char **end, int base);
void *malloc(size_t n);
void *calloc(size_t n, size_t size);
int emu_save_all(const u8 **out);
void emu_set_stream(const u8 *data);

#define HOOK_NEST 0x4e455354U
#define HOOK_FAIL 0xbadU
#define EIO 5

static struct big other;

static u64 fnv(const void *p, size_t n)
{
	const u8 *b = p;
	u64 h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/* sum of (i + 1) * word i, for n bytes of u64 words */
static u64 wsum(const void *p, size_t n)
{
	const u64 *w = p;
	u64 h = 0;
	size_t i;

	for (i = 0; i < n / 8; i++)
		h += (i + 1) * w[i];
	return h;
}

static void print_big(const char *who, const struct big *b)
{
	u64 a = 0xcbf29ce484222325ULL;
	u32 i;

	for (i = 0; b->addrs && i < b->na; i++) {
		u64 off = (u64)((unsigned long)b->addrs[i] - PAGE_OFFSET);

		a = (a ^ fnv(&off, 8)) * 0x100000001b3ULL;
	}
	printf("%s n=%u data=%s:%llx nw=%u words=%s:%llx na=%u addrs=%s:%llx blob=%llx nr_tail=%zu tail=%s:%llx\n",
	       who, b->n, b->data ? "set" : "null", b->data ? fnv(b->data, b->n) : 0, b->nw,
	       b->words ? "set" : "null", b->words ? fnv(b->words, b->nw * 8) : 0, b->na,
	       b->addrs ? "set" : "null", a, fnv(b->blob, sizeof(b->blob)), b->nr_tail,
	       b->tail ? "set" : "null", b->tail ? fnv(b->tail, b->nr_tail) : 0);
}

int big_restore_old(struct big *obj, const void *old, size_t size)
{
	u32 v = 0;
	int ret;

	(void)obj;
	memcpy(&v, old, sizeof(v));
	printf("hook old=%#x size=%zu\n", v, size);
	if (v == HOOK_FAIL)
		return -EIO;
	if (v == HOOK_NEST) {
		ret = big_kstate_restore(&other, 2);
		printf("nested restore: %d\n", ret);
		print_big("other", &other);
	}
	return 0;
}

int memfd_restore_old_flags(struct memfd *obj, const void *old, size_t size)
{
	(void)obj;
	(void)old;
	(void)size;
	return 0;
}

static int write_out(const char *path, const u8 *p, int n)
{
	FILE *f = fopen(path, "wb");

	if (!f || n < 0 || fwrite(p, 1, (size_t)n, f) != (size_t)n)
		return 1;
	fclose(f);
	printf("saved %d bytes\n", n);
	return 0;
}

static const u8 *read_in(const char *path)
{
	static u8 *buf;
	FILE *f = fopen(path, "rb");
	size_t n = 0, got;

	buf = malloc((size_t)64 << 20);
	if (!f || !buf)
		return NULL;
	while ((got = fread(buf + n, 1, 1 << 16, f)) > 0)
		n += got;
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	const u8 *out, *in;
	size_t i;
	int n;

	if (argc == 4 && !strcmp(argv[1], "save-memfd")) {
		struct memfd m = { .pos = 1, .size = 2, .seals = 3, .name = "big" };

		m.nr_folios = (u32)strtoull(argv[3], NULL, 0);
		m.folios = calloc(m.nr_folios ? m.nr_folios : 1, sizeof(*m.folios));
		for (i = 0; i < m.nr_folios; i++) {
			m.folios[i].pfn = i * 7 + 1;
			m.folios[i].flags = i & 0xfff;
			m.folios[i].index = i;
		}
		n = memfd_kstate_register(&m, 1);
		return n ? 1 : write_out(argv[2], out, emu_save_all(&out));
	}
	if (argc == 7 && !strcmp(argv[1], "save-big")) {
		struct big b = { 0 };

		b.n = (u32)strtoull(argv[3], NULL, 0);
		b.nw = (u32)strtoull(argv[4], NULL, 0);
		b.na = (u16)strtoull(argv[5], NULL, 0);
		b.nr_tail = (size_t)strtoull(argv[6], NULL, 0);
		b.data = malloc(b.n + 1);
		b.words = malloc(b.nw * 8 + 1);
		b.addrs = malloc(b.na * sizeof(void *) + 1);
		b.tail = malloc(b.nr_tail + 1);
		for (i = 0; i < b.n; i++)
			b.data[i] = (u8)(i * 7 + 1);
		for (i = 0; i < b.nw; i++)
			b.words[i] = i * 0x9E3779B97F4A7C15ULL;
		for (i = 0; i < b.na; i++)
			b.addrs[i] = (void *)(PAGE_OFFSET + i * 4096);
		for (i = 0; i < sizeof(b.blob); i++)
			b.blob[i] = (u8)(i * 13);
		for (i = 0; i < b.nr_tail; i++)
			b.tail[i] = (u8)(i * 3);
		n = big_kstate_register(&b, 1);
		return n ? 1 : write_out(argv[2], out, emu_save_all(&out));
	}
	if (argc != 3)
		return 2;
	in = read_in(argv[2]);
	if (!in)
		return 1;
	emu_set_stream(in);
	if (!strcmp(argv[1], "restore-memfd") || !strcmp(argv[1], "rfc-restore-memfd")) {
		struct memfd m = { 0 };
		u64 h = 0;

		if (!strcmp(argv[1], "restore-memfd"))
			n = memfd_kstate_restore(&m, 1);
		else
			n = kstate_restore(&memfd_kstate, &m, 1);
		if (m.folios)
			h = wsum(m.folios, m.nr_folios * sizeof(*m.folios));
		printf("ret=%d nr_folios=%u folios=%s:%llx name=%s\n", n, m.nr_folios,
		       m.folios ? "set" : "null", h, m.name);
		return 0;
	}
	if (!strcmp(argv[1], "restore-big")) {
		struct big b = { 0 };

		n = big_kstate_restore(&b, 1);
		printf("ret=%d\n", n);
		print_big("big", &b);
		return 0;
	}
	return 2;
}
