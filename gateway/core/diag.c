/*
 * Diagnostic lists and typo suggestions for configuration and policy files.
 */
#include "parley/diag.h"
#include "parley/error.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void pl_diags_init(pl_diags *d) { memset(d, 0, sizeof(*d)); }

void pl_diags_free(pl_diags *d)
{
    for (size_t i = 0; i < d->count; i++) {
        free(d->items[i].file);
        free(d->items[i].message);
    }
    free(d->items);
    pl_diags_init(d);
}

int pl_diags_add(pl_diags *d, pl_diag_severity severity, const char *file,
                 unsigned line, unsigned column, const char *fmt, ...)
{
    va_list ap;
    pl_diag *it;
    char *msg = NULL, *fcopy = NULL;
    int n;

    if (severity == PL_DIAG_ERROR)
        d->errors++;
    else
        d->warnings++;
    if (d->count >= PL_DIAGS_MAX)
        goto drop;
    if (d->count == d->capacity) {
        size_t cap = d->capacity ? d->capacity * 2 : 16;
        pl_diag *items = realloc(d->items, cap * sizeof(*items));
        if (items == NULL)
            goto drop;
        d->items = items;
        d->capacity = cap;
    }
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (msg = malloc((size_t)n + 1)) == NULL)
        goto drop;
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (file != NULL && (fcopy = strdup(file)) == NULL)
        goto drop;
    it = &d->items[d->count++];
    it->severity = severity;
    it->file = fcopy;
    it->line = line;
    it->column = column;
    it->message = msg;
    return 0;

drop:
    free(msg);
    free(fcopy);
    d->dropped++;
    return PL_ENOMEM;
}

static int diag_cmp(const pl_diag *a, const pl_diag *b)
{
    int c = strcmp(a->file ? a->file : "", b->file ? b->file : "");

    if (c != 0)
        return c;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return (a->column > b->column) - (a->column < b->column);
}

void pl_diags_sort(pl_diags *d)
{
    /* Insertion sort: stable, and lists are at most PL_DIAGS_MAX long. */
    for (size_t i = 1; i < d->count; i++) {
        pl_diag it = d->items[i];
        size_t j = i;
        while (j > 0 && diag_cmp(&d->items[j - 1], &it) > 0) {
            d->items[j] = d->items[j - 1];
            j--;
        }
        d->items[j] = it;
    }
}

void pl_diags_print(const pl_diags *d, FILE *out, int with_severity)
{
    for (size_t i = 0; i < d->count; i++) {
        const pl_diag *it = &d->items[i];
        const char *sev = !with_severity ? ""
                          : it->severity == PL_DIAG_ERROR ? "error: "
                                                          : "warning: ";
        if (it->file && it->line)
            fprintf(out, "%s:%u:%u: %s%s\n", it->file, it->line, it->column,
                    sev, it->message);
        else if (it->file)
            fprintf(out, "%s: %s%s\n", it->file, sev, it->message);
        else
            fprintf(out, "%s%s\n", sev, it->message);
    }
    if (d->dropped)
        fprintf(out, "(%zu more not shown)\n", d->dropped);
}

size_t pl_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    /* Keys are short; longer inputs are not worth a suggestion anyway. */
    enum { MAXLEN = 64 };
    size_t d[MAXLEN + 1][MAXLEN + 1];

    if (la > MAXLEN || lb > MAXLEN)
        return la > lb ? la : lb;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]);
            int cb = tolower((unsigned char)b[j - 1]);
            size_t cost = ca != cb;
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *pl_suggest(const char *word, const char *const *candidates)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    size_t len = strlen(word);
    /* One edit for short words, about a third of the length for longer. */
    size_t allowed = len <= 4 ? 1 : len / 3 + 1;

    for (; *candidates; candidates++) {
        size_t dist = pl_edit_distance(word, *candidates);
        if (dist < best_d) {
            best_d = dist;
            best = *candidates;
        }
    }
    /* A key differing only in case is worth pointing out too. */
    return best_d <= allowed && strcmp(word, best) != 0 ? best : NULL;
}
