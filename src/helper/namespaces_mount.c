/*-------------------------------------------------------------------------
 *
 * namespaces_mount.c
 *	  The minimal root filesystem of the mount-namespace layer.
 *
 *	  A fresh tmpfs becomes the root (pivot_root, old root detached), and
 *	  holds only what CPython and the allowed modules load from:
 *
 *	    /usr                 recursive bind, read-only, nosuid, nodev
 *	    /lib, /lib64, /bin,  the same symlinks as on the host (Debian's
 *	    /sbin                merged /usr); a real directory is bound like /usr
 *	    /etc/alternatives    read-only: Debian's shared-library alternatives
 *	                         (numpy's libblas.so.3 resolves through it)
 *	    /etc/ld.so.cache     read-only: the dynamic loader's search cache
 *
 *	  No /proc, /dev, /sys, /tmp, /home, /var, no rest of /etc, no data
 *	  directory.  The tmpfs is remounted read-only at the end, so the code
 *	  cannot create anything anywhere even before Landlock is applied.
 *
 *	  Runs inside the new user and mount namespaces, with the capabilities
 *	  those give, before the PID-namespace fork.
 *
 *	  In spawn mode gvisor the root is runsc's container root instead,
 *	  which the backend describes in its OCI bundle; sbx_check_container_root
 *	  checks it holds no more than that.
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "sandbox_int.h"

/* Where the new root is assembled: any directory every host has. */
#define SBX_STAGING "/tmp"

/*
 * sbx_bind_readonly: attach a read-only, nosuid, nodev copy of the mount
 * tree at src (submounts included) at dst, which must exist.
 */
static int
sbx_bind_readonly(const char *src, const char *dst, char *err, size_t errlen)
{
	struct mount_attr attr;
	int			fd;

	fd = (int) syscall(SYS_open_tree, AT_FDCWD, src,
					   OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (fd < 0)
	{
		snprintf(err, errlen, "open_tree(%s)", src);
		return -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	attr.propagation = MS_PRIVATE;
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE,
				&attr, sizeof(attr)) != 0)
	{
		snprintf(err, errlen, "mount_setattr(%s, read-only)", src);
		close(fd);
		return -1;
	}
	if (syscall(SYS_move_mount, fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) != 0)
	{
		snprintf(err, errlen, "move_mount(%s -> %s)", src, dst);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * sbx_replicate: make /<name> inside the staging root look like the
 * host's: the same symlink, a read-only bind of a directory or file, or
 * nothing if the host has none.
 */
static int
sbx_replicate(const char *name, char *err, size_t errlen)
{
	char		host[PATH_MAX];
	char		inside[PATH_MAX];
	char		target[PATH_MAX];
	struct stat st;
	ssize_t		n;

	snprintf(host, sizeof(host), "/%s", name);
	snprintf(inside, sizeof(inside), SBX_STAGING "/%s", name);
	if (lstat(host, &st) != 0)
		return 0;
	if (S_ISLNK(st.st_mode))
	{
		n = readlink(host, target, sizeof(target) - 1);
		if (n < 0)
		{
			snprintf(err, errlen, "readlink(%s)", host);
			return -1;
		}
		target[n] = '\0';
		if (symlink(target, inside) != 0)
		{
			snprintf(err, errlen, "symlink(%s)", inside);
			return -1;
		}
		return 0;
	}
	if (S_ISDIR(st.st_mode))
	{
		if (mkdir(inside, 0755) != 0)
		{
			snprintf(err, errlen, "mkdir(%s)", inside);
			return -1;
		}
	}
	else if (S_ISREG(st.st_mode))
	{
		int			fd = open(inside, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);

		if (fd < 0)
		{
			snprintf(err, errlen, "create mount point %s", inside);
			return -1;
		}
		close(fd);
	}
	else
		return 0;				/* devices, sockets: never replicated */
	return sbx_bind_readonly(host, inside, err, errlen);
}

/*
 * sbx_mount_minimal_root: build and enter the minimal root (file header).
 * On failure err names the step; errno is left from the failing call.
 */
int
sbx_mount_minimal_root(char *err, size_t errlen)
{
	static const char *const entries[] = {
		"usr", "lib", "lib64", "lib32", "libx32", "bin", "sbin",
		"etc/alternatives", "etc/ld.so.cache",
	};

	/* nothing we do below may propagate back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
	{
		snprintf(err, errlen, "make / private");
		return -1;
	}
	if (mount("codeexec", SBX_STAGING, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "size=64k,nr_inodes=64,mode=0755") != 0)
	{
		snprintf(err, errlen, "mount tmpfs on " SBX_STAGING);
		return -1;
	}
	if (mkdir(SBX_STAGING "/etc", 0755) != 0)
	{
		snprintf(err, errlen, "mkdir(" SBX_STAGING "/etc)");
		return -1;
	}
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		if (sbx_replicate(entries[i], err, errlen) != 0)
			return -1;

	/* pivot_root(".", ".") stacks the old root on the new; detach it */
	if (chdir(SBX_STAGING) != 0 ||
		syscall(SYS_pivot_root, ".", ".") != 0)
	{
		snprintf(err, errlen, "pivot_root");
		return -1;
	}
	if (umount2(".", MNT_DETACH) != 0)
	{
		snprintf(err, errlen, "detach the old root");
		return -1;
	}
	if (chdir("/") != 0)
	{
		snprintf(err, errlen, "chdir(/)");
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID |
			  MS_NODEV | MS_NOEXEC, NULL) != 0)
	{
		snprintf(err, errlen, "remount the new root read-only");
		return -1;
	}
	return 0;
}

/*
 * The names runsc's container root may hold (spawn_gvisor.c writes it):
 * mount points, the host's /lib-style symlinks, the helper, an empty
 * read-only /tmp, and the /proc, /sys and /dev gVisor adds, which show
 * the sandbox, not the host.
 */
static int
sbx_container_name_ok(const char *dir, const char *name)
{
	static const char *const top[] = {
		"usr", "etc", "bin", "lib", "lib32", "lib64", "libx32", "sbin",
		"codeexec-helper", "proc", "sys", "dev", "tmp"
	};
	static const char *const etc[] = {"alternatives", "ld.so.cache"};
	const char *const *names = strcmp(dir, "/") == 0 ? top : etc;
	size_t		n = strcmp(dir, "/") == 0 ? sizeof(top) / sizeof(top[0]) :
		sizeof(etc) / sizeof(etc[0]);

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/*
 * Whether /proc/self/mountinfo lists mount point `want` with the "ro"
 * option.  (gVisor's statvfs does not report ST_RDONLY, so the flag is read
 * from here.)
 */
static int
sbx_mounted_readonly(const char *want)
{
	FILE	   *f = fopen("/proc/self/mountinfo", "re");
	char		line[1024];
	int			readonly = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char		point[256];
		char		options[256];

		/* id parent major:minor root mount-point options ... */
		if (sscanf(line, "%*s %*s %*s %*s %255s %255s", point, options) == 2 &&
			strcmp(point, want) == 0)
			readonly = strcmp(options, "ro") == 0 || strncmp(options, "ro,", 3) == 0;
	}
	fclose(f);
	return readonly;
}

/*
 * sbx_check_container_root: in spawn mode gvisor the mount layer is not
 * built here (gVisor cannot pivot into a tmpfs of ours) but by runsc from
 * the backend's bundle.  Check that it is the one we asked for instead of
 * trusting the flag: / is read-only and / and /etc hold nothing else.
 */
int
sbx_check_container_root(char *detail, size_t len)
{
	static const char *const dirs[] = {"/", "/etc"};

	if (!sbx_mounted_readonly("/") || !sbx_mounted_readonly("/tmp"))
	{
		snprintf(detail, len, "gVisor container's / or /tmp is not mounted read-only");
		errno = 0;
		return -1;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
	{
		DIR		   *d = opendir(dirs[i]);
		struct dirent *e;

		if (d == NULL)
		{
			snprintf(detail, len, "opendir(%s)", dirs[i]);
			return -1;
		}
		while ((e = readdir(d)) != NULL)
		{
			if (!sbx_container_name_ok(dirs[i], e->d_name))
			{
				snprintf(detail, len, "gVisor container root has unexpected %s%s%s",
						 dirs[i], strcmp(dirs[i], "/") == 0 ? "" : "/", e->d_name);
				closedir(d);
				errno = 0;
				return -1;
			}
		}
		closedir(d);
	}
	snprintf(detail, len, "gVisor container's read-only root: /usr, /etc/alternatives, /etc/ld.so.cache, /codeexec-helper, empty /tmp; gVisor's own /proc, /sys, /dev");
	return 0;
}
