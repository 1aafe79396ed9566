// SPDX-License-Identifier: GPL-2.0
/*
 * A userspace model of the KSTATE RFC v3 save/restore walk
 * (kernel/liveupdate/kstate.c), written from its documented behaviour, to
 * run the generated kernel tables in the tests:
 *
 * - the stream is one "folio" (a malloc'd block of 2^order pages) that
 *   alloc_space() grows as the RFC's does: only when a request does not fit
 *   (keeping 4 bytes for the EOF marker), to order get_order(used) + 1,
 *   whatever the size of the request; the old block is freed.  A save that
 *   hands more than the new room to one kstate_save_data() call overflows,
 *   and the EOF marker is written without asking for room, as in the RFC,
 *   so ASan reports what the kernel would corrupt;
 * - the field loop, the order of its checks (the version gate before
 *   KS_DEPRECATED) and the stream layout are the RFC's;
 * - the return codes of custom restore callbacks are ignored, and
 *   kstate_restore() returns 0 once it found the entry, as in the RFC;
 * - kstate_restore() reads the stream at kstate_stream_addr (emu_set_stream());
 *   kstate_register() keeps a list that emu_save_all() saves.
 *
 * Folios are modelled by their pointer value as the "physical address".
 */
#include <linux/kstate.h>
#include <linux/errno.h>
#include <linux/mm.h>

void *memcpy(void *dst, const void *src, size_t n);
void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void free(void *p);
void abort(void);

#define KSTATE_MAGIC 0x3B37778C
#define EMU_PAGE_SHIFT 12

struct emu_entry {
	int section_type;
	int state_id;
	int version_id;
	int instance_id;
	int size;
	u8 data[];
};

enum { EMU_SUBSECTION = 1, EMU_SECTION, EMU_EOF = -1 };

struct folio {
	size_t size;
	u8 *data;
};

void *folio_address(const struct folio *folio)
{
	return folio->data;
}

static size_t folio_size(const struct folio *folio)
{
	return folio->size;
}

static struct folio *folio_alloc(int order)
{
	struct folio *f = malloc(sizeof(*f));

	if (!f)
		abort();
	f->size = (size_t)1 << (EMU_PAGE_SHIFT + order);
	f->data = malloc(f->size);
	if (!f->data)
		abort();
	return f;
}

static void folio_put(struct folio *f)
{
	free(f->data);
	free(f);
}

/* The kernel's get_order(): the smallest order whose block holds size bytes. */
static int get_order(unsigned long size)
{
	int order = 0;

	size--;
	size >>= EMU_PAGE_SHIFT;
	while (size) {
		order++;
		size >>= 1;
	}
	return order;
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

void *kzalloc(size_t size, gfp_t flags)
{
	(void)flags;
	return calloc(1, size ? size : 1);
}

void *kvcalloc(size_t n, size_t size, gfp_t flags)
{
	(void)flags;
	return calloc(n ? n : 1, size ? size : 1);
}

void kfree(const void *p)
{
	free((void *)p);
}

void kvfree(const void *p)
{
	free((void *)p);
}

/* The RFC's alloc_space(), to the letter. */
static int alloc_space(struct kstate_stream *stream, size_t size)
{
	size_t cur_size = (size_t)((u8 *)stream->pos - (u8 *)folio_address(stream->folio));
	struct folio *new_folio;

	size = size + 4; /* room for the EOF marker */
	if (cur_size + size < folio_size(stream->folio))
		return 0;
	new_folio = folio_alloc(get_order(cur_size) + 1);
	memcpy(folio_address(new_folio), folio_address(stream->folio), folio_size(stream->folio));
	folio_put(stream->folio);
	stream->folio = new_folio;
	stream->pos = (u8 *)folio_address(new_folio) + cur_size;
	return 0;
}

int kstate_save_data(struct kstate_stream *stream, const void *val, size_t size)
{
	int ret = alloc_space(stream, size);

	if (ret)
		return ret;
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
	struct emu_entry *ke;
	size_t ke_off;
	int ret = 0;

	ret = alloc_space(stream, sizeof(*ke));
	if (ret)
		return ret;
	ke_off = (size_t)((u8 *)stream->pos - (u8 *)folio_address(stream->folio));
	ke = stream->pos;
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
	ke = (struct emu_entry *)((u8 *)folio_address(stream->folio) + ke_off);
	ke->size = (int)((size_t)((u8 *)stream->pos - (u8 *)folio_address(stream->folio)) -
			 (ke_off + sizeof(*ke)));
	return 0;
}

static int save_kstates(struct kstate_stream *stream, int id, const struct kstate_description *kstate,
			void *obj)
{
	const struct kstate_description *const *sub;
	int ret = save_kstate(stream, id, kstate, obj, EMU_SECTION);

	for (sub = kstate->subsections; !ret && sub && *sub; sub++)
		ret = save_kstate(stream, id, *sub, obj, EMU_SUBSECTION);
	return ret;
}

static struct {
	struct kstate_description *ksd;
	void *obj;
	int id;
} registered[16];
static int nr_registered;

int kstate_register(struct kstate_description *state, void *obj, int id)
{
	if (nr_registered == 16)
		return -ENOMEM;
	registered[nr_registered].ksd = state;
	registered[nr_registered].obj = obj;
	registered[nr_registered].id = id;
	nr_registered++;
	return 0;
}

static struct kstate_stream emu_stream;

/*
 * The RFC's kstate_save_state() over the registered objects: the stream
 * starts as one page holding the magic; the EOF marker goes at pos with no
 * room asked.  *out stays valid until the next save; returns the size.
 */
int emu_save_all(const u8 **out)
{
	int ret = 0, i;

	if (emu_stream.folio)
		folio_put(emu_stream.folio);
	emu_stream.folio = folio_alloc(0);
	*(u32 *)folio_address(emu_stream.folio) = KSTATE_MAGIC;
	emu_stream.pos = (u8 *)folio_address(emu_stream.folio) + 4;
	for (i = 0; i < nr_registered && !ret; i++)
		ret = save_kstates(&emu_stream, registered[i].id, registered[i].ksd, registered[i].obj);
	nr_registered = 0;
	if (ret)
		return ret;
	((struct emu_entry *)emu_stream.pos)->section_type = EMU_EOF;
	*out = folio_address(emu_stream.folio);
	return (int)((u8 *)emu_stream.pos + 4 - (u8 *)folio_address(emu_stream.folio));
}

/* Saves obj alone as one SECTION (and its subsections). */
int emu_save(struct kstate_description *kstate, void *obj, int id, const u8 **out)
{
	nr_registered = 0;
	kstate_register(kstate, obj, id);
	return emu_save_all(out);
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
					field->restore(stream, cur, field); /* the RFC ignores its return */
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

static void *kstate_stream_addr;

void emu_set_stream(const u8 *data)
{
	kstate_stream_addr = (void *)data;
}

/* The RFC's subsection_load(): from where the section's fields ended. */
static void subsection_load(struct kstate_stream *stream, int id, struct kstate_description *ksd,
			    void *obj)
{
	const struct kstate_description *const *sub;
	struct emu_entry *start = stream->pos;

	for (sub = ksd->subsections; sub && *sub; sub++) {
		struct emu_entry *e = start;

		while (e->section_type == EMU_SUBSECTION) {
			if (e->state_id == (int)(*sub)->id) {
				stream->pos = e;
				restore_kstate(stream, id, *sub, obj);
				break;
			}
			e = (struct emu_entry *)(e->data + e->size);
		}
	}
}

/* The RFC's kstate_restore(): 0 once the entry was restored, whatever its callbacks returned. */
int kstate_restore(struct kstate_description *state, void *obj, int id)
{
	struct kstate_stream stream;
	struct emu_entry *ke;

	if (!kstate_stream_addr || *(u32 *)kstate_stream_addr != KSTATE_MAGIC)
		return -ENOENT;
	ke = (struct emu_entry *)((u8 *)kstate_stream_addr + 4);
	while (ke->section_type != EMU_EOF) {
		if (ke->state_id != (int)state->id || ke->instance_id != id) {
			ke = (struct emu_entry *)(ke->data + ke->size);
			continue;
		}
		stream.pos = ke;
		restore_kstate(&stream, id, state, obj);
		subsection_load(&stream, id, state, obj);
		return 0;
	}
	return -ENOENT;
}
