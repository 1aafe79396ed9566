/* SPDX-License-Identifier: GPL-2.0 */
/* Test stand-in for the kernel's <linux/types.h>: just what kstate headers use. */
#ifndef _LINUX_TYPES_H
#define _LINUX_TYPES_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef _Bool bool;
typedef __SIZE_TYPE__ size_t;
typedef unsigned long uintptr_t;
typedef u64 phys_addr_t;
typedef unsigned int gfp_t;

#define true 1
#define false 0

#define __packed __attribute__((__packed__))
#define __same_type(a, b) __builtin_types_compatible_p(typeof(a), typeof(b))

#endif
