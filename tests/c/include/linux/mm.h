/* SPDX-License-Identifier: GPL-2.0 */
/* Test stand-in for <linux/mm.h>: the area bases KS_ADDRESS fields use. */
#ifndef _LINUX_MM_H
#define _LINUX_MM_H

#include <linux/slab.h>

#define PAGE_OFFSET ((unsigned long)0xffff888000000000ULL)
#define VMEMMAP_START ((unsigned long)0xffffea0000000000ULL)

struct folio;
void *folio_address(const struct folio *folio);

#endif
