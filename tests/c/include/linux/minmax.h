/* SPDX-License-Identifier: GPL-2.0 */
/* Test stand-in for the kernel's <linux/minmax.h>. */
#ifndef _LINUX_MINMAX_H
#define _LINUX_MINMAX_H

#define min_t(type, x, y) ({ type __x = (x); type __y = (y); __x < __y ? __x : __y; })

#endif
