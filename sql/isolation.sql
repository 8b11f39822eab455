-- codeexec_isolation(): every OS layer is reported, and on a kernel with
-- user namespaces, seccomp and Landlock (the CI kernel) every one is active,
-- in both spawn modes.  Details carry figures (ABI, syscall counts, ids)
-- that differ between kernels, so only their shape is checked here.
SET codeexec.spawn_mode = 'exec';
SELECT layer, active, detail <> '' AS has_detail
FROM codeexec_isolation() ORDER BY layer;
SELECT layer, detail ~ '^ABI [0-9]+' AS abi_named
FROM codeexec_isolation() WHERE layer = 'landlock';
CREATE TEMP TABLE iso_exec AS SELECT layer, active FROM codeexec_isolation();

SET codeexec.spawn_mode = 'forkserver';
SELECT layer, active, detail <> '' AS has_detail
FROM codeexec_isolation() ORDER BY layer;
-- the same layers are in force in both modes
SELECT count(*) AS layers_that_differ
FROM iso_exec e FULL JOIN codeexec_isolation() f USING (layer)
WHERE e.active IS DISTINCT FROM f.active;
RESET codeexec.spawn_mode;

-- not for PUBLIC; codeexec_admin may verify the sandbox
CREATE ROLE codeexec_iso_nobody;
CREATE ROLE codeexec_iso_admin IN ROLE codeexec_admin;
SET ROLE codeexec_iso_nobody;
SELECT count(*) FROM codeexec_isolation();
RESET ROLE;
SET ROLE codeexec_iso_admin;
SELECT count(*) > 0 AS admin_sees_layers FROM codeexec_isolation();
RESET ROLE;
DROP ROLE codeexec_iso_nobody;
DROP ROLE codeexec_iso_admin;
