/*
 * Tachyon router: a "min-index" radix tree over Starlette-style path templates.
 *
 * A lookup answers, for one path, the LOWEST registration index whose template matches (the route a
 * first-match-wins scan in registration order would pick), the lowest index that matches the path and
 * scope type but not the method, the opaque entries the caller must still test itself, and the parameter
 * spans of the winner.  Matching follows Python `re` semantics of `^template$` applied with `.match()`:
 * greedy parameters with backtracking in regex order, and `$` also accepting one final "\n".
 *
 * The tree is immutable once built, so any number of threads may call radix_lookup() concurrently.
 * Plain C99; no Python headers.
 */
#ifndef TACHYON_RADIX_H
#define TACHYON_RADIX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Token kinds of a template (same numbering as the Python side). */
#define RADIX_LIT 0   /* literal bytes */
#define RADIX_STR 1   /* [^/]+ */
#define RADIX_INT 2   /* [0-9]+ */
#define RADIX_FLOAT 3 /* [0-9]+(\.[0-9]+)? */
#define RADIX_UUID 4  /* 8-4-4-4-12 hex digits, each hyphen optional */
#define RADIX_PATH 5  /* .* (never crosses "\n") */

/* Paths longer than this are refused (RADIX_E_TOO_LONG) so every offset fits an int32 with room to spare;
 * real servers cap the request line far below it (h11: 64 KiB for the whole head). */
#define RADIX_MAX_PATH_BYTES (1 << 20)

/* Work budget of one lookup, in elementary steps (a frame pushed or a candidate end examined):
 * BASE + PER_BYTE * len(path).  Ordinary tables use a few dozen steps; only tables with several
 * parameters inside one segment can backtrack polynomially, and those get RADIX_E_BUDGET so the caller can
 * answer that one lookup with the exact regex loop instead. */
#define RADIX_BUDGET_BASE (1 << 18)
#define RADIX_BUDGET_PER_BYTE 32

/* Build-time limits: they bound the memory of a tree and keep every count in 32 bits. */
#define RADIX_MAX_ENTRIES (1 << 20)
#define RADIX_MAX_TOKENS (1 << 22)
#define RADIX_MAX_POOL_BYTES (1 << 28)

/* Return codes.  radix_lookup() returns the number of int32 written (>= 4) on success. */
#define RADIX_OK 0
#define RADIX_E_NOMEM (-1)     /* allocation failed */
#define RADIX_E_INVALID (-2)   /* malformed entries (bad kind, bounds, non-literal opaque prefix, ...) */
#define RADIX_E_TOO_BIG (-3)   /* table exceeds a build-time limit */
#define RADIX_E_TOO_LONG (-4)  /* path longer than RADIX_MAX_PATH_BYTES */
#define RADIX_E_BUDGET (-5)    /* work budget exhausted: answer this lookup another way */
#define RADIX_E_OUT_SMALL (-6) /* out buffer too small; out[0] holds the size needed (if out_cap >= 1) */
/* radix_find() only: */
#define RADIX_NO_MATCH (-7) /* nothing matches: no full, no partial, no opaque candidate; out is not written */
#define RADIX_MORE (-8)     /* the answer is in out, in radix_lookup()'s layout */

/* radix_find(): capacity of its out buffer (int32 units), and how the selector packs the request.  Results that
 * do not fit make it return RADIX_E_OUT_SMALL; the caller then asks radix_lookup() with a larger buffer. */
#define RADIX_FIND_OUT_INTS 64
#define RADIX_SEL_TYPE_BITS 8 /* sel = method_bit << RADIX_SEL_TYPE_BITS | type_bit (type_bit < 256) */
/* An int parameter of at most this many digits has its value in the out buffer (always fits an int32). */
#define RADIX_INT_VALUE_DIGITS 9

typedef struct {
    uint32_t kind;    /* RADIX_LIT .. RADIX_PATH */
    uint32_t lit_off; /* literal bytes in the pool (RADIX_LIT only) */
    uint32_t lit_len;
} radix_token;

typedef struct {
    int32_t index;        /* registration index, >= 0 */
    uint32_t type_mask;   /* scope types the entry serves (bit per type) */
    uint64_t method_mask; /* 0 = any method, else the methods' bits */
    uint32_t opaque;      /* non-zero: the caller matches it; tokens are only its literal prefix */
    uint32_t first_token; /* tokens[first_token .. first_token + n_tokens) */
    uint32_t n_tokens;
} radix_entry;

typedef struct radix_tree radix_tree;

/* Builds a tree; on success stores it in *tree and returns RADIX_OK.  Nothing is retained from the
 * arguments (the pool is copied). */
int radix_build(const radix_entry *entries, size_t n_entries, const radix_token *tokens, size_t n_tokens,
                const char *pool, size_t pool_len, radix_tree **tree);

void radix_free(radix_tree *tree);

/* The largest result radix_lookup() can write for this tree, in int32 units. */
size_t radix_out_size(const radix_tree *tree);

/* Looks `path` up.  Writes [full, partial, n_opaque, opaque..., n_params, start0, end0, ...] into out:
 * full/partial are registration indices or -1, opaque candidates ascending, spans in code points (every
 * byte that is not a UTF-8 continuation byte counts as one).  Returns the count written or a RADIX_E_*. */
int32_t radix_lookup(const radix_tree *tree, const char *path, size_t len, uint64_t method_bit, uint32_t type_bit,
                     int32_t *out, size_t out_cap);

/* The same search with the common answers made cheap to read (one call from Python costs ~20 ns per argument,
 * hence the packed selector and the fixed-capacity buffer of RADIX_FIND_OUT_INTS int32):
 *   >= 0            the full match's index, with no partial below it and no opaque candidate; for parameter i
 *                   (in template order) out[3i], out[3i+1] = its span in code points and out[3i+2] = its
 *                   value if it is an int parameter (`[0-9]+`, at most RADIX_INT_VALUE_DIGITS digits), else 0.
 *                   An int parameter with more digits makes the answer RADIX_MORE instead.
 *   RADIX_NO_MATCH  no full, no partial, no opaque candidate;
 *   RADIX_MORE      anything else: out holds [full, partial, n_opaque, opaque..., n_params, spans...] as
 *                   radix_lookup() writes it;
 *   RADIX_E_*       as radix_lookup() (RADIX_E_OUT_SMALL: the RADIX_MORE layout does not fit). */
int32_t radix_find(const radix_tree *tree, const char *path, size_t len, uint64_t sel, int32_t *out);

#ifdef __cplusplus
}
#endif

#endif
