/*
 * libFuzzer target for the radix tree: builds a small table from the input, looks the rest of the input up
 * as a path, and compares the answer with a naive reference (each route matched alone by a backtracking
 * matcher in registration order, written independently of the tree), and radix_find()'s encoding of the
 * same answer with radix_lookup()'s.  Any difference aborts; the sanitizers catch memory and
 * undefined-behaviour errors on the way.
 *
 * Input layout (everything optional; missing bytes read as 0):
 *   n_entries(1 byte, % 8 + 1)
 *   per entry: flags (bits 0-1 type mask, 2-3 method mask, 4 opaque), n_tokens (% 7),
 *              per token: kind (% 6), and for literals: length (% 5) then the bytes
 *   method_bit (1 byte, % 4), type_bit (1 byte, % 3 + 1 ... 1, 2 or 3)
 *   the path: every remaining byte
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "radix.h"

#define MAX_ENTRIES 8
#define MAX_TOKENS 6
#define MAX_LIT 4
/* The reference backtracks exhaustively; beyond this path length or work it is skipped (the tree is still
 * exercised for crashes). */
#define REF_MAX_PATH 40
#define REF_BUDGET 2000000

typedef struct {
    const uint8_t *data;
    size_t size, at;
} reader;

static uint8_t next_byte(reader *r) { return r->at < r->size ? r->data[r->at++] : 0; }

typedef struct {
    radix_entry entries[MAX_ENTRIES];
    radix_token tokens[MAX_ENTRIES * MAX_TOKENS];
    char pool[MAX_ENTRIES * MAX_TOKENS * MAX_LIT + 1];
    size_t n_entries, n_tokens, pool_len;
} table;

/* ------------------------------------------------------------------ reference matcher */

static long ref_work;

static int cont(uint8_t c) { return (c & 0xC0) == 0x80; }
static int digit(uint8_t c) { return c >= '0' && c <= '9'; }
static int hex(uint8_t c) { return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static int full_float(const uint8_t *p, int s, int e) {
    int i = s, d;
    while (i < e && digit(p[i])) i++;
    if (i == s) return 0;
    if (i == e) return 1;
    if (p[i] != '.') return 0;
    d = ++i;
    while (i < e && digit(p[i])) i++;
    return i == e && i > d;
}

static int full_uuid(const uint8_t *p, int s, int e) {
    static const int groups[5] = {8, 4, 4, 4, 12};
    int i = s, g, k;
    for (g = 0; g < 5; g++) {
        if (g && i < e && p[i] == '-') i++;
        for (k = 0; k < groups[g]; k++, i++)
            if (i >= e || !hex(p[i])) return 0;
    }
    return i == e;
}

/* Does p[s..e) fully match the kind's regex? */
static int kind_matches(uint32_t kind, const uint8_t *p, int n, int s, int e) {
    int i;
    if (e < n && e > 0 && cont(p[e])) return 0; /* ends on code-point boundaries only */
    switch (kind) {
    case RADIX_STR:
        if (e <= s) return 0;
        for (i = s; i < e; i++)
            if (p[i] == '/') return 0;
        return 1;
    case RADIX_INT:
        if (e <= s) return 0;
        for (i = s; i < e; i++)
            if (!digit(p[i])) return 0;
        return 1;
    case RADIX_FLOAT:
        return full_float(p, s, e);
    case RADIX_UUID:
        return full_uuid(p, s, e);
    case RADIX_PATH:
        for (i = s; i < e; i++)
            if (p[i] == '\n') return 0;
        return 1;
    default:
        return 0;
    }
}

static int ref_rec(const table *T, const radix_entry *en, uint32_t ti, const uint8_t *p, int n, int pos, int *spans,
                   int *n_spans) {
    int e;
    if (++ref_work > REF_BUDGET) return 0;
    if (ti == en->n_tokens) return pos == n || (pos + 1 == n && p[pos] == '\n');
    {
        const radix_token *tk = &T->tokens[en->first_token + ti];
        if (tk->kind == RADIX_LIT) {
            if ((int)tk->lit_len > n - pos || memcmp(T->pool + tk->lit_off, p + pos, tk->lit_len) != 0) return 0;
            return ref_rec(T, en, ti + 1, p, n, pos + (int)tk->lit_len, spans, n_spans);
        }
        /* `re` tries the longest capture first, then shorter ones */
        for (e = n; e >= pos; e--) {
            int saved = *n_spans;
            if (!kind_matches(tk->kind, p, n, pos, e)) continue;
            spans[(*n_spans)++] = pos;
            spans[(*n_spans)++] = e;
            if (ref_rec(T, en, ti + 1, p, n, e, spans, n_spans)) return 1;
            *n_spans = saved;
        }
        return 0;
    }
}

/* Byte structure of UTF-8 (lead byte + its continuation bytes), which is all that a Python str encoded with
 * "surrogatepass" can produce.  On other bytes the tree must merely stay memory-safe: code points are then
 * ill-defined, so the reference is not consulted. */
static int utf8_shaped(const uint8_t *p, size_t n) {
    size_t i = 0, k, more;
    while (i < n) {
        uint8_t c = p[i++];
        if (c < 0x80) continue;
        if (c >= 0xC2 && c <= 0xDF) more = 1;
        else if (c >= 0xE0 && c <= 0xEF) more = 2;
        else if (c >= 0xF0 && c <= 0xF4) more = 3;
        else return 0;
        for (k = 0; k < more; k++, i++)
            if (i >= n || !cont(p[i])) return 0;
    }
    return 1;
}

static int cps(const uint8_t *p, int upto) {
    int i, c = 0;
    for (i = 0; i < upto; i++) c += !cont(p[i]);
    return c;
}

/* ------------------------------------------------------------------ harness */

static int tokens_shaped(const table *T) {
    size_t i;
    for (i = 0; i < T->n_tokens; i++)
        if (T->tokens[i].kind == RADIX_LIT &&
            !utf8_shaped((const uint8_t *)T->pool + T->tokens[i].lit_off, T->tokens[i].lit_len))
            return 0;
    return 1;
}

static void parse(reader *r, table *T, uint64_t *method_bit, uint32_t *type_bit) {
    size_t i, j, n = (size_t)(next_byte(r) % MAX_ENTRIES) + 1;
    memset(T, 0, sizeof(*T));
    for (i = 0; i < n; i++) {
        uint8_t flags = next_byte(r);
        size_t nt = next_byte(r) % (MAX_TOKENS + 1);
        radix_entry *e = &T->entries[T->n_entries++];
        e->index = (int32_t)i;
        e->type_mask = flags & 3u;
        e->method_mask = (flags >> 2) & 3u;
        e->opaque = (flags >> 4) & 1u;
        e->first_token = (uint32_t)T->n_tokens;
        for (j = 0; j < nt; j++) {
            radix_token *tk = &T->tokens[T->n_tokens];
            tk->kind = next_byte(r) % 6u;
            if (e->opaque) tk->kind = RADIX_LIT;
            if (tk->kind == RADIX_LIT) {
                size_t k, len = next_byte(r) % (MAX_LIT + 1);
                tk->lit_off = (uint32_t)T->pool_len;
                tk->lit_len = (uint32_t)len;
                for (k = 0; k < len; k++) T->pool[T->pool_len++] = (char)next_byte(r);
            }
            T->n_tokens++;
            e->n_tokens++;
        }
    }
    *method_bit = next_byte(r) % 4u;
    *type_bit = (uint32_t)(next_byte(r) % 3u) + 1u;
}

/* Byte offset of code point `cp` in p[0, n) (the inverse of cps()), exact when the byte there is not a
 * continuation byte.  On bytes that are not UTF-8 a code-point offset can name several byte offsets (a stray
 * continuation byte counts for nothing), so only such an offset may be mapped back. */
static int byte_of(const uint8_t *p, int n, int cp) {
    int i = 0, c = 0;
    for (; i < n; i++) {
        if (cont(p[i])) continue;
        if (c == cp) return i;
        c++;
    }
    return n;
}

/* radix_find() must give the same answer as radix_lookup() (whose `rc` int32 are in `out`), in its own
 * encoding: the index alone for a plain full match (with spans and int values), NO_MATCH for nothing at
 * all, else MORE with radix_lookup()'s layout. */
static void check_find(const radix_tree *tree, const table *T, const uint8_t *path, int n, uint64_t method_bit,
                       uint32_t type_bit, int32_t rc, const int32_t *out) {
    int32_t got[RADIX_FIND_OUT_INTS];
    int32_t fr = radix_find(tree, (const char *)path, (size_t)n, method_bit << RADIX_SEL_TYPE_BITS | type_bit, got);
    int i, simple, big_int = 0;
    if (rc < 0) { /* budget or length: the same decision */
        if (fr != rc) abort();
        return;
    }
    simple = out[1] == -1 && out[2] == 0;
    if (simple && out[0] < 0) {
        if (fr != RADIX_NO_MATCH) abort();
        return;
    }
    if (simple) {
        const radix_entry *e = &T->entries[out[0]];
        uint32_t j, p = 0;
        for (j = 0; j < e->n_tokens; j++) {
            uint32_t kind = T->tokens[e->first_token + j].kind;
            int32_t start = out[4 + 2 * (int)p], end = out[5 + 2 * (int)p], v = 0;
            int s, digits, k;
            if (kind == RADIX_LIT) continue;
            if (kind == RADIX_INT) {
                /* An int capture is ASCII digits, one byte per code point: its first byte is a digit, so its
                 * start maps back exactly, and its byte length is its code-point length, on any bytes.  (Mapping
                 * the end back instead would skip the stray continuation bytes that may follow the digits in
                 * input that is not UTF-8, and read them as digits.) */
                s = byte_of(path, n, start);
                digits = end - start;
                if (digits < 1 || digits > n - s) abort();
                for (k = s; k < s + digits; k++)
                    if (!digit(path[k])) {
                        fprintf(stderr, "int parameter %u spans a non-digit byte at %d\n", p, k);
                        abort();
                    }
                if (digits > RADIX_INT_VALUE_DIGITS) big_int = 1;
                else
                    for (k = s; k < s + digits; k++) v = v * 10 + (path[k] - '0'); /* < 10^9: no overflow */
            }
            if (fr >= 0 && (got[3 * p] != start || got[3 * p + 1] != end || (!big_int && got[3 * p + 2] != v))) {
                fprintf(stderr, "radix_find: parameter %u differs\n", p);
                abort();
            }
            p++;
        }
        if ((int32_t)p != out[3]) abort();
        if (!big_int) {
            if (fr != out[0]) abort();
            return;
        }
    }
    if (fr != RADIX_MORE) abort();
    for (i = 0; i < rc; i++)
        if (got[i] != out[i]) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    reader r = {data, size, 0};
    table T;
    uint64_t method_bit;
    uint32_t type_bit;
    radix_tree *tree = NULL;
    const uint8_t *path;
    int n, rc, i;
    int32_t out[4 + MAX_ENTRIES + 2 * MAX_ENTRIES * MAX_TOKENS];

    parse(&r, &T, &method_bit, &type_bit);
    path = data + r.at;
    n = (int)(size - r.at);

    rc = radix_build(T.entries, T.n_entries, T.tokens, T.n_tokens, T.pool, T.pool_len, &tree);
    if (rc != RADIX_OK) abort(); /* every well-formed table must insert */
    if (radix_out_size(tree) > sizeof(out) / sizeof(out[0])) abort();

    /* a too-small buffer must be reported, never overrun */
    {
        int32_t tiny[2];
        int32_t got = radix_lookup(tree, (const char *)path, (size_t)n, method_bit, type_bit, tiny, 2);
        if (got != RADIX_E_OUT_SMALL && got != RADIX_E_BUDGET && got != RADIX_E_TOO_LONG) abort();
    }

    rc = radix_lookup(tree, (const char *)path, (size_t)n, method_bit, type_bit, out, sizeof(out) / sizeof(out[0]));
    if (rc == RADIX_E_BUDGET || rc == RADIX_E_TOO_LONG) {
        check_find(tree, &T, path, n, method_bit, type_bit, rc, out);
        radix_free(tree);
        return 0;
    }
    if (rc < 4 || rc > RADIX_FIND_OUT_INTS) abort();
    check_find(tree, &T, path, n, method_bit, type_bit, rc, out);

    if (n <= REF_MAX_PATH && utf8_shaped(path, (size_t)n) && tokens_shaped(&T)) {
        int full = -1, partial = -1, spans[2 * MAX_TOKENS], n_spans = 0, k = 0, w;
        int best_spans[2 * MAX_TOKENS], best_n = 0;
        ref_work = 0;
        for (i = 0; i < (int)T.n_entries; i++) {
            const radix_entry *e = &T.entries[i];
            if (e->opaque || !(e->type_mask & type_bit)) continue;
            n_spans = 0;
            if (!ref_rec(&T, e, 0, path, n, 0, spans, &n_spans)) continue;
            if (e->method_mask == 0 || (e->method_mask & method_bit)) {
                full = e->index;
                memcpy(best_spans, spans, sizeof(int) * (size_t)n_spans);
                best_n = n_spans;
                break;
            }
            if (partial < 0) partial = e->index;
        }
        if (ref_work > REF_BUDGET) {
            radix_free(tree);
            return 0;
        }
        if (out[0] != full || out[1] != partial) {
            fprintf(stderr, "mismatch: tree (%d, %d) reference (%d, %d)\n", out[0], out[1], full, partial);
            abort();
        }
        w = 3;
        for (i = 0; i < (int)T.n_entries; i++) {
            const radix_entry *e = &T.entries[i];
            uint32_t j, len = 0;
            char prefix[MAX_TOKENS * MAX_LIT];
            if (!e->opaque || (full >= 0 && e->index >= full) || !(e->type_mask & type_bit)) continue;
            for (j = 0; j < e->n_tokens; j++) {
                const radix_token *tk = &T.tokens[e->first_token + j];
                memcpy(prefix + len, T.pool + tk->lit_off, tk->lit_len);
                len += tk->lit_len;
            }
            if ((int)len > n || memcmp(prefix, path, len) != 0) continue;
            k++;
            if (out[2] < k || out[w++] != e->index) abort();
        }
        if (out[2] != k) abort();
        if (out[w++] != best_n / 2) abort();
        for (i = 0; i < best_n; i++)
            if (out[w++] != cps(path, best_spans[i])) {
                fprintf(stderr, "span %d differs\n", i);
                abort();
            }
        if (w != rc) abort();
    }
    radix_free(tree);
    return 0;
}
