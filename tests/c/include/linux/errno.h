/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_ERRNO_H
#define _LINUX_ERRNO_H

#define ENOENT 2
#define ENOMEM 12
#define EEXIST 17
#define EINVAL 22
#define E2BIG 7
#define EOPNOTSUPP 95

#endif
