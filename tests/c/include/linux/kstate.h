/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test stand-in for the KSTATE RFC v3 <linux/kstate.h> (A. Ryabinin,
 * "KSTATE: [de]serialization framework for KHO", Sep 2025): the same types,
 * flags, declarations and field macros, so that the kernel half of the
 * generated headers compiles in the tests exactly as it would in-tree.
 */
#ifndef _KSTATE_H
#define _KSTATE_H

#include <linux/kconfig.h>
#include <linux/atomic.h>
#include <linux/build_bug.h>
#include <linux/list.h>
#include <linux/stddef.h>
#include <linux/stringify.h>
#include <linux/types.h>

struct kstate_description;
struct kstate_stream;
struct folio;

enum kstate_flags {
	KS_BASE_TYPE = (1 << 0),
	KS_POINTER = (1 << 1),
	KS_STRUCT = (1 << 2),
	KS_CUSTOM = (1 << 3),
	KS_ARRAY_OF_POINTER = (1 << 4),
	KS_ADDRESS = (1 << 5),
	KS_DEPRECATED = (1 << 6),
	KS_END = (1UL << 31),
};

enum kstate_addr_type {
	KS_VMEMMAP_ADDR,
	KS_LINEAR_ADDR,
};

struct kstate_stream {
	void *pos;
	struct folio *folio;
};

struct kstate_field {
	const char *name;
	size_t offset;
	size_t size;
	enum kstate_flags flags;
	const struct kstate_description *ksd;
	enum kstate_addr_type addr_type;
	int version_id;
	int (*restore)(struct kstate_stream *stream, void *obj,
		const struct kstate_field *field);
	int (*save)(struct kstate_stream *stream, void *obj,
		const struct kstate_field *field);
	int (*count)(void);
};

enum kstate_ids {
	KSTATE_FOLIO_ID = 1,
	KSTATE_KHO_FDT_ID,
	KSTATE_TEST_ID,
	KSTATE_TEST_ID_V2,
	KSTATE_RESERVED_MEM_ID,
	KSTATE_LAST_ID = -1,
};

struct kstate_description {
	const char *name;
	enum kstate_ids id;
	atomic_t instance_id;
	int version_id;
	int min_version_id;

	const struct kstate_field *fields;
	const struct kstate_description **subsections;
};

#ifdef CONFIG_KSTATE

int kstate_save_data(struct kstate_stream *stream, const void *val, size_t size);
void kstate_restore_data(struct kstate_stream *stream, void *val, size_t size);
int kstate_register(struct kstate_description *state, void *obj, int id);
void kstate_unregister(struct kstate_description *state, void *obj, int id);
int kstate_restore(struct kstate_description *state, void *obj, int id);
int kstate_folio_save(struct kstate_stream *stream, void *obj,
		const struct kstate_field *field);
int kstate_folio_restore(struct kstate_stream *stream, void *obj,
		const struct kstate_field *field);

#else

/* As the RFC has it without CONFIG_KSTATE (a 6.1 defconfig with the RFC applied). */
#define kstate_register(state, obj)

static inline int kstate_save_data(struct kstate_stream *stream,
				const void *val, size_t size)
{
	(void)stream;
	(void)val;
	(void)size;
	return 0;
}
static inline void kstate_restore_data(struct kstate_stream *stream, void *val,
				size_t size)
{
	(void)stream;
	(void)val;
	(void)size;
}

#endif

#define KSTATE_BASE_TYPE_V(_f, _state, _type, _v) {	\
	.name = (__stringify(_f)),			\
	.version_id = (_v),				\
	.size = sizeof(_type) + BUILD_BUG_ON_ZERO(	\
			!__same_type(typeof_member(_state, _f), _type)),\
	.flags = KS_BASE_TYPE,				\
	.offset = offsetof(_state, _f),			\
}

#define KSTATE_BASE_TYPE(_f, _state, _type) \
	KSTATE_BASE_TYPE_V(_f, _state, _type, 0)

#define KSTATE_BASE_TYPE_DEPRECATED(_f, _type, _v) {	\
	.name = (__stringify(_f)),			\
	.version_id = (_v),				\
	.size = sizeof(_type),				\
	.flags = KS_DEPRECATED,				\
}

#define KSTATE_POINTER_V(_f, _state, _v) {		\
		.name = (__stringify(_f)),		\
		.version_id = (_v),			\
		.size = sizeof(*(((_state *)0)->_f)),	\
		.flags = KS_POINTER,			\
		.offset = offsetof(_state, _f),		\
	}

#define KSTATE_POINTER(_f, _state) KSTATE_POINTER_V(_f, _state, 0)

#define KSTATE_ADDRESS_V(_f, _state, _addr_type, _v) {	\
		.name = (__stringify(_f)),		\
		.version_id = (_v),			\
		.size = sizeof(*(((_state *)0)->_f)),	\
		.addr_type = (_addr_type),		\
		.flags = KS_ADDRESS,			\
		.offset = offsetof(_state, _f),		\
	}
#define KSTATE_ADDRESS(_f, _state, _addr_type)		\
	KSTATE_ADDRESS_V(_f, _state, _addr_type, 0)

#define KSTATE_FOLIO(_f, _state) {			\
		.name = "folio",			\
		.flags = KS_CUSTOM,			\
		.offset = offsetof(_state, _f),		\
		.save = kstate_folio_save,		\
		.restore = kstate_folio_restore,	\
	}

#define KSTATE_END_OF_LIST() {		\
		.flags = KS_END,	\
	}

#endif
