// SPDX-License-Identifier: GPL-2.0
/*
 * A userspace model of the KSTATE RFC v3 save/restore walk
 * (kernel/liveupdate/kstate.c), written from its documented behaviour, to
 * run the generated kernel tables in the tests.  Same field loop, same
 * order of checks (the version gate before KS_DEPRECATED), same stream
 * layout; a flat buffer instead of folios.  Folios are modelled by their
 * pointer value as the "physical address".
 */
#include <linux/kstate.h>
#include <linux/errno.h>
#include <linux/mm.h>

void *memcpy(void *dst, const void *src, size_t n);
void *malloc(size_t n);
void *calloc(size_t n, size_t size);

#define KSTATE_MAGIC 0x3B37778C

struct emu_entry {
	int section_type;
	int state_id;
	int version_id;
	int instance_id;
	int size;
	u8 data[];
};

enum { EMU_SUBSECTION = 1, EMU_SECTION, EMU_EOF = -1 };

static u8 emu_buf[1 << 16];

void *folio_address(const struct folio *folio)
{
	(void)folio;
	return emu_buf;
}

void *kmalloc(size_t size, gfp_t flags)
{
	u8 *p = malloc(size ? size : 1);
	size_t i;

	(void)flags;
	for (i = 0; p && i < size; i++)
		p[i] = 0xa5;
	return p;
}
/* kmalloc and kvmalloc_array leave garbage, as the kernel's do */
void *kvmalloc_array(size_t n, size_t size, gfp_t flags)
{
	u8 *p = malloc((n * size) != 0 ? n * size : 1);
	size_t i;

	(void)flags;
	for (i = 0; p && i < n * size; i++)
		p[i] = 0xa5;
	return p;
}
void *kzalloc(size_t size, gfp_t flags) { (void)flags; return calloc(1, size ? size : 1); }
void *kvcalloc(size_t n, size_t size, gfp_t flags) { (void)flags; return calloc(n ? n : 1, size ? size : 1); }
void kfree(const void *p) { (void)p; }
void kvfree(const void *p) { (void)p; }

int kstate_save_data(struct kstate_stream *stream, const void *val, size_t size)
{
	memcpy(stream->pos, val, size);
	stream->pos = (u8 *)stream->pos + size;
	return 0;
}

void kstate_restore_data(struct kstate_stream *stream, void *val, size_t size)
{
	memcpy(val, stream->pos, size);
	stream->pos = (u8 *)stream->pos + size;
}

int kstate_folio_save(struct kstate_stream *stream, void *obj, const struct kstate_field *field)
{
	u64 paddr = (u64)(unsigned long)*(struct folio **)obj;

	(void)field;
	return kstate_save_data(stream, &paddr, sizeof(paddr));
}

int kstate_folio_restore(struct kstate_stream *stream, void *obj, const struct kstate_field *field)
{
	u64 paddr;

	(void)field;
	kstate_restore_data(stream, &paddr, sizeof(paddr));
	*(struct folio **)obj = (struct folio *)(unsigned long)paddr;
	return 0;
}

static unsigned long addr_base(const struct kstate_field *field)
{
	return field->addr_type == KS_VMEMMAP_ADDR ? VMEMMAP_START : PAGE_OFFSET;
}

static int save_kstate(struct kstate_stream *stream, int id, const struct kstate_description *kstate,
		       void *obj, int section_type)
{
	const struct kstate_field *field = kstate->fields;
	struct emu_entry *ke = stream->pos;
	int ret = 0;

	stream->pos = (u8 *)stream->pos + sizeof(*ke);
	ke->section_type = section_type;
	ke->state_id = kstate->id;
	ke->version_id = kstate->version_id;
	ke->instance_id = id;
	while (field->flags != KS_END) {
		u8 *first, *cur;
		int n_elems = 1, size, i;

		first = (u8 *)obj + field->offset;
		if (field->version_id > kstate->version_id || (field->flags & KS_DEPRECATED)) {
			field++;
			continue;
		}
		if (field->flags & KS_POINTER)
			first = *(void **)((u8 *)obj + field->offset);
		if (field->count)
			n_elems = field->count();
		size = (int)field->size;
		for (i = 0; i < n_elems; i++) {
			cur = first + i * size;
			if (field->flags & KS_ARRAY_OF_POINTER)
				cur = *(void **)cur;
			if (field->flags & KS_STRUCT) {
				ret = save_kstate(stream, 0, field->ksd, cur, section_type);
			} else if (field->flags & KS_CUSTOM) {
				if (field->save)
					ret = field->save(stream, cur, field);
			} else if (field->flags & (KS_BASE_TYPE | KS_POINTER)) {
				ret = kstate_save_data(stream, cur, size);
			} else if (field->flags & KS_ADDRESS) {
				u64 off = (u64)(*(unsigned long *)cur - addr_base(field));

				ret = kstate_save_data(stream, &off, sizeof(off));
			}
			if (ret)
				return ret;
		}
		field++;
	}
	ke->size = (int)((u8 *)stream->pos - ke->data);
	return 0;
}

/* Saves obj as one SECTION (and its subsections); returns the stream's size. */
int emu_save(const struct kstate_description *kstate, void *obj, int id, const u8 **out)
{
	struct kstate_stream stream = { .pos = emu_buf };
	const struct kstate_description *const *sub;
	u32 magic = KSTATE_MAGIC;
	int eof = EMU_EOF, ret;

	kstate_save_data(&stream, &magic, 4);
	ret = save_kstate(&stream, id, kstate, obj, EMU_SECTION);
	for (sub = kstate->subsections; !ret && sub && *sub; sub++)
		ret = save_kstate(&stream, id, *sub, obj, EMU_SUBSECTION);
	if (ret)
		return ret;
	kstate_save_data(&stream, &eof, 4);
	*out = emu_buf;
	return (int)((u8 *)stream.pos - emu_buf);
}

static void restore_kstate(struct kstate_stream *stream, int id, const struct kstate_description *kstate,
			   void *obj)
{
	const struct kstate_field *field = kstate->fields;
	struct emu_entry *ke = stream->pos;

	(void)id;
	stream->pos = ke->data;
	while (field->flags != KS_END) {
		u8 *first, *cur;
		int n_elems = 1, size, i;

		if (field->version_id > ke->version_id) {
			field++;
			continue;
		}
		if (field->flags & KS_DEPRECATED) {
			if (ke->version_id <= field->version_id)
				stream->pos = (u8 *)stream->pos + field->size;
			field++;
			continue;
		}
		first = (u8 *)obj + field->offset;
		if (field->flags & KS_POINTER)
			first = *(void **)((u8 *)obj + field->offset);
		if (field->count)
			n_elems = field->count();
		size = (int)field->size;
		for (i = 0; i < n_elems; i++) {
			cur = first + i * size;
			if (field->flags & KS_ARRAY_OF_POINTER)
				cur = *(void **)cur;
			if (field->flags & KS_STRUCT) {
				restore_kstate(stream, 0, field->ksd, cur);
			} else if (field->flags & KS_CUSTOM) {
				if (field->restore)
					field->restore(stream, cur, field);
			} else if (field->flags & (KS_BASE_TYPE | KS_POINTER)) {
				memcpy(cur, stream->pos, size);
				stream->pos = (u8 *)stream->pos + size;
			} else if (field->flags & KS_ADDRESS) {
				u64 off;

				memcpy(&off, stream->pos, 8);
				*(unsigned long *)cur = (unsigned long)off + addr_base(field);
				stream->pos = (u8 *)stream->pos + 8;
			}
		}
		field++;
	}
}

/* Restores the first SECTION of the stream and the subsections after it. */
int emu_restore(const struct kstate_description *kstate, void *obj, const u8 *data)
{
	struct kstate_stream stream;
	struct emu_entry *ke = (struct emu_entry *)(data + 4);
	struct emu_entry *start;
	const struct kstate_description *const *sub;

	if (ke->state_id != (int)kstate->id)
		return -ENOENT;
	stream.pos = ke;
	restore_kstate(&stream, ke->instance_id, kstate, obj);
	start = (struct emu_entry *)(ke->data + ke->size);
	for (sub = kstate->subsections; sub && *sub; sub++) {
		struct emu_entry *e = start;

		while (e->section_type == EMU_SUBSECTION) {
			if (e->state_id == (int)(*sub)->id) {
				stream.pos = e;
				restore_kstate(&stream, ke->instance_id, *sub, obj);
				break;
			}
			e = (struct emu_entry *)(e->data + e->size);
		}
	}
	return 0;
}
