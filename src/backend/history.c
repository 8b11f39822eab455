/*-------------------------------------------------------------------------
 *
 * history.c
 *	  history_record() (see history.h) as a plain SPI INSERT into
 *	  codeexec_execution in the caller's transaction: a ROLLBACK of the
 *	  caller also removes the row.  The insert runs as the table owner.  A
 *	  later version records through an independently committed path behind
 *	  the same contract.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "history.h"

#define HISTORY_NARGS 22

/* Lower-case hex SHA-256 of the code. */
static char *
history_sha256_hex(const char *code)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *hex = palloc(PG_SHA256_DIGEST_LENGTH * 2 + 1);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) code, strlen(code)) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute SHA-256: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	hex_encode((const char *) digest, sizeof(digest), hex);
	hex[PG_SHA256_DIGEST_LENGTH * 2] = '\0';
	return hex;
}

/* The schema codeexec is installed in (PG 15 does not export a lookup). */
static Oid
history_extension_schema(void)
{
	Oid			ext = get_extension_oid("codeexec", false);
	Oid			nsp = InvalidOid;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(ext));
	rel = table_open(ExtensionRelationId, AccessShareLock);
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(nsp))
		elog(ERROR, "extension codeexec has no schema");
	return nsp;
}

/* The schema-qualified name of codeexec_execution. */
static char *
history_table_name(void)
{
	char	   *schema = get_namespace_name(history_extension_schema());

	return quote_qualified_identifier(schema, "codeexec_execution");
}

/* The owner of codeexec_execution (the role that created the extension). */
static Oid
history_table_owner(void)
{
	Oid			relid = get_relname_relid("codeexec_execution", history_extension_schema());
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table codeexec_execution does not exist"),
				 errhint("Reinstall the extension with DROP EXTENSION codeexec; CREATE EXTENSION codeexec.")));
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/* Fill one text parameter (NULL pointer: SQL NULL). */
static void
history_text_arg(Datum *values, char *nulls, int i, const char *s)
{
	values[i] = s ? CStringGetTextDatum(s) : (Datum) 0;
	nulls[i] = s ? ' ' : 'n';
}

int64
history_record(const ExecRecord *rec)
{
	Oid			types[HISTORY_NARGS] = {
		INT8OID, TEXTOID, TEXTOID, TEXTOID, JSONBOID,
		TEXTOID, BOOLOID, TEXTOID, TEXTOID, JSONBOID,
		TEXTOID, TEXTOID, JSONBOID, JSONBOID, BOOLOID,
		FLOAT8OID, FLOAT8OID, INT8OID, INT4OID, INT4OID,
		TEXTOID, TEXTOID
	};
	Datum		values[HISTORY_NARGS];
	char		nulls[HISTORY_NARGS];
	char	   *sql;
	int64		id = 0;
	bool		isnull;
	int			rc;
	Oid			save_userid;
	int			save_sec_context;

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int64GetDatum(rec->user_id);
	nulls[0] = rec->has_user_id ? ' ' : 'n';
	history_text_arg(values, nulls, 1, GetUserNameFromId(GetUserId(), false));
	history_text_arg(values, nulls, 2, rec->code);
	history_text_arg(values, nulls, 3, history_sha256_hex(rec->code));
	values[4] = JsonbPGetDatum(rec->context);
	history_text_arg(values, nulls, 5, rec->status);
	values[6] = BoolGetDatum(rec->success);
	history_text_arg(values, nulls, 7, rec->stdout_text);
	history_text_arg(values, nulls, 8, rec->stderr_text);
	values[9] = rec->result ? JsonbPGetDatum(rec->result) : (Datum) 0;
	nulls[9] = rec->result ? ' ' : 'n';
	history_text_arg(values, nulls, 10, rec->error_type);
	history_text_arg(values, nulls, 11, rec->error_message);
	values[12] = rec->violations ? JsonbPGetDatum(rec->violations) : (Datum) 0;
	nulls[12] = rec->violations ? ' ' : 'n';
	values[13] = rec->redactions ? JsonbPGetDatum(rec->redactions) : (Datum) 0;
	nulls[13] = rec->redactions ? ' ' : 'n';
	values[14] = BoolGetDatum(rec->output_truncated);
	values[15] = Float8GetDatum(rec->execution_time_seconds);
	values[16] = Float8GetDatum(rec->cpu_time_seconds);
	nulls[16] = rec->cpu_time_seconds < 0 ? 'n' : ' ';
	values[17] = Int64GetDatum(rec->peak_memory_kb);
	nulls[17] = rec->peak_memory_kb < 0 ? 'n' : ' ';
	values[18] = Int32GetDatum(rec->timeout_ms);
	values[19] = Int32GetDatum(rec->memory_mb);
	history_text_arg(values, nulls, 20, rec->sandbox_mode);
	history_text_arg(values, nulls, 21, rec->tag);

	sql = psprintf("INSERT INTO %s (user_id, role_name, code, code_sha256, context, "
				   "status, success, stdout, stderr, result, error_type, error_message, "
				   "violations, redactions, output_truncated, execution_time_seconds, "
				   "cpu_time_seconds, peak_memory_kb, timeout_ms, memory_mb, "
				   "sandbox_mode, tag) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
				   "$10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) "
				   "RETURNING id", history_table_name());

	/*
	 * Insert as the table's owner, so callers need only EXECUTE on
	 * codeexec_run and cannot write (forge) history rows themselves.
	 */
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(history_table_owner(),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		SPI_connect();
		rc = SPI_execute_with_args(sql, HISTORY_NARGS, types, values, nulls, false, 1);
		if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
			elog(ERROR, "could not record the execution: %s", SPI_result_code_string(rc));
		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										 1, &isnull));
		SPI_finish();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
	return id;
}
