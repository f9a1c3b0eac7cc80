/* err.h: the core's error vocabulary, and the AT wire codes it is reported as.
 *
 * Core functions return 0, a negative enum m0_err saying what went wrong inside, or
 * M0_PENDING (a flash write is under way; the outcome comes later). These are not the
 * codes the module prints: each outer layer turns them into its own vocabulary in one
 * place (docs/architecture.md, "Errors"). The AT replies' +ERR=-N codes (spec §3.3) are
 * enum m0_at_err, produced only where an AT reply is built (at.c) and, as the AT code a
 * refused field would get, in the web API's answer; m0_err_at() is the one mapping. The
 * internal numbers deliberately differ from the wire codes, so an error passed to the
 * wire without the mapping shows in the tests.
 */
#ifndef M0_ERR_H
#define M0_ERR_H

/* What went wrong, as the core sees it. */
enum m0_err {
  M0_OK = 0,
  M0_E_INVAL = -101,     /* a value the parameter table refuses (range, form, fields) */
  M0_E_NOTFOUND = -102,  /* no parameter of that name */
  M0_E_NOTCONFIG = -103, /* the parameter is not stored configuration (read-only, action) */
  M0_E_SYNTAX = -104,    /* the text is not NAME=VALUE (no name, a NUL byte) */
  M0_E_STATE = -105,     /* not in this state: power off, already so, already hangs */
  M0_E_BUSY = -106,      /* another flash write is in flight: nothing changed */
  M0_E_FLASH = -107,     /* flash refused or failed the write: nothing changed */
};

/* Returned instead of an outcome when a save is in flight: it comes later. */
#define M0_PENDING 1

/* Error codes of the AT protocol (spec §3.3), as printed in "+ERR=-N". */
enum m0_at_err {
  M0_AT_ERR_FORMAT = -1,   /* invalid command format */
  M0_AT_ERR_COMMAND = -2,  /* invalid (unknown) command */
  M0_AT_ERR_OPERATOR = -3, /* invalid operator (= or ? where not allowed) */
  M0_AT_ERR_PARAM = -4,    /* invalid parameter */
  M0_AT_ERR_STATE = -5,    /* operation not permitted in the current state */
};

/* The AT code of a core error (err < 0): the one mapping from enum m0_err to the wire.
 * Anything it does not know is "not permitted now" (-5). */
int m0_err_at(int err);

#endif
