/* SPDX-License-Identifier: GPL-2.0 */
/* Test stand-in for the kernel's <linux/stddef.h>. */
#ifndef _LINUX_STDDEF_H
#define _LINUX_STDDEF_H

#define NULL ((void *)0)
#define offsetof(TYPE, MEMBER) __builtin_offsetof(TYPE, MEMBER)
#define typeof_member(T, m) typeof(((T *)0)->m)

#endif
