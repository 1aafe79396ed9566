// SPDX-License-Identifier: GPL-2.0
/*
 * Runs the generated kernel tables of schemas/memfd.kstate and
 * schemas/kstate_test.kstate through the RFC model in kstate_emu.c.
 *   drv save-memfd | save-test          print the saved stream as hex
 *   drv restore-memfd HEX | restore-test HEX   restore it, print what arrived
 */
#define KSTATE_DEFINE_MEMFD
#define KSTATE_DEFINE_KSTATE_TEST
#include "memfd.h"
#include "kstate_test.h"

int printf(const char *fmt, ...);
int strcmp(const char *a, const char *b);
int emu_save(struct kstate_description *kstate, void *obj, int id, const u8 **out);
void emu_set_stream(const u8 *data);

static int hook_calls;

int memfd_restore_old_flags(struct memfd *obj, const void *old, size_t size)
{
	u32 v;

	(void)obj;
	memcpy(&v, old, sizeof(v));
	printf("hook old_flags=%u size=%zu\n", v, size);
	hook_calls++;
	return 0;
}

int test_restore_k(struct test *obj, const void *old, size_t size)
{
	u16 v;

	(void)obj;
	memcpy(&v, old, sizeof(v));
	printf("hook k=%u size=%zu\n", v, size);
	hook_calls++;
	return 0;
}

static void print_hex(const u8 *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

static u8 in[1 << 16];

static const u8 *parse_hex(const char *s)
{
	int i;

	for (i = 0; s[2 * i] && s[2 * i + 1]; i++) {
		int hi = s[2 * i] <= '9' ? s[2 * i] - '0' : s[2 * i] - 'a' + 10;
		int lo = s[2 * i + 1] <= '9' ? s[2 * i + 1] - '0' : s[2 * i + 1] - 'a' + 10;

		in[i] = (u8)(hi << 4 | lo);
	}
	return in;
}

int main(int argc, char **argv)
{
	static struct memfd_folio folios[2] = {
		{ .pfn = 0x12345, .flags = 0xabc, .index = 7 },
		{ .pfn = 1, .flags = 2, .index = 3 },
	};
	static u64 ulong_val = 20;
	const u8 *out;
	int n;

	if (argc == 2 && !strcmp(argv[1], "save-memfd")) {
		struct memfd m = { .pos = 1, .size = 4096, .seals = 5, .nr_folios = 2, .folios = folios,
				   .name = "hello" };

		n = emu_save(&memfd_kstate, &m, 7, &out);
		print_hex(out, n);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "save-test")) {
		struct test t = { .s = "abcdefghk", .p_ulong = &ulong_val, .folio = (struct folio *)4096UL,
				  .i = 10 };

		n = emu_save(&test_kstate, &t, 123, &out);
		print_hex(out, n);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "restore-memfd")) {
		struct memfd m = { .seals = 99 };
		u32 i;

		emu_set_stream(parse_hex(argv[2]));
		n = memfd_kstate_restore(&m, 7);
		if (n)
			printf("restore: %d\n", n);
		printf("pos=%llu size=%llu seals=%u nr_folios=%u name=%s\n", m.pos, m.size, m.seals,
		       m.nr_folios, m.name);
		for (i = 0; i < m.nr_folios; i++)
			printf("folio pfn=%llu flags=%llu index=%llu\n", (u64)m.folios[i].pfn,
			       (u64)m.folios[i].flags, m.folios[i].index);
		printf("hooks=%d\n", hook_calls);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "restore-test")) {
		static u64 target;
		struct test t = { .p_ulong = &target };

		emu_set_stream(parse_hex(argv[2]));
		n = test_kstate_restore(&t, 123);
		if (n)
			printf("restore: %d\n", n);
		printf("s=%s p_ulong=%llu folio=%lu i=%d hooks=%d\n", t.s, *t.p_ulong,
		       (unsigned long)t.folio, t.i, hook_calls);
		return 0;
	}
	return 2;
}
