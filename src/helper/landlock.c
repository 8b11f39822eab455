/*-------------------------------------------------------------------------
 *
 * landlock.c
 *	  The Landlock layer: a ruleset with no rules, so everything it handles
 *	  is denied.  Applied after CPython and the allowed modules are loaded
 *	  (nothing is opened from disk after that point).
 *
 *	  The ABI is detected with LANDLOCK_CREATE_RULESET_VERSION and every
 *	  right of that ABI is handled:
 *	    ABI 1  13 filesystem rights (execute, read/write files, read dirs,
 *	           remove, make char/dir/reg/sock/fifo/block/sym)
 *	    ABI 2  + REFER (link/rename across directories)
 *	    ABI 3  + TRUNCATE
 *	    ABI 4  + TCP bind and connect (network)
 *	    ABI 5  + IOCTL_DEV (ioctl on device files)
 *	    ABI 6  + scopes: abstract unix sockets and signals outside the domain
 *	    ABI 7  audit logging flags only (no new right); defaults kept
 *	  Debian 12's <linux/landlock.h> stops at ABI 2, so the constants and
 *	  the ruleset attribute layout of later ABIs are defined here.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "sandbox_int.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_restrict_self 446
#endif

#define SBX_LL_CREATE_RULESET_VERSION	(1U << 0)

#define SBX_LL_FS_ABI1		((1ULL << 13) - 1)	/* EXECUTE .. MAKE_SYM */
#define SBX_LL_FS_REFER		(1ULL << 13)
#define SBX_LL_FS_TRUNCATE	(1ULL << 14)
#define SBX_LL_FS_IOCTL_DEV (1ULL << 15)
#define SBX_LL_NET_BIND_TCP (1ULL << 0)
#define SBX_LL_NET_CONNECT_TCP (1ULL << 1)
#define SBX_LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define SBX_LL_SCOPE_SIGNAL (1ULL << 1)

/* struct landlock_ruleset_attr as of ABI 6; the size passed selects ABI. */
typedef struct SbxLandlockAttr
{
	uint64_t	handled_access_fs;
	uint64_t	handled_access_net;
	uint64_t	scoped;
} SbxLandlockAttr;

/*
 * sbx_landlock_apply: detect the ABI, build the deny-all ruleset, enforce
 * it on the calling thread (the helper is single-threaded here unless a
 * pre-imported module started threads; see docs/security.md).
 */
int
sbx_landlock_apply(int require, char *errbuf, size_t errlen)
{
	SbxLandlockAttr attr;
	size_t		attr_size;
	long		abi;
	int			fd;

	if (sandbox_layer_disabled(SBX_LANDLOCK))
		return sandbox_layer_fail(SBX_LANDLOCK, require, errbuf, errlen, 0,
								  "disabled by test knob");
	abi = syscall(SYS_landlock_create_ruleset, NULL, 0, SBX_LL_CREATE_RULESET_VERSION);
	if (abi < 1 && sandbox_in_gvisor() && errno == ENOSYS)
	{
		/* counted as replaced, not missing: see docs/security.md */
		sandbox_layer_set(SBX_LANDLOCK, 0,
						  "not in gVisor; replaced by the container's read-only root "
						  "(see mount_namespace) and seccomp's refusal of open after imports");
		return 0;
	}
	if (abi < 1)
		return sandbox_layer_fail(SBX_LANDLOCK, require, errbuf, errlen, errno,
								  "not available (landlock_create_ruleset version query; "
								  "the kernel needs CONFIG_SECURITY_LANDLOCK and "
								  "landlock in the lsm= list)");

	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = SBX_LL_FS_ABI1;
	if (abi >= 2)
		attr.handled_access_fs |= SBX_LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= SBX_LL_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= SBX_LL_FS_IOCTL_DEV;
	attr_size = offsetof(SbxLandlockAttr, handled_access_net);
	if (abi >= 4)
	{
		attr.handled_access_net = SBX_LL_NET_BIND_TCP | SBX_LL_NET_CONNECT_TCP;
		attr_size = offsetof(SbxLandlockAttr, scoped);
	}
	if (abi >= 6)
	{
		attr.scoped = SBX_LL_SCOPE_ABSTRACT_UNIX_SOCKET | SBX_LL_SCOPE_SIGNAL;
		attr_size = sizeof(attr);
	}

	fd = (int) syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
	if (fd < 0)
		return sandbox_layer_fail(SBX_LANDLOCK, require, errbuf, errlen, errno,
								  "landlock_create_ruleset (ABI %ld)", abi);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		syscall(SYS_landlock_restrict_self, fd, 0) != 0)
	{
		int			e = errno;

		close(fd);
		return sandbox_layer_fail(SBX_LANDLOCK, require, errbuf, errlen, e,
								  "landlock_restrict_self (ABI %ld)", abi);
	}
	close(fd);
	sandbox_layer_set(SBX_LANDLOCK, 1,
					  "ABI %ld, no rules: %d filesystem rights denied%s%s",
					  abi, __builtin_popcountll(attr.handled_access_fs),
					  abi >= 4 ? ", TCP bind/connect denied" : "",
					  abi >= 6 ? ", abstract unix sockets and signals scoped" : "");
	return 0;
}
