/*
 * ${VAR} and ${VAR:-default} in configuration values, so that one file
 * serves laptops, CI and containers. Errors point at the reference itself.
 */
#include "parley/error.h"
#include "parley/yaml.h"

#include <stdlib.h>
#include <string.h>

/* Column of byte `off` inside a single-line scalar, counted in characters. */
static unsigned ref_column(const pl_yaml_node *n, size_t off)
{
    unsigned col = n->column + (n->plain ? 0 : 1);

    for (size_t i = 0; i < off; i++) {
        if (n->value[i] == '\n')
            return n->column; /* multi-line: the node's start is the best we have */
        if (((unsigned char)n->value[i] & 0xC0) != 0x80)
            col++;
    }
    return col;
}

static int valid_name(const char *s, size_t len)
{
    if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

typedef struct out_buf {
    char *data;
    size_t len, cap;
} out_buf;

static int out_put(out_buf *o, const char *s, size_t n)
{
    if (pl_grow(&o->data, &o->cap, o->len + n + 1, 64) != 0)
        return PL_ENOMEM;
    memcpy(o->data + o->len, s, n);
    o->len += n;
    o->data[o->len] = '\0';
    return 0;
}

static int expand_scalar(pl_yaml_doc *doc, pl_yaml_node *n, pl_diags *diags)
{
    const char *v = n->value;
    out_buf o = {0};
    int bad = 0, rc = 0;
    size_t i = 0;

    if (strchr(v, '$') == NULL)
        return 0;
    while (i < n->len && rc == 0) {
        if (v[i] == '$' && v[i + 1] == '$' && v[i + 2] == '{') {
            rc = out_put(&o, "${", 2);
            i += 3;
            continue;
        }
        if (!(v[i] == '$' && v[i + 1] == '{')) {
            rc = out_put(&o, v + i, 1);
            i++;
            continue;
        }
        const char *start = v + i + 2;
        const char *close = strchr(start, '}');
        const char *dflt = NULL;
        size_t name_len;

        if (close == NULL) {
            pl_diags_add(diags, PL_DIAG_ERROR, doc->file, n->line,
                         ref_column(n, i),
                         "unterminated '${' (write '$${' for a literal '${')");
            bad = 1;
            break;
        }
        dflt = strstr(start, ":-");
        if (dflt != NULL && dflt > close)
            dflt = NULL;
        name_len = (size_t)((dflt ? dflt : close) - start);
        if (!valid_name(start, name_len)) {
            pl_diags_add(diags, PL_DIAG_ERROR, doc->file, n->line,
                         ref_column(n, i),
                         "invalid environment variable reference '%.*s' "
                         "(expected ${NAME} or ${NAME:-default})",
                         (int)(close - (v + i) + 1), v + i);
            bad = 1;
        } else {
            char name[256];
            const char *val;
            if (name_len >= sizeof(name))
                name_len = sizeof(name) - 1;
            memcpy(name, start, name_len);
            name[name_len] = '\0';
            val = getenv(name);
            /* As in the shell, ":-" also replaces a variable set to "". */
            if (val != NULL && (val[0] != '\0' || dflt == NULL))
                rc = out_put(&o, val, strlen(val));
            else if (dflt != NULL)
                rc = out_put(&o, dflt + 2, (size_t)(close - dflt - 2));
            else {
                pl_diags_add(diags, PL_DIAG_ERROR, doc->file, n->line,
                             ref_column(n, i),
                             "environment variable '%s' is not set "
                             "(set it, or give a default: ${%s:-value})",
                             name, name);
                bad = 1;
            }
        }
        i = (size_t)(close - v) + 1;
    }
    if (rc == 0 && !bad) {
        char *copy = pl_arena_strndup(&doc->arena, o.data ? o.data : "", o.len);
        if (copy == NULL)
            rc = PL_ENOMEM;
        else {
            n->value = copy;
            n->len = o.len;
            /* "${X}" expanding to "" is an empty string, not a YAML null. */
            n->plain = 0;
        }
    }
    free(o.data);
    return rc ? rc : bad ? PL_ECONFIG : 0;
}

static int expand_node(pl_yaml_doc *doc, pl_yaml_node *n, pl_diags *diags)
{
    int rc = 0, r;

    if (n->expanded)
        return 0;
    n->expanded = 1;
    switch (n->kind) {
    case PL_YAML_SCALAR:
        return expand_scalar(doc, n, diags);
    case PL_YAML_MAP:
        for (size_t i = 0; i < n->count; i++)
            if ((r = expand_node(doc, n->pairs[i].value, diags)) != 0 && rc == 0)
                rc = r;
        return rc;
    case PL_YAML_SEQ:
        for (size_t i = 0; i < n->count; i++)
            if ((r = expand_node(doc, n->items[i], diags)) != 0 && rc == 0)
                rc = r;
        return rc;
    }
    return 0;
}

int pl_yaml_expand_env(pl_yaml_doc *doc, pl_diags *diags)
{
    if (doc->root == NULL)
        return 0;
    return expand_node(doc, doc->root, diags);
}
