/*-------------------------------------------------------------------------
 *
 * redact_patterns.c
 *	  The per-backend cache of compiled redaction patterns: loads the enabled
 *	  rows of codeexec_redaction_pattern, compiles them with PCRE2 (JIT where
 *	  available) and throws the result away when the table changes.
 *
 * Invalidation: a statement-level trigger on the table calls
 * CacheInvalidateRelcacheByRelid() on it (see redact_sql.c), and a relcache
 * callback registered here bumps redact_inval_count whenever that table's
 * entry (or the whole relcache) is invalidated.  PostgreSQL delivers the
 * message to this backend at the end of the modifying command and to other
 * backends after commit, so a cached set is used only while no change has
 * been seen since it was built: no catalog scan and no compilation happen
 * on a call when nothing changed.
 *
 * Ownership and lifetime: see redact_internal.h.  pcre2 objects are
 * malloc'd by PCRE2 and freed explicitly when the set goes.
 *
 *-------------------------------------------------------------------------
 */
#include "redact_internal.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "codeexec.h"

#define REDACT_TABLE_NAME "codeexec_redaction_pattern"
#define REDACT_JIT_STACK_MAX (1024 * 1024)

/* the set new sessions get; NULL until first use or after invalidation */
static RedactPatternSet *redact_current = NULL;
static uint64 redact_current_generation = 0;

/* bumped by the relcache callback; a set built at another value is stale */
static uint64 redact_inval_count = 1;
static Oid	redact_table_oid = InvalidOid;
static bool redact_callback_registered = false;

/* one row as read from the table, before compilation */
typedef struct RedactRow
{
	int64		id;
	char	   *name;
	char	   *pattern;
	char	   *replacement;	/* NULL: "[REDACTED:<name>]" */
	char	   *validator;		/* NULL: none */
} RedactRow;

/*
 * Relcache callback: forget the current set when our table (or everything)
 * is invalidated, and the table's OID with it: the invalidation may be the
 * table being dropped (DROP EXTENSION, then CREATE EXTENSION in the same
 * session), and the next set must be read from the table that exists
 * then.  Must not do catalog access or ERROR: it only records.
 */
static void
redact_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == redact_table_oid)
	{
		redact_inval_count++;
		redact_table_oid = InvalidOid;
	}
}

/*
 * The OID of codeexec_redaction_pattern in the extension's schema.  ERROR
 * if the extension or the table is missing: redaction fails closed.
 */
static Oid
redact_lookup_table(void)
{
	Oid			nspoid = codeexec_extension_schema();
	Oid			relid = OidIsValid(nspoid) ?
		get_relname_relid(REDACT_TABLE_NAME, nspoid) : InvalidOid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("redaction pattern table %s not found", REDACT_TABLE_NAME),
				 errdetail("Secret redaction reads its patterns from the codeexec extension's table."),
				 errhint("Run CREATE EXTENSION codeexec in this database.")));
	return relid;
}

/*
 * Map a `validator` column value to its enum; ERROR on a name this version
 * does not know (the table's CHECK constraint normally prevents that).
 */
RedactValidator
redact_validator_from_name(const char *name)
{
	if (name == NULL)
		return REDACT_VALIDATOR_NONE;
	if (strcmp(name, "luhn") == 0)
		return REDACT_VALIDATOR_LUHN;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown redaction validator \"%s\"", name),
			 errhint("The only validator is \"luhn\"; use NULL for none.")));
	return REDACT_VALIDATOR_NONE;	/* keep compiler quiet */
}

/*
 * Compile one pattern with the options every redaction pattern gets.  On
 * failure returns NULL and fills errbuf with PCRE2's message and *erroffset
 * with the offset (in code units) where it stopped.  The caller owns the
 * result (pcre2_code_free).  Used both by the cache and by the trigger that
 * rejects bad rows, so the two can never disagree on what compiles.
 */
pcre2_code *
redact_compile(const char *pattern, size_t len, bool utf,
			   char *errbuf, size_t errbuflen, size_t *erroffset)
{
	int			errcode;
	PCRE2_SIZE	offset = 0;
	pcre2_code *code;
	uint32		options = PCRE2_NEVER_BACKSLASH_C;

	if (utf)
		options |= PCRE2_UTF;
	code = pcre2_compile((PCRE2_SPTR) pattern, len, options, &errcode,
						 &offset, NULL);
	if (code == NULL)
	{
		pcre2_get_error_message(errcode, (PCRE2_UCHAR *) errbuf, errbuflen);
		*erroffset = offset;
	}
	return code;
}

/* Free a set and every PCRE2 object it holds. */
static void
redact_free_set(RedactPatternSet *set)
{
	for (int i = 0; i < set->npatterns; i++)
	{
		if (set->patterns[i].match_data)
			pcre2_match_data_free(set->patterns[i].match_data);
		if (set->patterns[i].code)
			pcre2_code_free(set->patterns[i].code);
	}
	if (set->match_context)
		pcre2_match_context_free(set->match_context);
	if (set->jit_stack)
		pcre2_jit_stack_free(set->jit_stack);
	MemoryContextDelete(set->cxt);
}

static int
redact_row_cmp(const void *a, const void *b)
{
	int64		ia = ((const RedactRow *) a)->id;
	int64		ib = ((const RedactRow *) b)->id;

	return (ia > ib) - (ia < ib);
}

/* Text value of column attnum, or NULL; copied into the current context. */
static char *
redact_getattr_text(HeapTuple tuple, TupleDesc desc, AttrNumber attnum)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, attnum, desc, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

static AttrNumber
redact_attnum(Oid relid, const char *column)
{
	AttrNumber	attnum = get_attnum(relid, column);

	if (attnum == InvalidAttrNumber)
		elog(ERROR, "column %s of %s is missing", column, REDACT_TABLE_NAME);
	return attnum;
}

/*
 * Read the enabled rows, sorted by id, into a palloc'd array.  The scan
 * bypasses privilege checks on purpose: codeexec_run applies the policy the
 * table's owner set, whoever calls it, and nothing is granted on the table.
 */
static RedactRow *
redact_read_rows(Oid relid, int *nrows)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	AttrNumber	a_id = redact_attnum(relid, "id");
	AttrNumber	a_name = redact_attnum(relid, "name");
	AttrNumber	a_pattern = redact_attnum(relid, "pattern");
	AttrNumber	a_repl = redact_attnum(relid, "replacement");
	AttrNumber	a_enabled = redact_attnum(relid, "enabled");
	AttrNumber	a_validator = redact_attnum(relid, "validator");
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	HeapTuple	tuple;
	int			n = 0,
				cap = 32;
	RedactRow  *rows = palloc(sizeof(RedactRow) * cap);

	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		Datum		enabled = heap_getattr(tuple, a_enabled, desc, &isnull);

		if (isnull || !DatumGetBool(enabled))
			continue;
		if (n == cap)
		{
			cap *= 2;
			rows = repalloc(rows, sizeof(RedactRow) * cap);
		}
		rows[n].id = DatumGetInt64(heap_getattr(tuple, a_id, desc, &isnull));
		rows[n].name = redact_getattr_text(tuple, desc, a_name);
		rows[n].pattern = redact_getattr_text(tuple, desc, a_pattern);
		rows[n].replacement = redact_getattr_text(tuple, desc, a_repl);
		rows[n].validator = redact_getattr_text(tuple, desc, a_validator);
		if (rows[n].name == NULL || rows[n].pattern == NULL)
			continue;			/* NOT NULL columns; be safe anyway */
		n++;
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);

	qsort(rows, n, sizeof(RedactRow), redact_row_cmp);
	*nrows = n;
	return rows;
}

/*
 * Compile row into pat (allocating names in set->cxt).  A row that does not
 * compile (the trigger prevents that, but rows can be loaded with triggers
 * off) is an ERROR: silently skipping it would leak what it should hide.
 */
static void
redact_compile_row(RedactPatternSet *set, RedactPattern *pat, const RedactRow *row)
{
	char		errbuf[256];
	size_t		erroffset;
	MemoryContext old = MemoryContextSwitchTo(set->cxt);
	int			group;

	pat->validator = redact_validator_from_name(row->validator);
	pat->name = pstrdup(row->name);
	pat->replacement = row->replacement ? pstrdup(row->replacement) :
		psprintf("[REDACTED:%s]", row->name);
	pat->replacement_len = strlen(pat->replacement);
	MemoryContextSwitchTo(old);

	pat->code = redact_compile(row->pattern, strlen(row->pattern), set->utf,
							   errbuf, sizeof(errbuf), &erroffset);
	if (pat->code == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
				 errmsg("redaction pattern \"%s\" does not compile: %s at offset %zu",
						row->name, errbuf, erroffset),
				 errhint("Fix or disable the row in %s.", REDACT_TABLE_NAME)));
	/* JIT is an optimisation: the interpreter is used where it fails */
	(void) pcre2_jit_compile(pat->code, PCRE2_JIT_COMPLETE);
	pat->match_data = pcre2_match_data_create_from_pattern(pat->code, NULL);
	if (pat->match_data == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	group = pcre2_substring_number_from_name(pat->code, (PCRE2_SPTR) "secret");
	pat->secret_group = group > 0 ? group : -1;
}

/* Build a fresh set from the table. */
static RedactPatternSet *
redact_build_set(Oid relid)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext,
											  "codeexec redaction patterns",
											  ALLOCSET_SMALL_SIZES);
	RedactPatternSet *set = MemoryContextAllocZero(cxt, sizeof(RedactPatternSet));

	set->cxt = cxt;
	set->utf = (GetDatabaseEncoding() == PG_UTF8);
	PG_TRY();
	{
		int			nrows;
		RedactRow  *rows = redact_read_rows(relid, &nrows);

		/* zeroed slots: redact_free_set copes with a half-built set */
		set->patterns = MemoryContextAllocZero(cxt, sizeof(RedactPattern) * Max(nrows, 1));
		set->npatterns = nrows;
		for (int i = 0; i < nrows; i++)
			redact_compile_row(set, &set->patterns[i], &rows[i]);
		set->match_context = pcre2_match_context_create(NULL);
		set->jit_stack = pcre2_jit_stack_create(32 * 1024, REDACT_JIT_STACK_MAX, NULL);
		if (set->match_context == NULL || set->jit_stack == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		pcre2_jit_stack_assign(set->match_context, NULL, set->jit_stack);
	}
	PG_CATCH();
	{
		redact_free_set(set);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return set;
}

/*
 * Return the current compiled set, pinned for the caller (release with
 * redact_patterns_unpin).  Rebuilds it only if the table changed since it
 * was built.
 */
RedactPatternSet *
redact_patterns_pin(void)
{
	if (!redact_callback_registered)
	{
		CacheRegisterRelcacheCallback(redact_relcache_callback, (Datum) 0);
		redact_callback_registered = true;
	}
	AcceptInvalidationMessages();

	if (redact_current == NULL || redact_current_generation != redact_inval_count)
	{
		uint64		generation;
		RedactPatternSet *set;

		if (redact_current != NULL)
		{
			RedactPatternSet *old = redact_current;

			redact_current = NULL;
			redact_patterns_unpin(old);
		}
		if (!OidIsValid(redact_table_oid))
			redact_table_oid = redact_lookup_table();
		/* an invalidation while we read makes this set stale at once */
		generation = redact_inval_count;
		set = redact_build_set(redact_table_oid);
		elog(DEBUG1, "codeexec: compiled %d redaction patterns", set->npatterns);
		set->refcount = 1;		/* the pin of "current" */
		redact_current = set;
		redact_current_generation = generation;
	}
	redact_current->refcount++;
	return redact_current;
}

/* Drop one pin; free the set when nobody uses it any more. */
void
redact_patterns_unpin(RedactPatternSet *set)
{
	Assert(set->refcount > 0);
	if (--set->refcount == 0)
		redact_free_set(set);
}
