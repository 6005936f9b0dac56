#ifndef SHOPBULK_CLIBPQ_SHIM_H
#define SHOPBULK_CLIBPQ_SHIM_H

#include <libpq-fe.h>

// libpq needs no variadic wrappers; this header only brings it in with the diagnostic field codes
// (defined in postgres_ext.h) spelled as functions so that Swift sees them as typed values.

#pragma clang assume_nonnull begin

static inline int sb_pq_diag_sqlstate(void) { return PG_DIAG_SQLSTATE; }
static inline int sb_pq_diag_message_primary(void) { return PG_DIAG_MESSAGE_PRIMARY; }
static inline int sb_pq_diag_message_detail(void) { return PG_DIAG_MESSAGE_DETAIL; }
static inline int sb_pq_diag_message_hint(void) { return PG_DIAG_MESSAGE_HINT; }
static inline int sb_pq_diag_severity(void) { return PG_DIAG_SEVERITY_NONLOCALIZED; }
static inline int sb_pq_diag_constraint_name(void) { return PG_DIAG_CONSTRAINT_NAME; }
static inline int sb_pq_diag_table_name(void) { return PG_DIAG_TABLE_NAME; }
static inline int sb_pq_diag_column_name(void) { return PG_DIAG_COLUMN_NAME; }

#pragma clang assume_nonnull end

#endif
