/*
 * Record and replay for deterministic integration tests. `record` appends
 * one JSON line per answered request ({"key","model","system","user",
 * "content"}); `replay` loads such a file and answers by key, the SHA-256
 * of the system and user messages, so the same input always gets the same
 * answer and a missing entry is named in the failure.
 */
#include "translate_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct replay_entry {
    char key[65];
    size_t line;
    char *content;
} replay_entry;

struct pl__replay {
    replay_entry *items;
    size_t count;
};

static int entry_cmp(const void *a, const void *b)
{
    const replay_entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    if (c != 0)
        return c;
    return x->line < y->line ? -1 : x->line > y->line;
}

int pl__replay_load(const char *path, pl__replay **out, pl_error *err)
{
    FILE *f = fopen(path, "r");
    pl__replay *r;
    char *line = NULL;
    size_t cap = 0, lineno = 0, kept = 0;
    ssize_t n;
    int rc = 0;

    *out = NULL;
    if (f == NULL)
        return pl_error_set(err, PL_EIO, "cannot read the replay file '%s': %s",
                            path, strerror(errno));
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        fclose(f);
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    }
    while ((n = getline(&line, &cap, f)) >= 0) {
        cJSON *doc, *key, *content;
        replay_entry *items;
        lineno++;
        if (n == 0 || line[0] == '\n')
            continue;
        doc = cJSON_Parse(line);
        key = doc ? cJSON_GetObjectItemCaseSensitive(doc, "key") : NULL;
        content = doc ? cJSON_GetObjectItemCaseSensitive(doc, "content") : NULL;
        if (!cJSON_IsString(key) || strlen(key->valuestring) != 64 ||
            !cJSON_IsString(content)) {
            cJSON_Delete(doc);
            rc = pl_error_set(err, PL_EIO,
                              "%s:%zu: not a recorded pair (a JSON object with "
                              "'key' and 'content')",
                              path, lineno);
            goto fail;
        }
        items = realloc(r->items, (r->count + 1) * sizeof(*items));
        if (items == NULL) {
            cJSON_Delete(doc);
            rc = pl_error_set(err, PL_ENOMEM, "out of memory");
            goto fail;
        }
        r->items = items;
        memcpy(items[r->count].key, key->valuestring, 65);
        items[r->count].line = lineno;
        items[r->count].content = strdup(content->valuestring);
        cJSON_Delete(doc);
        if (items[r->count].content == NULL) {
            rc = pl_error_set(err, PL_ENOMEM, "out of memory");
            goto fail;
        }
        r->count++;
    }
    free(line);
    line = NULL;
    fclose(f);
    f = NULL;
    /* A key recorded twice answers with its last recording. */
    if (r->count > 1)
        qsort(r->items, r->count, sizeof(replay_entry), entry_cmp);
    for (size_t i = 0; i < r->count; i++) {
        if (i + 1 < r->count && strcmp(r->items[i].key, r->items[i + 1].key) == 0) {
            free(r->items[i].content);
            continue;
        }
        r->items[kept++] = r->items[i];
    }
    r->count = kept;
    *out = r;
    return 0;

fail:
    free(line);
    if (f != NULL)
        fclose(f);
    pl__replay_free(r);
    return rc;
}

const char *pl__replay_find(const pl__replay *r, const char *key)
{
    size_t lo = 0, hi = r->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->items[mid].key, key);
        if (c == 0)
            return r->items[mid].content;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void pl__replay_free(pl__replay *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->count; i++)
        free(r->items[i].content);
    free(r->items);
    free(r);
}

int pl__record_append(FILE *f, const char *key, const char *model,
                      const char *system, const char *user, const char *content)
{
    cJSON *doc = cJSON_CreateObject();
    char *line;
    size_t n;
    int rc = 0;

    if (doc == NULL)
        return PL_ENOMEM;
    cJSON_AddStringToObject(doc, "key", key);
    cJSON_AddStringToObject(doc, "model", model ? model : "");
    cJSON_AddStringToObject(doc, "system", system);
    cJSON_AddStringToObject(doc, "user", user);
    cJSON_AddStringToObject(doc, "content", content);
    line = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (line == NULL)
        return PL_ENOMEM;
    n = strlen(line);
    line[n] = '\n';
    /* One write per line on an O_APPEND stream keeps lines whole. */
    if (fwrite(line, 1, n + 1, f) != n + 1 || fflush(f) != 0)
        rc = PL_EIO;
    free(line);
    return rc;
}
