/*
 * Builds a pl_yaml tree from libyaml's document loader, keeping positions,
 * rejecting duplicate keys and multi-document files, and expanding
 * environment references for the configuration file.
 */
#include "parley/yaml.h"
#include "parley/error.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct tree_builder {
    pl_yaml_doc *doc;
    yaml_document_t *ydoc;
    pl_diags *diags;
    pl_yaml_node **built; /* by libyaml node index: aliases share nodes */
    unsigned char *in_progress;
    size_t *weight; /* nodes a consumer visits under each, aliases expanded */
    unsigned depth;
    int failed;
} tree_builder;

/*
 * Consumers walk the tree with aliases expanded, and recursively: bound the
 * nesting, and the expanded size relative to the file (an alias bomb).
 */
#define MAX_DEPTH 64
#define MAX_EXPANSION_FACTOR 10
#define MAX_EXPANSION_FLOOR 100000

static size_t add_weight(size_t a, size_t b)
{
    return a > SIZE_MAX / 4 - b ? SIZE_MAX / 4 : a + b;
}

static pl_yaml_node *build_node(tree_builder *b, int index);

static pl_yaml_node *new_node(tree_builder *b, const yaml_node_t *yn,
                              pl_yaml_kind kind)
{
    pl_yaml_node *n = pl_arena_calloc(&b->doc->arena, 1, sizeof(*n));

    if (n == NULL)
        return NULL;
    n->kind = kind;
    n->line = (unsigned)yn->start_mark.line + 1;
    n->column = (unsigned)yn->start_mark.column + 1;
    n->file = b->doc->file;
    return n;
}

static pl_yaml_node *build_scalar(tree_builder *b, const yaml_node_t *yn)
{
    pl_yaml_node *n = new_node(b, yn, PL_YAML_SCALAR);

    if (n == NULL)
        return NULL;
    n->value = pl_arena_strndup(&b->doc->arena,
                                (const char *)yn->data.scalar.value,
                                yn->data.scalar.length);
    n->len = yn->data.scalar.length;
    n->plain = yn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    return n->value ? n : NULL;
}

static pl_yaml_node *build_seq(tree_builder *b, const yaml_node_t *yn)
{
    pl_yaml_node *n = new_node(b, yn, PL_YAML_SEQ);
    size_t count = (size_t)(yn->data.sequence.items.top -
                            yn->data.sequence.items.start);

    if (n == NULL)
        return NULL;
    n->items = pl_arena_calloc(&b->doc->arena, count ? count : 1,
                               sizeof(*n->items));
    if (n->items == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        int index = yn->data.sequence.items.start[i];
        pl_yaml_node *item = build_node(b, index);
        if (item == NULL)
            return NULL;
        n->items[n->count++] = item;
        b->weight[yn - b->ydoc->nodes.start] =
            add_weight(b->weight[yn - b->ydoc->nodes.start], b->weight[index - 1]);
    }
    return n;
}

static pl_yaml_node *build_map(tree_builder *b, const yaml_node_t *yn)
{
    pl_yaml_node *n = new_node(b, yn, PL_YAML_MAP);
    size_t count = (size_t)(yn->data.mapping.pairs.top -
                            yn->data.mapping.pairs.start);

    if (n == NULL)
        return NULL;
    n->pairs = pl_arena_calloc(&b->doc->arena, count ? count : 1,
                               sizeof(*n->pairs));
    if (n->pairs == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        const yaml_node_pair_t *yp = &yn->data.mapping.pairs.start[i];
        pl_yaml_node *key = build_node(b, yp->key);
        pl_yaml_node *value;

        if (key == NULL)
            return NULL;
        if (key->kind != PL_YAML_SCALAR) {
            pl_diags_add(b->diags, PL_DIAG_ERROR, b->doc->file, key->line,
                         key->column, "mapping keys must be plain text, not %s",
                         pl_yaml_kind_name(key->kind));
            b->failed = 1;
            continue;
        }
        value = build_node(b, yp->value);
        if (value == NULL)
            return NULL;
        b->weight[yn - b->ydoc->nodes.start] =
            add_weight(b->weight[yn - b->ydoc->nodes.start],
                       1 + b->weight[yp->value - 1]);
        {
            const pl_yaml_node *first = NULL;
            for (size_t j = 0; j < n->count && first == NULL; j++)
                if (strcmp(n->pairs[j].key->value, key->value) == 0)
                    first = n->pairs[j].key;
            if (first != NULL) {
                pl_diags_add(b->diags, PL_DIAG_ERROR, b->doc->file, key->line,
                             key->column,
                             "duplicate key '%s' (first set at line %u)",
                             key->value, first->line);
                b->failed = 1;
                continue;
            }
        }
        n->pairs[n->count].key = key;
        n->pairs[n->count].value = value;
        n->count++;
    }
    return n;
}

static pl_yaml_node *build_node(tree_builder *b, int index)
{
    yaml_node_t *yn = yaml_document_get_node(b->ydoc, index);
    pl_yaml_node *n = NULL;
    int slot = index - 1;

    if (yn == NULL)
        return NULL;
    if (b->built[slot] != NULL)
        return b->built[slot];
    if (b->in_progress[slot]) {
        pl_diags_add(b->diags, PL_DIAG_ERROR, b->doc->file,
                     (unsigned)yn->start_mark.line + 1,
                     (unsigned)yn->start_mark.column + 1,
                     "an alias refers to the node that contains it");
        b->failed = 1;
        return NULL;
    }
    if (b->depth >= MAX_DEPTH) {
        pl_diags_add(b->diags, PL_DIAG_ERROR, b->doc->file,
                     (unsigned)yn->start_mark.line + 1,
                     (unsigned)yn->start_mark.column + 1,
                     "nesting deeper than %d levels", MAX_DEPTH);
        b->failed = 1;
        return NULL;
    }
    b->in_progress[slot] = 1;
    b->weight[slot] = 1;
    b->depth++;
    switch (yn->type) {
    case YAML_SCALAR_NODE:
        n = build_scalar(b, yn);
        break;
    case YAML_SEQUENCE_NODE:
        n = build_seq(b, yn);
        break;
    case YAML_MAPPING_NODE:
        n = build_map(b, yn);
        break;
    default:
        break;
    }
    b->depth--;
    b->in_progress[slot] = 0;
    b->built[slot] = n;
    return n;
}

static void report_parser_error(const yaml_parser_t *p, const char *file,
                                pl_diags *diags)
{
    const yaml_mark_t *m = &p->problem_mark;
    const char *what = p->error == YAML_SCANNER_ERROR  ? "YAML syntax error"
                       : p->error == YAML_PARSER_ERROR ? "YAML structure error"
                       : p->error == YAML_READER_ERROR ? "unreadable text"
                                                       : "YAML error";

    if (p->error == YAML_READER_ERROR) {
        /* The reader reports a byte offset, not a line. */
        pl_diags_add(diags, PL_DIAG_ERROR, file, 0, 0,
                     "%s: %s at byte %zu", what,
                     p->problem ? p->problem : "unknown problem",
                     p->problem_offset);
        return;
    }
    if (p->context != NULL)
        pl_diags_add(diags, PL_DIAG_ERROR, file, (unsigned)m->line + 1,
                     (unsigned)m->column + 1, "%s: %s %s (line %u)", what,
                     p->problem ? p->problem : "unknown problem", p->context,
                     (unsigned)p->context_mark.line + 1);
    else
        pl_diags_add(diags, PL_DIAG_ERROR, file, (unsigned)m->line + 1,
                     (unsigned)m->column + 1, "%s: %s", what,
                     p->problem ? p->problem : "unknown problem");
}

int pl_yaml_load_string(pl_yaml_doc *doc, const char *name, const char *text,
                        size_t len, pl_diags *diags)
{
    yaml_parser_t parser;
    yaml_document_t ydoc, extra;
    tree_builder b = {0};
    int rc = 0;
    size_t nodes;

    pl_arena_init(&doc->arena, 0);
    doc->root = NULL;
    doc->file = pl_arena_strdup(&doc->arena, name ? name : "<input>");
    if (doc->file == NULL)
        return PL_ENOMEM;
    if (len > PL_YAML_MAX_BYTES) {
        pl_diags_add(diags, PL_DIAG_ERROR, doc->file, 0, 0,
                     "file is larger than %u bytes", PL_YAML_MAX_BYTES);
        return PL_ELIMIT;
    }
    if (!yaml_parser_initialize(&parser))
        return PL_ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &ydoc)) {
        report_parser_error(&parser, doc->file, diags);
        yaml_parser_delete(&parser);
        return PL_ESYNTAX;
    }
    nodes = (size_t)(ydoc.nodes.top - ydoc.nodes.start);
    if (nodes > 0) {
        /* A second document is almost always a stray '---'; say so. */
        if (!yaml_parser_load(&parser, &extra)) {
            report_parser_error(&parser, doc->file, diags);
            rc = PL_ESYNTAX;
        } else {
            if (yaml_document_get_root_node(&extra) != NULL) {
                pl_diags_add(diags, PL_DIAG_ERROR, doc->file,
                             (unsigned)extra.start_mark.line + 1,
                             (unsigned)extra.start_mark.column + 1,
                             "only one YAML document is allowed per file");
                rc = PL_ESYNTAX;
            }
            yaml_document_delete(&extra);
        }
        b.doc = doc;
        b.ydoc = &ydoc;
        b.diags = diags;
        b.built = calloc(nodes, sizeof(*b.built));
        b.in_progress = calloc(nodes, 1);
        b.weight = calloc(nodes, sizeof(*b.weight));
        if (b.built == NULL || b.in_progress == NULL || b.weight == NULL) {
            rc = PL_ENOMEM;
        } else {
            doc->root = build_node(&b, 1);
            if (doc->root == NULL && !b.failed)
                rc = PL_ENOMEM;
            if (doc->root != NULL &&
                b.weight[0] > MAX_EXPANSION_FLOOR + MAX_EXPANSION_FACTOR * nodes) {
                pl_diags_add(diags, PL_DIAG_ERROR, doc->file, doc->root->line,
                             doc->root->column,
                             "aliases expand this document to more than %zu "
                             "nodes (%zu written); use fewer nested aliases",
                             (size_t)MAX_EXPANSION_FLOOR +
                                 MAX_EXPANSION_FACTOR * nodes,
                             nodes);
                doc->root = NULL;
                b.failed = 1;
            }
            if (b.failed)
                rc = PL_ESYNTAX;
        }
        free(b.built);
        free(b.in_progress);
        free(b.weight);
    }
    yaml_document_delete(&ydoc);
    yaml_parser_delete(&parser);
    return rc;
}

int pl_yaml_load_file(pl_yaml_doc *doc, const char *path, pl_diags *diags)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc;

    if (f == NULL) {
        int e = errno;
        pl_arena_init(&doc->arena, 0);
        doc->root = NULL;
        doc->file = NULL;
        pl_diags_add(diags, PL_DIAG_ERROR, path, 0, 0, "cannot open: %s",
                     strerror(e));
        return e == ENOENT ? PL_ENOENT : PL_EIO;
    }
    for (;;) {
        if (len == cap) {
            char *nb;
            if (cap > PL_YAML_MAX_BYTES)
                break;
            cap = cap ? cap * 2 : 8192;
            nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                pl_arena_init(&doc->arena, 0);
                doc->root = NULL;
                doc->file = NULL;
                return PL_ENOMEM;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        pl_diags_add(diags, PL_DIAG_ERROR, path, 0, 0, "read error");
        free(buf);
        fclose(f);
        pl_arena_init(&doc->arena, 0);
        doc->root = NULL;
        doc->file = NULL;
        return PL_EIO;
    }
    fclose(f);
    rc = pl_yaml_load_string(doc, path, buf ? buf : "", len, diags);
    free(buf);
    return rc;
}

void pl_yaml_doc_free(pl_yaml_doc *doc)
{
    pl_arena_free(&doc->arena);
    doc->root = NULL;
    doc->file = NULL;
}

pl_yaml_node *pl_yaml_map_get(const pl_yaml_node *map, const char *key)
{
    if (map == NULL || map->kind != PL_YAML_MAP)
        return NULL;
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->pairs[i].key->value, key) == 0)
            return map->pairs[i].value;
    return NULL;
}

int pl_yaml_is_null(const pl_yaml_node *node)
{
    if (node == NULL)
        return 1;
    if (node->kind != PL_YAML_SCALAR || !node->plain)
        return 0;
    return node->len == 0 || strcmp(node->value, "~") == 0 ||
           strcmp(node->value, "null") == 0 ||
           strcmp(node->value, "Null") == 0 ||
           strcmp(node->value, "NULL") == 0;
}

const char *pl_yaml_kind_name(pl_yaml_kind kind)
{
    switch (kind) {
    case PL_YAML_MAP:
        return "a mapping";
    case PL_YAML_SEQ:
        return "a sequence";
    default:
        return "a scalar";
    }
}
