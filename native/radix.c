/*
 * Tachyon router: min-index radix tree (see radix.h for the contract).
 *
 * Shape: a trie over template tokens.  Literal runs are compressed static edges (siblings differ in their
 * first byte); each parameter kind gets at most one parameter child per node.  Every node knows the lowest
 * registration index below it (overall and per scope type), so the search explores children in that order
 * and prunes a subtree as soon as it cannot beat the best full match found so far.
 *
 * Exactness with Python `re`: a route matches iff some assignment of parameter ends exists, and the spans
 * Python reports are those of the first assignment in backtracking order (each parameter tries its
 * possible ends longest first).  The search below nests, along every root-to-leaf path, exactly those
 * loops in exactly that order, and keeps only the FIRST full hit of a route (later hits of the same route
 * are pruned because they cannot beat it), so the recorded spans are the ones `re` would capture.
 */
#include "radix.h"

#include <stdlib.h>
#include <string.h>

#define NO_INDEX INT32_MAX

/* Frames and span slots kept on the C stack; deeper trees allocate (rare: a depth of 64 means a template
 * with dozens of parameters). */
#define LOCAL_FRAMES 64
#define LOCAL_SPANS 64

/* After this many steps a lookup starts remembering, per parameter node, which capture ends it has already
 * explored (see explore_from()).  Ordinary lookups never get here and so never pay for the memory. */
#ifndef MEMO_AFTER_STEPS
#define MEMO_AFTER_STEPS 4096 /* the fuzz build lowers it so that both regimes are exercised */
#endif

/* Static children of a node are scanned linearly up to this many, binary-searched above. */
#define LINEAR_SCAN_MAX 8

typedef struct {
    int32_t index;
    uint32_t type_mask;
    uint64_t method_mask;
} rroute;

typedef struct {
    int32_t min_idx[3]; /* lowest index below: [0] any type, [1] type bit 1, [2] type bit 2 */
    uint32_t kind;      /* RADIX_LIT for the root and static nodes, else the parameter kind */
    uint32_t lab_off;   /* static edge label in the pool */
    uint32_t lab_len;
    uint32_t kids_off; /* static kids (sorted by first byte), then parameter kids (sorted by min_idx[0]) */
    uint32_t n_skids;
    uint32_t n_pkids;
    uint32_t routes_off; /* routes ending here, ascending index */
    uint32_t n_routes;
    uint8_t end_ok;      /* a route can end here, possibly after empty `path` parameters */
    uint8_t no_inner;    /* str/int node: no continuation can start inside its capture's run (see shorter_end) */
} rnode;

/* Bytes that can start a continuation below a node (kept apart from rnode: only parameter ends read it). */
typedef struct {
    uint32_t bits[8];
} rfollow;

typedef struct {
    int32_t index;
    uint32_t type_mask;
    uint32_t pre_off; /* literal prefix in the opaque pool */
    uint32_t pre_len;
} ropaque;

struct radix_tree {
    rnode *nodes;
    rfollow *follow;
    uint32_t n_nodes;
    uint32_t *kids;
    uint8_t *kid_first; /* first label byte of each static kid, parallel to kids */
    rroute *routes;
    uint8_t *pool;
    ropaque *opaque;
    uint32_t n_opaque;
    uint8_t *opaque_pool;
    uint32_t max_depth;  /* frames needed by a search */
    uint32_t max_params; /* parameters of the longest parameter chain */
    size_t out_size;
};

/* ------------------------------------------------------------------------------------------------ */
/* Byte classes                                                                                       */

static int is_cont(uint8_t c) { return (c & 0xC0) == 0x80; }
static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static int is_hex(uint8_t c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static void set_bit(uint32_t *set, unsigned c) { set[c >> 5] |= (uint32_t)1 << (c & 31); }
static int has_bit(const uint32_t *set, unsigned c) { return (int)((set[c >> 5] >> (c & 31)) & 1u); }

static void set_kind_start(uint32_t *set, uint32_t kind) {
    unsigned c;
    switch (kind) {
    case RADIX_STR:
        for (c = 0; c < 256; c++)
            if (c != '/') set_bit(set, c);
        break;
    case RADIX_INT:
    case RADIX_FLOAT:
        for (c = '0'; c <= '9'; c++) set_bit(set, c);
        break;
    case RADIX_UUID:
        for (c = 0; c < 256; c++)
            if (is_hex((uint8_t)c)) set_bit(set, c);
        break;
    case RADIX_PATH:
        for (c = 0; c < 256; c++)
            if (c != '\n') set_bit(set, c);
        break;
    default:
        break;
    }
}

/* Does no byte of `follow` occur inside a run of a `kind` capture?  str runs hold no "/", int runs only
 * digits; then no end strictly inside the run can be followed by anything, whatever the path. */
static int follow_outside_run(const rfollow *follow, uint32_t kind) {
    unsigned c;
    if (kind != RADIX_STR && kind != RADIX_INT) return 0;
    for (c = 0; c < 256; c++) {
        if (!has_bit(follow->bits, c)) continue;
        if (kind == RADIX_STR ? c != '/' : is_digit((uint8_t)c)) return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------------------------------------ */
/* Builder                                                                                            */

typedef struct {
    uint32_t kind;
    uint32_t lab_off, lab_len;
    uint32_t *kids;
    uint32_t n_kids, cap_kids;
    rroute *routes;
    uint32_t n_routes, cap_routes;
} bnode;

typedef struct {
    bnode *nodes;
    uint32_t n, cap;
    const uint8_t *pool;
} builder;

static int grow(void **arr, uint32_t *cap, uint32_t need, size_t elem) {
    uint32_t ncap;
    void *p;
    if (need <= *cap) return RADIX_OK;
    ncap = *cap ? *cap : 4;
    while (ncap < need) ncap *= 2;
    p = realloc(*arr, (size_t)ncap * elem);
    if (!p) return RADIX_E_NOMEM;
    *arr = p;
    *cap = ncap;
    return RADIX_OK;
}

static int new_node(builder *b, uint32_t kind, uint32_t lab_off, uint32_t lab_len, uint32_t *id) {
    bnode *n;
    if (grow((void **)&b->nodes, &b->cap, b->n + 1, sizeof(bnode))) return RADIX_E_NOMEM;
    n = &b->nodes[b->n];
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    n->lab_off = lab_off;
    n->lab_len = lab_len;
    *id = b->n++;
    return RADIX_OK;
}

static int add_kid(builder *b, uint32_t parent, uint32_t kid) {
    bnode *n = &b->nodes[parent];
    if (grow((void **)&n->kids, &n->cap_kids, n->n_kids + 1, sizeof(uint32_t))) return RADIX_E_NOMEM;
    n->kids[n->n_kids++] = kid;
    return RADIX_OK;
}

/* Follows/creates the static path spelling pool[off, off+len) below *cur. */
static int insert_literal(builder *b, uint32_t *cur, uint32_t off, uint32_t len) {
    while (len > 0) {
        const uint8_t *s = b->pool + off;
        uint32_t i, k = UINT32_MAX, slot = 0, common = 0, mid, made;
        bnode *n = &b->nodes[*cur];
        for (i = 0; i < n->n_kids; i++) {
            bnode *kn = &b->nodes[n->kids[i]];
            if (kn->kind == RADIX_LIT && b->pool[kn->lab_off] == s[0]) {
                k = n->kids[i];
                slot = i;
                break;
            }
        }
        if (k == UINT32_MAX) {
            if (new_node(b, RADIX_LIT, off, len, &made)) return RADIX_E_NOMEM;
            if (add_kid(b, *cur, made)) return RADIX_E_NOMEM;
            *cur = made;
            return RADIX_OK;
        }
        {
            bnode *kn = &b->nodes[k];
            while (common < kn->lab_len && common < len && b->pool[kn->lab_off + common] == s[common]) common++;
            if (common < kn->lab_len) {
                /* split: parent -> mid(common bytes) -> k(rest) */
                uint32_t koff = kn->lab_off;
                if (new_node(b, RADIX_LIT, koff, common, &mid)) return RADIX_E_NOMEM;
                kn = &b->nodes[k]; /* nodes may have moved */
                kn->lab_off += common;
                kn->lab_len -= common;
                if (add_kid(b, mid, k)) return RADIX_E_NOMEM;
                b->nodes[*cur].kids[slot] = mid;
                k = mid;
            }
        }
        *cur = k;
        off += common;
        len -= common;
    }
    return RADIX_OK;
}

static int insert_param(builder *b, uint32_t *cur, uint32_t kind) {
    uint32_t i, made;
    bnode *n = &b->nodes[*cur];
    for (i = 0; i < n->n_kids; i++) {
        if (b->nodes[n->kids[i]].kind == kind) {
            *cur = n->kids[i];
            return RADIX_OK;
        }
    }
    if (new_node(b, kind, 0, 0, &made)) return RADIX_E_NOMEM;
    if (add_kid(b, *cur, made)) return RADIX_E_NOMEM;
    *cur = made;
    return RADIX_OK;
}

static int cmp_route(const void *a, const void *b) {
    int32_t x = ((const rroute *)a)->index, y = ((const rroute *)b)->index;
    return (x > y) - (x < y);
}

static int cmp_opaque(const void *a, const void *b) {
    int32_t x = ((const ropaque *)a)->index, y = ((const ropaque *)b)->index;
    return (x > y) - (x < y);
}

static void free_builder(builder *b) {
    uint32_t i;
    for (i = 0; i < b->n; i++) {
        free(b->nodes[i].kids);
        free(b->nodes[i].routes);
    }
    free(b->nodes);
}

void radix_free(radix_tree *t) {
    if (!t) return;
    free(t->nodes);
    free(t->follow);
    free(t->kids);
    free(t->kid_first);
    free(t->routes);
    free(t->pool);
    free(t->opaque);
    free(t->opaque_pool);
    free(t);
}

static int validate(const radix_entry *entries, size_t n_entries, const radix_token *tokens, size_t n_tokens,
                    size_t pool_len) {
    size_t i, j;
    if (n_entries > RADIX_MAX_ENTRIES || n_tokens > RADIX_MAX_TOKENS || pool_len > RADIX_MAX_POOL_BYTES)
        return RADIX_E_TOO_BIG;
    for (i = 0; i < n_tokens; i++) {
        const radix_token *tk = &tokens[i];
        if (tk->kind > RADIX_PATH) return RADIX_E_INVALID;
        if (tk->kind == RADIX_LIT && ((uint64_t)tk->lit_off + tk->lit_len > (uint64_t)pool_len)) return RADIX_E_INVALID;
    }
    for (i = 0; i < n_entries; i++) {
        const radix_entry *e = &entries[i];
        if (e->index < 0 || e->index == NO_INDEX) return RADIX_E_INVALID;
        if ((uint64_t)e->first_token + e->n_tokens > (uint64_t)n_tokens) return RADIX_E_INVALID;
        if (e->opaque)
            for (j = 0; j < e->n_tokens; j++)
                if (tokens[e->first_token + j].kind != RADIX_LIT) return RADIX_E_INVALID;
    }
    return RADIX_OK;
}

static int build_opaque(radix_tree *t, const radix_entry *entries, size_t n_entries, const radix_token *tokens,
                        const uint8_t *pool) {
    size_t i, j, total = 0, n = 0;
    uint32_t at = 0;
    for (i = 0; i < n_entries; i++) {
        if (!entries[i].opaque) continue;
        n++;
        for (j = 0; j < entries[i].n_tokens; j++) total += tokens[entries[i].first_token + j].lit_len;
    }
    if (total > RADIX_MAX_POOL_BYTES) return RADIX_E_TOO_BIG;
    t->opaque = (ropaque *)calloc(n ? n : 1, sizeof(ropaque));
    t->opaque_pool = (uint8_t *)malloc(total ? total : 1);
    if (!t->opaque || !t->opaque_pool) return RADIX_E_NOMEM;
    for (i = 0; i < n_entries; i++) {
        const radix_entry *e = &entries[i];
        ropaque *o;
        if (!e->opaque) continue;
        o = &t->opaque[t->n_opaque++];
        o->index = e->index;
        o->type_mask = e->type_mask;
        o->pre_off = at;
        for (j = 0; j < e->n_tokens; j++) {
            const radix_token *tk = &tokens[e->first_token + j];
            if (tk->lit_len) memcpy(t->opaque_pool + at, pool + tk->lit_off, tk->lit_len);
            at += tk->lit_len;
        }
        o->pre_len = at - o->pre_off;
    }
    if (t->n_opaque > 1) qsort(t->opaque, t->n_opaque, sizeof(ropaque), cmp_opaque);
    return RADIX_OK;
}

static int finalize(radix_tree *t, builder *b) {
    uint32_t n = b->n, i, j, head = 0, tail = 0, total_kids = 0, total_routes = 0, kpos = 0, rpos = 0;
    uint32_t *order = NULL, *depth = NULL, *pdepth = NULL;
    int rc = RADIX_E_NOMEM;

    t->nodes = (rnode *)calloc(n, sizeof(rnode));
    t->follow = (rfollow *)calloc(n, sizeof(rfollow));
    order = (uint32_t *)malloc((size_t)n * sizeof(uint32_t));
    depth = (uint32_t *)calloc(n, sizeof(uint32_t));
    pdepth = (uint32_t *)calloc(n, sizeof(uint32_t));
    for (i = 0; i < n; i++) {
        total_kids += b->nodes[i].n_kids;
        total_routes += b->nodes[i].n_routes;
    }
    t->kids = (uint32_t *)malloc((size_t)(total_kids ? total_kids : 1) * sizeof(uint32_t));
    t->kid_first = (uint8_t *)malloc(total_kids ? total_kids : 1);
    t->routes = (rroute *)malloc((size_t)(total_routes ? total_routes : 1) * sizeof(rroute));
    if (!t->nodes || !t->follow || !order || !depth || !pdepth || !t->kids || !t->kid_first || !t->routes) goto done;
    t->n_nodes = n;

    /* Breadth-first order: parents before kids; reversed, it is a bottom-up order. */
    order[tail++] = 0;
    while (head < tail) {
        uint32_t id = order[head++];
        bnode *bn = &b->nodes[id];
        for (j = 0; j < bn->n_kids; j++) {
            uint32_t k = bn->kids[j];
            depth[k] = depth[id] + 1;
            pdepth[k] = pdepth[id] + (b->nodes[k].kind != RADIX_LIT);
            order[tail++] = k;
        }
    }
    t->max_depth = 0;
    t->max_params = 0;
    for (i = 0; i < n; i++) {
        if (depth[i] > t->max_depth) t->max_depth = depth[i];
        if (pdepth[i] > t->max_params) t->max_params = pdepth[i];
    }

    for (i = n; i-- > 0;) {
        uint32_t id = order[i], ns = 0, np = 0, a, c;
        bnode *bn = &b->nodes[id];
        rnode *rn = &t->nodes[id];
        rfollow *rf = &t->follow[id];
        rn->kind = bn->kind;
        rn->lab_off = bn->lab_off;
        rn->lab_len = bn->lab_len;
        rn->min_idx[0] = rn->min_idx[1] = rn->min_idx[2] = NO_INDEX;

        if (bn->n_routes > 1) qsort(bn->routes, bn->n_routes, sizeof(rroute), cmp_route);
        rn->routes_off = rpos;
        rn->n_routes = bn->n_routes;
        for (j = 0; j < bn->n_routes; j++) {
            rroute r = bn->routes[j];
            t->routes[rpos++] = r;
            if (r.index < rn->min_idx[0]) rn->min_idx[0] = r.index;
            if ((r.type_mask & 1u) && r.index < rn->min_idx[1]) rn->min_idx[1] = r.index;
            if ((r.type_mask & 2u) && r.index < rn->min_idx[2]) rn->min_idx[2] = r.index;
        }
        rn->end_ok = bn->n_routes > 0;

        /* kids: statics sorted by first byte, then params sorted by min_idx[0] (kind breaks ties) */
        rn->kids_off = kpos;
        for (j = 0; j < bn->n_kids; j++)
            if (b->nodes[bn->kids[j]].kind == RADIX_LIT) t->kids[kpos + ns++] = bn->kids[j];
        for (j = 0; j < bn->n_kids; j++)
            if (b->nodes[bn->kids[j]].kind != RADIX_LIT) t->kids[kpos + ns + np++] = bn->kids[j];
        for (a = 1; a < ns; a++) { /* insertion sorts: sibling lists are short */
            uint32_t v = t->kids[kpos + a];
            uint8_t key = b->pool[b->nodes[v].lab_off];
            c = a;
            while (c > 0 && b->pool[b->nodes[t->kids[kpos + c - 1]].lab_off] > key) {
                t->kids[kpos + c] = t->kids[kpos + c - 1];
                c--;
            }
            t->kids[kpos + c] = v;
        }
        for (a = 1; a < np; a++) {
            uint32_t v = t->kids[kpos + ns + a];
            const rnode *vn = &t->nodes[v];
            c = a;
            while (c > 0) {
                const rnode *pn = &t->nodes[t->kids[kpos + ns + c - 1]];
                if (pn->min_idx[0] < vn->min_idx[0] || (pn->min_idx[0] == vn->min_idx[0] && pn->kind <= vn->kind)) break;
                t->kids[kpos + ns + c] = t->kids[kpos + ns + c - 1];
                c--;
            }
            t->kids[kpos + ns + c] = v;
        }
        for (j = 0; j < ns; j++) t->kid_first[kpos + j] = b->pool[b->nodes[t->kids[kpos + j]].lab_off];
        rn->n_skids = ns;
        rn->n_pkids = np;
        kpos += ns + np;

        /* aggregate the kids (already final: bottom-up) */
        for (j = 0; j < ns + np; j++) {
            const rnode *kn = &t->nodes[t->kids[rn->kids_off + j]];
            for (a = 0; a < 3; a++)
                if (kn->min_idx[a] < rn->min_idx[a]) rn->min_idx[a] = kn->min_idx[a];
            if (kn->kind == RADIX_LIT) {
                set_bit(rf->bits, b->pool[kn->lab_off]);
            } else {
                set_kind_start(rf->bits, kn->kind);
                if (kn->kind == RADIX_PATH) { /* `.*` may be empty: what follows it can start here too */
                    const rfollow *kf = &t->follow[t->kids[rn->kids_off + j]];
                    for (a = 0; a < 8; a++) rf->bits[a] |= kf->bits[a];
                    if (kn->end_ok) rn->end_ok = 1;
                }
            }
        }
        rn->no_inner = (uint8_t)follow_outside_run(rf, rn->kind);
    }
    t->out_size = 4u + (size_t)t->n_opaque + 2u * (size_t)t->max_params;
    rc = RADIX_OK;
done:
    free(order);
    free(depth);
    free(pdepth);
    return rc;
}

int radix_build(const radix_entry *entries, size_t n_entries, const radix_token *tokens, size_t n_tokens,
                const char *pool, size_t pool_len, radix_tree **tree) {
    builder b;
    radix_tree *t;
    size_t i, j;
    int rc;
    const uint8_t *upool = (const uint8_t *)pool;

    if (!tree) return RADIX_E_INVALID;
    *tree = NULL;
    if ((n_entries && !entries) || (n_tokens && !tokens) || (pool_len && !pool)) return RADIX_E_INVALID;
    rc = validate(entries, n_entries, tokens, n_tokens, pool_len);
    if (rc) return rc;

    t = (radix_tree *)calloc(1, sizeof(radix_tree));
    if (!t) return RADIX_E_NOMEM;
    t->pool = (uint8_t *)malloc(pool_len ? pool_len : 1);
    if (!t->pool) {
        radix_free(t);
        return RADIX_E_NOMEM;
    }
    if (pool_len) memcpy(t->pool, upool, pool_len);

    memset(&b, 0, sizeof(b));
    b.pool = t->pool;
    {
        uint32_t root;
        rc = new_node(&b, RADIX_LIT, 0, 0, &root);
    }
    for (i = 0; rc == RADIX_OK && i < n_entries; i++) {
        const radix_entry *e = &entries[i];
        uint32_t cur = 0;
        bnode *leaf;
        if (e->opaque) continue;
        for (j = 0; rc == RADIX_OK && j < e->n_tokens; j++) {
            const radix_token *tk = &tokens[e->first_token + j];
            if (tk->kind == RADIX_LIT)
                rc = tk->lit_len ? insert_literal(&b, &cur, tk->lit_off, tk->lit_len) : RADIX_OK;
            else
                rc = insert_param(&b, &cur, tk->kind);
        }
        if (rc) break;
        leaf = &b.nodes[cur];
        rc = grow((void **)&leaf->routes, &leaf->cap_routes, leaf->n_routes + 1, sizeof(rroute));
        if (rc) break;
        leaf->routes[leaf->n_routes].index = e->index;
        leaf->routes[leaf->n_routes].type_mask = e->type_mask;
        leaf->routes[leaf->n_routes].method_mask = e->method_mask;
        leaf->n_routes++;
    }
    if (rc == RADIX_OK) rc = build_opaque(t, entries, n_entries, tokens, upool);
    if (rc == RADIX_OK) rc = finalize(t, &b);
    free_builder(&b);
    if (rc) {
        radix_free(t);
        return rc;
    }
    *tree = t;
    return RADIX_OK;
}

size_t radix_out_size(const radix_tree *t) { return t ? t->out_size : 0; }

/* ------------------------------------------------------------------------------------------------ */
/* Search                                                                                             */

typedef struct {
    uint32_t node;
    int32_t start; /* parameter nodes: first byte of the capture */
    int32_t pos;   /* byte offset just after this node's edge */
    int32_t aux;   /* FLOAT: end of the integer digits */
    int32_t skid;  /* static kid matching at pos, not yet explored; -1 none */
    uint32_t pi;   /* next parameter kid to explore */
} frame;

typedef struct {
    const radix_tree *t;
    const uint8_t *p;
    int32_t n;
    uint64_t method_bit;
    uint32_t type_bit;
    int32_t best_full;
    int32_t best_partial;
    int32_t *spans;
    uint8_t *span_kind; /* kind of the parameter of each span pair (spans[2k], spans[2k+1]) */
    uint32_t n_spans;
    /* memo (allocated lazily): per parameter node, the lowest start explored for the run ending at key */
    int32_t *memo_lo;
    int32_t *memo_key; /* key + 1; 0 = nothing recorded */
    int32_t run_from[4]; /* run_end() cache per class: [run_from, run_to] lies in one run */
    int32_t run_to[4];
} search;

/*
 * Memo of parameter explorations.  Revisiting a state (node, end) can never improve the answer: the first
 * visit already found the lowest full match below it (or was pruned because a lower one existed), and a
 * partial it missed lies above the final full match.  Captures of one kind that start inside the same run
 * (same stop byte for str/int/path, same integer digits for float) have nested candidate sets: from start s
 * the ends are (s, M].  So after exploring from s, a later start s2 >= s has nothing new, and s2 < s only
 * the ends (s2, s].  This turns `{a}.{b}` against a long run of dots from quadratic into linear work.
 * Returns the first end to try (<= e), or -1 to skip the edge.
 */
static int32_t explore_from(search *S, uint32_t node, uint32_t kind, int32_t start, int32_t e, int32_t aux) {
    int32_t key;
    if (!S->memo_lo || e < 0 || kind == RADIX_UUID) return e;
    key = (kind == RADIX_FLOAT ? aux : e) + 1;
    if (S->memo_key[node] == key) {
        int32_t lo = S->memo_lo[node];
        if (start >= lo) return -1;
        S->memo_lo[node] = start;
        return lo < e ? lo : e;
    }
    S->memo_key[node] = key;
    S->memo_lo[node] = start;
    return e;
}

/* `$` of Python re: end of string, or just before a final "\n". */
static int accept_at(const uint8_t *p, int32_t n, int32_t e) { return e == n || (e + 1 == n && p[e] == '\n'); }

/* Can anything below `nd` continue at e?  A cheap filter that never rejects a viable end. */
static int admits(const radix_tree *t, uint32_t node, const uint8_t *p, int32_t n, int32_t e) {
    if (t->nodes[node].end_ok && accept_at(p, n, e)) return 1;
    return e < n && has_bit(t->follow[node].bits, p[e]);
}

/* UTF-8 continuation bytes in p[from, to), eight at a time: a code-point offset is the byte offset minus
 * the continuation bytes before it. */
static int32_t count_cont(const uint8_t *p, int32_t from, int32_t to) {
    const uint64_t high = 0x8080808080808080ull;
    int32_t count = 0;
    while (from + 8 <= to) {
        uint64_t w, cont;
        memcpy(&w, p + from, 8);
        cont = w & high & ~(w << 1); /* top bits "10" */
        if (cont) count += (int32_t)(((cont >> 7) * 0x0101010101010101ull) >> 56);
        from += 8;
    }
    for (; from < to; from++) count += is_cont(p[from]);
    return count;
}

/* Labels are short: a byte loop beats a call to memcmp. */
static int same_bytes(const uint8_t *a, const uint8_t *b, uint32_t len) {
    uint32_t i;
    for (i = 0; i < len; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/* Offset of the first byte >= 0x80 in p[0, n), else n. */
static int32_t first_high(const uint8_t *p, int32_t n) {
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w & 0x8080808080808080ull) break;
    }
    for (; i < n; i++)
        if (p[i] & 0x80) return i;
    return n;
}

/* Converts non-decreasing byte offsets to code points in one forward pass.  Continuation bytes are >= 0x80,
 * so up to the first such byte (found once) both units agree: an ASCII path never counts anything. */
typedef struct {
    const uint8_t *p;
    int32_t at;      /* bytes before `at` are accounted for */
    int32_t skipped; /* continuation bytes before `at` */
    int32_t plain;   /* no byte >= 0x80 before this offset */
} cp_cursor;

static void cp_start(cp_cursor *c, const uint8_t *p, const int32_t *offsets, uint32_t n) {
    int32_t last = 0;
    uint32_t k;
    for (k = 0; k < n; k++)
        if (offsets[k] > last) last = offsets[k];
    c->p = p;
    c->plain = first_high(p, last);
    c->at = c->plain;
    c->skipped = 0;
}

static int32_t cp_of(cp_cursor *c, int32_t offset) {
    if (offset <= c->plain) return offset;
    if (offset > c->at) {
        c->skipped += count_cont(c->p, c->at, offset);
        c->at = offset;
    }
    return offset - c->skipped;
}

static int32_t uuid_end(const uint8_t *p, int32_t n, int32_t s) {
    static const int groups[5] = {8, 4, 4, 4, 12};
    int32_t e = s;
    int g, k;
    for (g = 0; g < 5; g++) {
        /* `-?` is greedy, and a hyphen can never be a hex digit, so there is no second choice */
        if (g > 0 && e < n && p[e] == '-') e++;
        for (k = 0; k < groups[g]; k++) {
            if (e >= n || !is_hex(p[e])) return -1;
            e++;
        }
    }
    return e;
}

/* End of the run starting at s that a capture cannot cross: the next "/" (str), the next "\n" (path), the
 * end of the digits (int, float's integer part; float's fraction uses its own slot).  Remembering the last
 * run per class makes the many starts inside one long run cost O(1) each instead of a rescan. */
enum { RUN_SLASH = 0, RUN_NEWLINE = 1, RUN_DIGITS = 2, RUN_FRACTION = 3, RUN_CLASSES = 4 };

static int32_t run_end(search *S, int cls, int32_t s) {
    const uint8_t *p = S->p;
    int32_t n = S->n, e;
    const void *hit;
    int32_t from = S->run_from[cls], to = S->run_to[cls], limit = n;
    int extend = 0;
    if (from <= s && s <= to) return to;
    if (s < from && from <= to) { /* only [s, from) is unknown: extend the cached run backwards */
        limit = from;
        extend = 1;
    }
    switch (cls) {
    case RUN_SLASH:
        hit = s < limit ? memchr(p + s, '/', (size_t)(limit - s)) : NULL;
        e = hit ? (int32_t)((const uint8_t *)hit - p) : limit;
        break;
    case RUN_NEWLINE:
        hit = s < limit ? memchr(p + s, '\n', (size_t)(limit - s)) : NULL;
        e = hit ? (int32_t)((const uint8_t *)hit - p) : limit;
        break;
    default:
        e = s;
        while (e < limit && is_digit(p[e])) e++;
        break;
    }
    if (extend && e == limit) e = to; /* the run goes on through the cached part */
    S->run_from[cls] = s;
    S->run_to[cls] = e;
    return e;
}

/* The longest end of a `kind` capture starting at s (the first end `re` tries), or -1. */
static int32_t param_first(search *S, uint32_t kind, int32_t s, int32_t *aux) {
    const uint8_t *p = S->p;
    int32_t n = S->n, e;
    switch (kind) {
    case RADIX_STR:
        e = run_end(S, RUN_SLASH, s);
        return e > s ? e : -1;
    case RADIX_INT:
        e = run_end(S, RUN_DIGITS, s);
        return e > s ? e : -1;
    case RADIX_FLOAT:
        e = run_end(S, RUN_DIGITS, s);
        if (e == s) return -1;
        *aux = e;
        if (e + 1 < n && p[e] == '.' && is_digit(p[e + 1])) e = run_end(S, RUN_FRACTION, e + 1);
        return e;
    case RADIX_UUID:
        return uuid_end(p, n, s);
    case RADIX_PATH:
        return run_end(S, RUN_NEWLINE, s);
    default:
        return -1;
    }
}

/* The next shorter end after e, in `re` backtracking order, or -1.  Ends stay on code-point boundaries. */
static int32_t param_prev(uint32_t kind, const uint8_t *p, int32_t s, int32_t e, int32_t aux) {
    switch (kind) {
    case RADIX_STR:
        e--;
        while (e > s && is_cont(p[e])) e--;
        return e > s ? e : -1;
    case RADIX_INT:
        e--;
        return e > s ? e : -1;
    case RADIX_FLOAT:
        e--;
        if (e == aux + 1) e--; /* "12." is not a float: skip the end right after the dot */
        return e > s ? e : -1;
    case RADIX_PATH:
        e--;
        while (e > s && is_cont(p[e])) e--;
        return e >= s ? e : -1;
    default:
        return -1;
    }
}

/* The next shorter end after e that admits() can accept, for a node with no_inner set: the only candidate
 * left inside the run is the position of a final "\n" (str captures may hold it, and `$` accepts there).
 * Saves param_prev()'s byte-by-byte walk back over the run, which after a hit is pure overhead. */
static int32_t shorter_end(const search *S, const rnode *nd, int32_t s, int32_t e) {
    const int32_t last = S->n - 1;
    if (nd->kind == RADIX_STR && nd->end_ok && last > s && last < e && S->p[last] == '\n') return last;
    return -1;
}

/* Frame f now sits at f->pos: find its matching static kid and record any route ending here. */
static void enter(search *S, frame *base, uint32_t depth) {
    const radix_tree *t = S->t;
    frame *f = &base[depth];
    const rnode *nd = &t->nodes[f->node];
    int32_t pos = f->pos;

    f->pi = 0;
    f->skid = -1;
    if (nd->n_skids && pos < S->n) {
        const uint8_t c = S->p[pos];
        const uint8_t *firsts = t->kid_first + nd->kids_off;
        uint32_t lo = 0, hi = nd->n_skids, k = UINT32_MAX;
        if (nd->n_skids <= LINEAR_SCAN_MAX) {
            for (lo = 0; lo < hi; lo++)
                if (firsts[lo] == c) {
                    k = lo;
                    break;
                }
        } else {
            while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (firsts[mid] < c)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo < nd->n_skids && firsts[lo] == c) k = lo;
        }
        if (k != UINT32_MAX) {
            uint32_t kid = t->kids[nd->kids_off + k];
            const rnode *kn = &t->nodes[kid];
            if ((int32_t)kn->lab_len <= S->n - pos && same_bytes(t->pool + kn->lab_off, S->p + pos, kn->lab_len))
                f->skid = (int32_t)kid;
        }
    }

    if (nd->n_routes && accept_at(S->p, S->n, pos)) {
        const rroute *r = t->routes + nd->routes_off;
        uint32_t i, d;
        for (i = 0; i < nd->n_routes && r[i].index < S->best_full; i++) {
            if (!(r[i].type_mask & S->type_bit)) continue;
            if (r[i].method_mask == 0 || (r[i].method_mask & S->method_bit)) {
                S->best_full = r[i].index;
                S->n_spans = 0;
                for (d = 0; d <= depth; d++) {
                    uint32_t kind = t->nodes[base[d].node].kind;
                    if (kind == RADIX_LIT) continue;
                    S->span_kind[S->n_spans / 2] = (uint8_t)kind;
                    S->spans[S->n_spans++] = base[d].start;
                    S->spans[S->n_spans++] = base[d].pos;
                }
                break;
            }
            if (r[i].index < S->best_partial) S->best_partial = r[i].index;
        }
    }
}

/* Value of the ASCII digits p[s, e) when there are at most RADIX_INT_VALUE_DIGITS of them, else -1. */
static int32_t small_int(const uint8_t *p, int32_t s, int32_t e) {
    int32_t v = 0;
    if (e - s > RADIX_INT_VALUE_DIGITS) return -1;
    for (; s < e; s++) v = v * 10 + (int32_t)(p[s] - '0');
    return v;
}

/* The search behind both entry points; `fast` selects radix_find()'s output (constant at each call site, so
 * the compiler specialises it). */
static int32_t lookup_core(const radix_tree *t, const char *path, size_t len, uint64_t method_bit, uint32_t type_bit,
                           int32_t *out, size_t out_cap, int fast) {
    frame local_frames[LOCAL_FRAMES];
    int32_t local_spans[LOCAL_SPANS];
    uint8_t local_kinds[LOCAL_SPANS / 2];
    frame *st = local_frames;
    search S;
    int64_t budget, memo_at;
    uint32_t sp, i, slot;
    size_t need, w;
    int32_t rc = RADIX_OK;
    int heap_frames = 0, heap_spans = 0;

    if (!t || (!path && len) || (!out && out_cap)) return RADIX_E_INVALID;
    if (len > RADIX_MAX_PATH_BYTES) return RADIX_E_TOO_LONG;

    S.t = t;
    S.p = (const uint8_t *)(path ? path : "");
    S.n = (int32_t)len;
    S.method_bit = method_bit;
    S.type_bit = type_bit;
    S.best_full = NO_INDEX;
    S.best_partial = NO_INDEX;
    S.spans = local_spans;
    S.span_kind = local_kinds;
    S.n_spans = 0;
    S.memo_lo = NULL;
    S.memo_key = NULL;
    for (i = 0; i < RUN_CLASSES; i++) {
        S.run_from[i] = 1; /* empty interval: nothing cached */
        S.run_to[i] = 0;
    }
    slot = type_bit == 1u ? 1u : type_bit == 2u ? 2u : 0u;

    if ((size_t)t->max_depth + 1 > LOCAL_FRAMES) {
        st = (frame *)malloc(((size_t)t->max_depth + 1) * sizeof(frame));
        if (!st) return RADIX_E_NOMEM;
        heap_frames = 1;
    }
    if (2u * (size_t)t->max_params > LOCAL_SPANS) {
        S.spans = (int32_t *)malloc(2u * (size_t)t->max_params * sizeof(int32_t));
        S.span_kind = (uint8_t *)malloc((size_t)t->max_params);
        if (!S.spans || !S.span_kind) {
            free(S.spans);
            free(S.span_kind);
            if (heap_frames) free(st);
            return RADIX_E_NOMEM;
        }
        heap_spans = 1;
    }

    budget = (int64_t)RADIX_BUDGET_BASE + (int64_t)RADIX_BUDGET_PER_BYTE * (int64_t)len;
    memo_at = budget - MEMO_AFTER_STEPS;
    sp = 1;
    st[0].node = 0;
    st[0].start = 0;
    st[0].pos = 0;
    st[0].aux = 0;
    enter(&S, st, 0);

    while (sp > 0) {
        frame *f = &st[sp - 1];
        const rnode *nd = &t->nodes[f->node];
        const uint32_t *pkids = t->kids + nd->kids_off + nd->n_skids;
        int32_t pc = f->pi < nd->n_pkids ? (int32_t)pkids[f->pi] : -1;
        int32_t c;
        int is_static, tail;
        const rnode *cn;

        if (f->skid >= 0 && (pc < 0 || t->nodes[f->skid].min_idx[0] < t->nodes[pc].min_idx[0])) {
            c = f->skid;
            is_static = 1;
        } else {
            c = pc;
            is_static = 0;
        }
        if (c >= 0 && t->nodes[c].min_idx[0] >= S.best_full) c = -1; /* the rest is no better */

        if (c < 0) {
            /* every kid explored at this end: a parameter node backtracks to its next shorter end */
            if (nd->kind != RADIX_LIT && nd->min_idx[slot] < S.best_full) {
                int32_t e = nd->no_inner ? shorter_end(&S, nd, f->start, f->pos)
                                         : param_prev(nd->kind, S.p, f->start, f->pos, f->aux);
                while (e >= 0 && !admits(t, f->node, S.p, S.n, e)) {
                    if (--budget < 0) goto over_budget;
                    e = param_prev(nd->kind, S.p, f->start, e, f->aux);
                }
                if (--budget < 0) goto over_budget;
                if (e >= 0) {
                    f->pos = e;
                    enter(&S, st, sp - 1);
                    continue;
                }
            }
            sp--;
            continue;
        }

        if (is_static)
            f->skid = -1;
        else
            f->pi++;
        cn = &t->nodes[c];
        if (cn->min_idx[slot] >= S.best_full) continue;
        if (--budget < 0) goto over_budget;

        /* A static frame with nothing left to try is replaced by its kid instead of kept below it: static
         * chains then cost no pops, and the stack only holds frames that can still backtrack. */
        tail = nd->kind == RADIX_LIT && f->skid < 0 && f->pi >= nd->n_pkids;
        if (is_static) {
            frame *g = tail ? f : &st[sp];
            int32_t at = f->pos;
            g->node = (uint32_t)c;
            g->start = at;
            g->pos = at + (int32_t)cn->lab_len;
            g->aux = 0;
            if (!tail) sp++;
            enter(&S, st, sp - 1);
        } else {
            int32_t aux = 0;
            int32_t e = param_first(&S, cn->kind, f->pos, &aux);
            if (!S.memo_lo && budget < memo_at) {
                /* calloc failure only means no memo: the budget still bounds the work */
                S.memo_lo = (int32_t *)calloc(t->n_nodes, sizeof(int32_t));
                S.memo_key = (int32_t *)calloc(t->n_nodes, sizeof(int32_t));
                if (!S.memo_lo || !S.memo_key) {
                    free(S.memo_lo);
                    free(S.memo_key);
                    S.memo_lo = S.memo_key = NULL;
                    memo_at = -1;
                }
            }
            e = explore_from(&S, (uint32_t)c, cn->kind, f->pos, e, aux);
            while (e >= 0 && !admits(t, (uint32_t)c, S.p, S.n, e)) {
                if (--budget < 0) goto over_budget;
                e = cn->no_inner ? shorter_end(&S, cn, f->pos, e) : param_prev(cn->kind, S.p, f->pos, e, aux);
            }
            if (e >= 0) {
                frame *g = tail ? f : &st[sp];
                int32_t at = f->pos;
                g->node = (uint32_t)c;
                g->start = at;
                g->pos = e;
                g->aux = aux;
                if (!tail) sp++;
                enter(&S, st, sp - 1);
            }
        }
    }

    {
        int32_t full = S.best_full == NO_INDEX ? -1 : S.best_full;
        int32_t partial = S.best_partial < S.best_full ? S.best_partial : -1;
        uint32_t n_op = 0, k;
        need = 4;
        for (i = 0; i < t->n_opaque; i++) {
            const ropaque *o = &t->opaque[i];
            if (o->index >= S.best_full) break;
            if (!(o->type_mask & type_bit)) continue;
            if ((int32_t)o->pre_len > S.n || memcmp(t->opaque_pool + o->pre_off, S.p, o->pre_len) != 0) continue;
            if (3u + n_op < out_cap) out[3 + n_op] = o->index;
            n_op++;
        }
        if (full < 0) S.n_spans = 0;
        if (fast && n_op == 0 && partial < 0) {
            if (full < 0) {
                rc = RADIX_NO_MATCH;
                goto done;
            }
            if (3u * (S.n_spans / 2) <= out_cap) {
                /* the common answer: spans (code points) and int values, three slots per parameter */
                cp_cursor cur;
                cp_start(&cur, S.p, S.spans, S.n_spans);
                for (k = 0; k < S.n_spans; k += 2) {
                    int32_t s = S.spans[k], e = S.spans[k + 1], value = 0;
                    if (S.span_kind[k / 2] == RADIX_INT && (value = small_int(S.p, s, e)) < 0) break;
                    out[3 * (k / 2)] = cp_of(&cur, s);
                    out[3 * (k / 2) + 1] = cp_of(&cur, e);
                    out[3 * (k / 2) + 2] = value;
                }
                if (k >= S.n_spans) {
                    rc = full;
                    goto done;
                }
            }
        }
        need += n_op + S.n_spans;
        if (need > out_cap) {
            if (out_cap >= 1) out[0] = (int32_t)need;
            rc = RADIX_E_OUT_SMALL;
            goto done;
        }
        out[0] = full;
        out[1] = partial;
        out[2] = (int32_t)n_op;
        w = 3 + n_op;
        out[w++] = (int32_t)(S.n_spans / 2);
        {
            /* spans are non-decreasing (parameters in template order), so one forward pass converts them */
            cp_cursor cur;
            cp_start(&cur, S.p, S.spans, S.n_spans);
            for (k = 0; k < S.n_spans; k++) out[w++] = cp_of(&cur, S.spans[k]);
        }
        rc = fast ? RADIX_MORE : (int32_t)w;
    }
    goto done;

over_budget:
    rc = RADIX_E_BUDGET;
done:
    free(S.memo_lo);
    free(S.memo_key);
    if (heap_frames) free(st);
    if (heap_spans) {
        free(S.spans);
        free(S.span_kind);
    }
    return rc;
}

int32_t radix_lookup(const radix_tree *t, const char *path, size_t len, uint64_t method_bit, uint32_t type_bit,
                     int32_t *out, size_t out_cap) {
    return lookup_core(t, path, len, method_bit, type_bit, out, out_cap, 0);
}

int32_t radix_find(const radix_tree *t, const char *path, size_t len, uint64_t sel, int32_t *out) {
    const uint32_t type_bit = (uint32_t)(sel & ((1u << RADIX_SEL_TYPE_BITS) - 1u));
    return lookup_core(t, path, len, sel >> RADIX_SEL_TYPE_BITS, type_bit, out, RADIX_FIND_OUT_INTS, 1);
}
