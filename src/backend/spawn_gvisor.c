/*-------------------------------------------------------------------------
 *
 * spawn_gvisor.c
 *	  gvisor spawn mode: exec mode's helper, run by gVisor's runsc
 *	  (`runsc --rootless --network=none run`), so that the code's system
 *	  calls are answered by gVisor's user-space kernel instead of the
 *	  host's.  The wait loop, deadline, cancel and cleanup are exec mode's
 *	  (spawn.c): the child we fork is runsc, its stdin/stdout/stderr are the
 *	  helper's, and SIGKILL to its process group plus the sandbox's
 *	  parent-death signal (runsc runs it "attached") end the whole tree.
 *
 *	  Each backend writes one OCI bundle, the first time it needs one, in a
 *	  directory of PostgreSQL's temporary-file area, so that a crash
 *	  restart removes what a killed backend left:
 *
 *	    base/pgsql_tmp/pgsql_tmp_codeexec_gvisor.<pid>/
 *	      config.json  the container: the helper as its only process, an
 *	                   empty environment, no_new_privs, its own PID,
 *	                   network, IPC, UTS and mount namespaces
 *	      rootfs/      the read-only root: mount points and the host's
 *	                   /lib-style symlinks, nothing else
 *	      state/       runsc's --root (container state), emptied after
 *	                   every call
 *
 *	  The root holds what exec mode's minimal root holds (/usr,
 *	  /etc/alternatives, /etc/ld.so.cache, read-only) plus the helper at
 *	  /codeexec-helper; gVisor adds its own /proc, /sys and /dev, which
 *	  show the sandbox, not the host.  The bundle is rewritten when
 *	  codeexec.helper_path changes.  Backend only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "utils/json.h"
#include "utils/memutils.h"

#include "codeexec.h"
#include "outcome.h"
#include "spawn.h"
#include "spawn_gvisor.h"

/* Where the helper appears inside the container. */
#define GVISOR_HELPER_INSIDE "/codeexec-helper"
#define GVISOR_HOSTNAME "codeexec"
/*
 * runsc's exit code when it fails itself (its fatal-error path); a
 * container killed by signal N makes it exit with this + N.
 */
#define GVISOR_RUNSC_FAILED 128

/* This backend's bundle (TopMemoryContext), or NULL before the first call. */
static char *gvisor_dir = NULL;
/* The helper path its config.json was written for. */
static char *gvisor_bundle_helper = NULL;
/* Numbers this backend's containers: runsc wants a new id per container. */
static uint64 gvisor_serial = 0;

/* before_shmem_exit: the bundle goes with its backend. */
static void
gvisor_remove_bundle(int code, Datum arg)
{
	struct stat st;

	if (gvisor_dir != NULL && lstat(gvisor_dir, &st) == 0)
		(void) rmtree(gvisor_dir, true);
}

static void
gvisor_mkdir(const char *path)
{
	if (MakePGDirectory(path) != 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", path)));
}

static void
gvisor_write_file(const char *path, const char *data, size_t len)
{
	FILE	   *f = AllocateFile(path, PG_BINARY_W);

	if (f == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", path)));
	if (fwrite(data, 1, len, f) != len || FreeFile(f) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", path)));
}

/*
 * Append one OCI mount to the "mounts" array being built in json; options
 * is a JSON array of strings, written as given.
 */
static void
gvisor_json_mount(StringInfo json, const char *dst, const char *type, const char *src,
				  const char *options, bool *first)
{
	appendStringInfoString(json, *first ? "\n    " : ",\n    ");
	appendStringInfoString(json, "{\"destination\": ");
	escape_json(json, dst);
	appendStringInfoString(json, ", \"type\": ");
	escape_json(json, type);
	appendStringInfoString(json, ", \"source\": ");
	escape_json(json, src);
	appendStringInfo(json, ", \"options\": %s}", options);
	*first = false;
}

/* A read-only bind mount of host path src at dst. */
static void
gvisor_json_bind(StringInfo json, const char *src, const char *dst, bool *first)
{
	gvisor_json_mount(json, dst, "bind", src, "[\"rbind\", \"ro\", \"nosuid\", \"nodev\"]",
					  first);
}

/*
 * Give the root a host top-level name as the host has it (Debian's merged
 * /usr makes /lib, /lib64, /bin and /sbin symlinks into /usr): the same
 * symlink, or, for a real directory, a mount point bound read-only.
 */
static void
gvisor_mirror_top(const char *rootfs, const char *name, StringInfo mounts, bool *first)
{
	char		host[MAXPGPATH];
	char		inside[MAXPGPATH];
	char		target[MAXPGPATH];
	struct stat st;
	ssize_t		n;

	snprintf(host, sizeof(host), "/%s", name);
	snprintf(inside, sizeof(inside), "%s/%s", rootfs, name);
	if (lstat(host, &st) != 0)
		return;
	if (S_ISLNK(st.st_mode))
	{
		n = readlink(host, target, sizeof(target) - 1);
		if (n < 0)
			return;
		target[n] = '\0';
		if (symlink(target, inside) != 0 && errno != EEXIST)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not create symbolic link \"%s\": %m", inside)));
	}
	else if (S_ISDIR(st.st_mode))
	{
		gvisor_mkdir(inside);
		gvisor_json_bind(mounts, host, host, first);
	}
}

/* A host file bound at dst: the mount point must exist in the root. */
static void
gvisor_bind_file(const char *rootfs, const char *src, const char *dst,
				 StringInfo mounts, bool *first)
{
	char		point[MAXPGPATH];

	if (access(src, R_OK) != 0)
		return;
	snprintf(point, sizeof(point), "%s%s", rootfs, dst);
	gvisor_write_file(point, "", 0);
	gvisor_json_bind(mounts, src, dst, first);
}

/*
 * Write rootfs/ and config.json for the helper at helper_path.  Runs in
 * a fresh directory; every step ERRORs on failure.
 */
static void
gvisor_write_bundle(const char *dir, const char *helper_path)
{
	static const char *const tops[] = {"bin", "lib", "lib32", "lib64", "libx32", "sbin"};
	StringInfoData mounts;
	StringInfoData json;
	char		rootfs[MAXPGPATH];
	char		path[MAXPGPATH];
	bool		first = true;

	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
	gvisor_mkdir(rootfs);
	initStringInfo(&mounts);

	snprintf(path, sizeof(path), "%s/usr", rootfs);
	gvisor_mkdir(path);
	gvisor_json_bind(&mounts, "/usr", "/usr", &first);
	for (size_t i = 0; i < lengthof(tops); i++)
		gvisor_mirror_top(rootfs, tops[i], &mounts, &first);
	snprintf(path, sizeof(path), "%s/etc", rootfs);
	gvisor_mkdir(path);
	if (access("/etc/alternatives", R_OK | X_OK) == 0)
	{
		snprintf(path, sizeof(path), "%s/etc/alternatives", rootfs);
		gvisor_mkdir(path);
		gvisor_json_bind(&mounts, "/etc/alternatives", "/etc/alternatives", &first);
	}
	gvisor_bind_file(rootfs, "/etc/ld.so.cache", "/etc/ld.so.cache", &mounts, &first);
	/* without a /tmp of its own, runsc would mount a writable tmpfs there */
	snprintf(path, sizeof(path), "%s/tmp", rootfs);
	gvisor_mkdir(path);
	gvisor_json_mount(&mounts, "/tmp", "tmpfs", "tmpfs",
					  "[\"ro\", \"nosuid\", \"nodev\", \"noexec\"]", &first);
	snprintf(path, sizeof(path), "%s" GVISOR_HELPER_INSIDE, rootfs);
	gvisor_write_file(path, "", 0);
	gvisor_json_bind(&mounts, helper_path, GVISOR_HELPER_INSIDE, &first);

	/* uid 0 of the container, which runsc --rootless maps to our own uid */
	initStringInfo(&json);
	appendStringInfo(&json,
					 "{\n"
					 "  \"ociVersion\": \"1.0.0\",\n"
					 "  \"process\": {\n"
					 "    \"user\": {\"uid\": 0, \"gid\": 0},\n"
					 "    \"args\": [\"%s\"],\n"
					 "    \"env\": [],\n"
					 "    \"cwd\": \"/\",\n"
					 "    \"noNewPrivileges\": true\n"
					 "  },\n"
					 "  \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
					 "  \"hostname\": \"%s\",\n"
					 "  \"mounts\": [%s\n  ],\n"
					 "  \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, "
					 "{\"type\": \"ipc\"}, {\"type\": \"uts\"}, {\"type\": \"mount\"}]}\n"
					 "}\n",
					 GVISOR_HELPER_INSIDE, GVISOR_HOSTNAME, mounts.data);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	gvisor_write_file(path, json.data, json.len);
	snprintf(path, sizeof(path), "%s/state", dir);
	gvisor_mkdir(path);
	pfree(json.data);
	pfree(mounts.data);
}

/*
 * This backend's bundle directory, written (again) if it does not exist
 * yet or names another helper.  A directory left by an earlier backend
 * with our pid is replaced.
 */
static const char *
gvisor_bundle(void)
{
	char		dir[MAXPGPATH];

	if (gvisor_dir != NULL && gvisor_bundle_helper != NULL &&
		strcmp(gvisor_bundle_helper, codeexec_helper_path) == 0)
		return gvisor_dir;

	/* as exec mode would say it, rather than runsc's failure to bind it */
	if (access(codeexec_helper_path, X_OK) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not execute %s", SPAWN_HELPER_WHAT),
				 errdetail("access(\"%s\") failed: %m.", codeexec_helper_path),
				 errhint("%s", SPAWN_HELPER_HINT)));

	if (gvisor_dir == NULL)
	{
		snprintf(dir, sizeof(dir), "%s/base/%s/%s_codeexec_gvisor.%d",
				 DataDir, PG_TEMP_FILES_DIR, PG_TEMP_FILE_PREFIX, MyProcPid);
		gvisor_dir = MemoryContextStrdup(TopMemoryContext, dir);
		before_shmem_exit(gvisor_remove_bundle, (Datum) 0);
	}
	if (gvisor_bundle_helper != NULL)
	{
		pfree(gvisor_bundle_helper);
		gvisor_bundle_helper = NULL;
	}
	gvisor_remove_bundle(0, (Datum) 0);
	snprintf(dir, sizeof(dir), "%s/base/%s", DataDir, PG_TEMP_FILES_DIR);
	gvisor_mkdir(dir);
	gvisor_mkdir(gvisor_dir);
	gvisor_write_bundle(gvisor_dir, codeexec_helper_path);
	gvisor_bundle_helper = MemoryContextStrdup(TopMemoryContext, codeexec_helper_path);
	return gvisor_dir;
}

void
gvisor_run(const char *request, size_t request_len, int timeout_ms,
		   size_t response_cap, SpawnResult *result)
{
	const char *dir = gvisor_bundle();
	char	   *state = psprintf("%s/state", dir);
	char	   *root_flag = psprintf("--root=%s", state);
	char	   *id = psprintf("codeexec-%d-" UINT64_FORMAT, MyProcPid, ++gvisor_serial);
	char	   *argv[] = {
		codeexec_runsc_path, "--rootless", "--network=none", "--ignore-cgroups",
		root_flag, "run", "--bundle", (char *) dir, id, NULL
	};
	SpawnProgram program = {
		argv, "gVisor's runsc",
		"Check codeexec.runsc_path, or install gVisor's runsc (Debian package \"runsc\").",
		true					/* runsc's rusage misses much of its sandbox's CPU */
	};

	PG_TRY();
	{
		spawn_run(&program, request, request_len, timeout_ms, response_cap, result);
	}
	PG_FINALLY();
	{
		/* a killed runsc leaves its container's state and lock files */
		(void) rmtree(state, false);
	}
	PG_END_TRY();
	pfree(id);
	pfree(root_flag);
	pfree(state);

	/*
	 * runsc reports a container killed by signal N as exit code 128 + N;
	 * give outcome.c the wait status exec mode would have seen, so that
	 * e.g. SIGXCPU is a timeout there too.
	 */
	if (!result->timed_out && WIFEXITED(result->wait_status) &&
		WEXITSTATUS(result->wait_status) > GVISOR_RUNSC_FAILED &&
		WEXITSTATUS(result->wait_status) < GVISOR_RUNSC_FAILED + NSIG)
	{
		result->wait_status = WEXITSTATUS(result->wait_status) - GVISOR_RUNSC_FAILED;
		Assert(WIFSIGNALED(result->wait_status));
	}

	/*
	 * runsc exits 128 when it fails itself (the container's own exit codes
	 * are the helper's, or 128 + a signal number): a server-side failure,
	 * not the code's result.
	 */
	if (!result->timed_out && result->response_len == 0 &&
		WIFEXITED(result->wait_status) && WEXITSTATUS(result->wait_status) == GVISOR_RUNSC_FAILED)
	{
		char	   *diag = outcome_diag_text(result);

		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("gVisor's runsc could not run the codeexec container"),
				 errdetail("runsc: %s", diag[0] != '\0' ? diag : "no message"),
				 errhint("Check that \"%s --rootless --network=none do /bin/true\" works as the PostgreSQL OS user.",
						 codeexec_runsc_path)));
	}
}
